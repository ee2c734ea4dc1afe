"""The ``stuf-zds`` sink: each form submission as a zaak with its initiator and its documents in
a zaaksysteem that speaks StUF-ZDS 1.2 over SOAP 1.1. The I/O is here; what is sent is
messages.py's, what is read soap.py's."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import orjson

from connectors.sdk import (
    Delivered,
    HeaderAuth,
    Health,
    HttpError,
    NoAuth,
    Permanent,
    Retryable,
    SecretMissingError,
)
from connectors.sdk.dates import dutch_day
from connectors.sdk.http import failure_for_exception
from connectors.stuf_zds.config import BasicAuth
from connectors.stuf_zds.messages import (
    SOAP_ACTIONS,
    Document,
    Initiator,
    MessageError,
    Stuurgegevens,
    Zaak,
    creeer_zaak,
    genereer_identificatie,
    voeg_zaakdocument_toe,
)
from connectors.stuf_zds.soap import Answer, failure_for_fault, failure_for_http, read_answer
from contracts.errors import ContractError
from contracts.events import payload_as
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.sdk import ConnectorContext, Delivery, Failure, Outcome
    from connectors.stuf_zds.config import StufZdsConfig
    from connectors.stuf_zds.messages import Operation

__all__ = ["StufZdsSink", "build"]

SUBMISSION = contract_for("nl.gemeente.formulier.ingediend", 2)  # v1 events are upcast to it
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # StUF times are Dutch local time
_TAAL = {"nl": "dut", "en": "eng", "de": "ger", "fr": "fre", "fy": "fry", "es": "spa"}
_SERVICE: dict[str, Literal["ontvang_asynchroon", "vrije_berichten"]] = {
    "genereerZaakIdentificatie_Di02": "vrije_berichten",
    "genereerDocumentIdentificatie_Di02": "vrije_berichten",
    "creeerZaak_Lk01": "ontvang_asynchroon",
    "voegZaakdocumentToe_Lk01": "ontvang_asynchroon",
}


class _StepFailedError(Exception):
    """A step's failure, carried out of the step to ``deliver`` (never leaves the sink)."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure


class StufZdsSink:
    """A ``Sink`` that makes, per submission: a zaak of the configured zaaktype with its
    initiator (creeerZaak_Lk01), a document with the submission's data and one per attachment
    (voegZaakdocumentToe_Lk01), each with an identificatie from the zaaksysteem
    (genereer…Identificatie_Di02) or, with ``identificaties: hub``, from the delivery's step key.

    Each identificatie and each step done is kept in ``Retryable.progress``, so a later attempt
    makes nothing twice; a zaak or document the zaaksysteem already has (one of the
    ``already_exists_codes``: an earlier attempt made it but its answer was lost) counts as done.
    Answers classify as soap.py says. It never retries or sleeps, and logs nothing.
    """

    max_in_flight = 4  # a SOAP zaaksysteem is slow; its supplier's host serves many tenants

    def __init__(self, config: StufZdsConfig, context: ConnectorContext) -> None:
        self.config = config
        self._context = context
        self._where = f"tenant {context.tenant.id}, destination {context.destination}"
        auth = config.auth if isinstance(config.auth, NoAuth | HeaderAuth) else None
        self._client = context.http.client(auth=auth, tls=config.tls, timeout_s=config.timeout_s)
        self._zender = config.zender
        if config.zender.organisatie is None:  # the tenant's gemeentecode by default
            self._zender = config.zender.model_copy(update={"organisatie": context.tenant.id})

    def _secret_setting(self) -> tuple[str, str] | None:
        auth = self.config.auth
        if isinstance(auth, BasicAuth):
            return "auth.password_env", auth.password_env
        if isinstance(auth, HeaderAuth):
            return "auth.value_env", auth.value_env
        return None

    async def open(self) -> None:
        """Check that the credentials' environment variable is set: SecretMissingError naming
        tenant, destination and setting otherwise. Nothing is sent: a zaaksysteem that does not
        answer must not stop the hub; deliveries fail with the cause until it does."""
        setting = self._secret_setting()
        if setting is not None:
            try:
                self._context.secrets.get(setting[1])
            except SecretMissingError as exc:
                raise SecretMissingError(f"{self._where}: {setting[0]}: {exc}") from None

    # --- one message, classified --------------------------------------------------------------

    def _stuurgegevens(self) -> Stuurgegevens:
        now = datetime.now(AMSTERDAM)
        return Stuurgegevens(self._zender, self.config.ontvanger, str(uuid.uuid4()), now)

    def _headers(self, operation: Operation) -> dict[str, str]:
        headers = {
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{SOAP_ACTIONS[operation]}"',  # a quoted URI (SOAP 1.1 §6.1.1)
        }
        auth = self.config.auth
        if isinstance(auth, BasicAuth):
            secret = self._context.secrets.get(auth.password_env)
            token = base64.b64encode(f"{auth.username}:{secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {token}"
        return headers

    async def _send(self, operation: Operation, stuur: Stuurgegevens, body: bytes) -> Answer:
        """The positive answer to ``body``; raises _StepFailedError with the classified failure
        (a refusal whose foutcode is one of ``already_exists_codes`` included: the caller
        decides what that means)."""
        url = self.config.service_url(_SERVICE[operation])
        try:
            response = await self._client.post(url, body=body, headers=self._headers(operation))
        except SecretMissingError as exc:
            setting = (self._secret_setting() or ("auth", ""))[0]
            raise _StepFailedError(Permanent(f"{exc} ({setting})")) from None
        except HttpError as exc:
            reason = failure_for_exception(exc).reason
            raise _StepFailedError(Retryable(f"{operation}: {reason}")) from None
        try:
            answer = read_answer(response.body)
        except ValueError:
            failure = failure_for_http(operation, response.status, response.headers)
            raise _StepFailedError(failure) from None
        if not isinstance(answer, Answer):
            raise _RefusedError(answer.code, failure_for_fault(operation, answer))
        if not 200 <= response.status < 300:
            failure = failure_for_http(operation, response.status, response.headers)
            raise _StepFailedError(failure)
        expected = "Du02" if operation.endswith("_Di02") else "Bv03"
        if answer.berichtcode != expected:
            raise _StepFailedError(
                Retryable(f"{operation}: answered {answer.berichtcode or 'no berichtcode'}")
            )
        if answer.crossref is not None and answer.crossref != stuur.referentienummer:
            raise _StepFailedError(Retryable(f"{operation}: the answer is to another message"))
        return answer

    # --- the steps ----------------------------------------------------------------------------

    async def _identificatie(
        self, delivery: Delivery, kind: Literal["zaak", "document"], step: str, done: dict[str, str]
    ) -> str:
        """The identificatie of ``step``: kept from an earlier attempt, made from the step key
        (``identificaties: hub``), or asked of the zaaksysteem and kept in ``done``."""
        kept = done.get(f"{step}:id")
        if kept is not None:
            return kept
        if self.config.identificaties == "hub":
            return f"{self.config.identificatie_prefix}{uuid.UUID(delivery.step_key(step)).hex}"
        name = "Zaak" if kind == "zaak" else "Document"
        operation: Operation = f"genereer{name}Identificatie_Di02"  # type: ignore[assignment]
        stuur = self._stuurgegevens()
        answer = await self._send(operation, stuur, genereer_identificatie(kind, stuur))
        made = answer.identificatie
        if made is None or not (5 if kind == "zaak" else 1) <= len(made) <= 40:
            raise _StepFailedError(Permanent(f"{operation}: the Du02 holds no valid identificatie"))
        done[f"{step}:id"] = made
        return made

    async def _kennisgeving(self, operation: Operation, build: Any) -> None:
        """Send the Lk01 ``build(stuurgegevens)`` makes; a refusal naming one of
        ``already_exists_codes`` counts as taken."""
        stuur = self._stuurgegevens()
        try:
            await self._send(operation, stuur, build(stuur))
        except _RefusedError as refused:
            if refused.code not in self.config.already_exists_codes:
                raise _StepFailedError(refused.failure) from None

    async def _zaak(
        self, delivery: Delivery, submission: dict[str, Any], done: dict[str, str]
    ) -> str:
        ident = await self._identificatie(delivery, "zaak", "zaak", done)
        if "zaak" in done:
            return ident
        zaak = Zaak(
            identificatie=ident,
            omschrijving=str(submission["form"]["name"]),
            kenmerk=str(submission["reference"]),
            startdatum=_submitted(submission),
            registratiedatum=datetime.now(AMSTERDAM).date(),
            betalingsindicatie=_betaling(submission.get("payment")),
            zaaktype_code=self.config.zaaktype_code,
            zaaktype_omschrijving=self.config.zaaktype_omschrijving,
            initiator=_initiator(submission["authentication"].get("legal_subject")),
        )
        await self._kennisgeving("creeerZaak_Lk01", lambda stuur: creeer_zaak(stuur, zaak))
        done["zaak"] = ident
        return ident

    async def _document(
        self,
        delivery: Delivery,
        step: str,
        zaak: str,
        content: tuple[str, str, str, bytes],
        submission: dict[str, Any],
        done: dict[str, str],
    ) -> None:
        if step in done:
            return
        ident = await self._identificatie(delivery, "document", step, done)
        documenttype, titel, formaat, inhoud = content
        document = Document(
            identificatie=ident,
            documenttype=documenttype,
            datum=_submitted(submission),
            titel=titel,
            bestandsnaam=titel,
            formaat=formaat,
            taal=_TAAL.get(str(submission.get("language") or "nl"), "dut"),
            vertrouwelijkheid=self.config.vertrouwelijkheid,
            auteur=self.config.auteur,
            inhoud=inhoud,
            zaak=zaak,
        )
        await self._kennisgeving(
            "voegZaakdocumentToe_Lk01", lambda stuur: voeg_zaakdocument_toe(stuur, document)
        )
        done[step] = ident

    async def _content(self, number: int, attachment: dict[str, Any]) -> bytes:
        """The attachment's bytes: inline, else from the hub's store, checked against sha256."""
        step = f"bijlage {number}"
        inline = attachment.get("inline_base64")
        try:
            if inline is None:
                return await self._context.read_attachment(
                    str(attachment["url"]), str(attachment["sha256"])
                )
            content = base64.b64decode(str(inline), validate=True)
        except LookupError:
            raise _StepFailedError(Permanent(f"{step}: the hub does not have it")) from None
        except (ValueError, binascii.Error):
            raise _StepFailedError(Permanent(f"{step}: it does not match its sha256")) from None
        except Exception as exc:  # the hub's store (a folder, S3) did not answer
            raise _StepFailedError(
                Retryable(f"{step}: attachment store unavailable: {type(exc).__name__}")
            ) from None
        if hashlib.sha256(content).hexdigest() != attachment["sha256"]:
            raise _StepFailedError(Permanent(f"{step}: it does not match its sha256"))
        return content

    async def _steps(
        self, delivery: Delivery, submission: dict[str, Any], done: dict[str, str]
    ) -> None:
        """Make what ``done`` does not name yet, recording each identificatie and step in it."""
        if "zaak" not in done:  # every attachment readable, or nothing is made
            try:
                missing = await self._context.missing_attachments(submission["attachments"])
            except Exception as exc:  # the hub's store (a folder, S3) did not answer
                raise _StepFailedError(
                    Retryable(f"bijlagen: attachment store unavailable: {type(exc).__name__}")
                ) from None
            if missing:
                numbers = ", ".join(str(n) for n in missing)
                raise _StepFailedError(
                    Permanent(f"bijlage {numbers}: the hub does not have it; nothing was made")
                )
        zaak = await self._zaak(delivery, submission, done)
        data = (
            self.config.documenttype,
            f"{submission['reference']}.json",
            "application/json",
            _submission_data(submission),
        )
        await self._document(delivery, "inzending", zaak, data, submission, done)
        bijlagen = self.config.bijlage_documenttype or self.config.documenttype
        for number, attachment in enumerate(submission["attachments"], 1):
            if f"bijlage:{number}" in done:
                continue
            content = (
                bijlagen,
                str(attachment["name"]),
                str(attachment["content_type"]),
                await self._content(number, attachment),
            )
            await self._document(delivery, f"bijlage:{number}", zaak, content, submission, done)

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            submission = payload_as(delivery.event, SUBMISSION)
        except ContractError as exc:
            return Permanent(f"cannot read the submission: {exc.field or 'payload'} is invalid")
        done = dict(delivery.progress)
        try:
            await self._steps(delivery, submission, done)
        except _StepFailedError as exc:
            return _with_progress(exc.failure, done)
        except MessageError as exc:  # a defect of this sink, never the zaaksysteem's
            return Permanent(f"the message breaks the StUF-ZDS schema: {exc}")
        return Delivered({k: v for k, v in done.items() if not k.endswith(":id")})

    async def check(self) -> Health:
        """OPTIONS on each service URL: any HTTP answer means the zaaksysteem is reachable
        (and the TLS handshake, with the client certificate, went through). Sends no StUF
        message: a genereer…Identificatie_Di02 would use up an identificatie."""
        urls = dict.fromkeys(
            self.config.service_url(s) for s in ("ontvang_asynchroon", "vrije_berichten")
        )
        statuses = []
        for url in urls:
            try:
                response = await self._client.options(url)
            except (HttpError, SecretMissingError) as exc:
                return Health(
                    ok=False, detail=f"{self.config.endpoints.url.host}: {type(exc).__name__}"
                )
            statuses.append(str(response.status))
        return Health(
            ok=True, detail=f"{self.config.endpoints.url.host} answered {', '.join(statuses)}"
        )

    async def close(self) -> None:
        """Close the HTTP client and its connections; the sink is not used afterwards."""
        await self._client.aclose()


class _RefusedError(_StepFailedError):
    """A StUF refusal (a Fo-bericht or SOAP fault), with its foutcode."""

    def __init__(self, code: str | None, failure: Failure) -> None:
        super().__init__(failure)
        self.code = code


def _submitted(submission: dict[str, Any]) -> date:
    """The Dutch day the form was submitted (connectors.sdk.dates): the zaak's startdatum and
    the documents' creatiedatum, the same on every attempt."""
    return dutch_day(str(submission["submitted_at"]))


def _betaling(payment: dict[str, Any] | None) -> str | None:
    """ZKN betalingsIndicatie for the submission's payment; None without one."""
    if payment is None:
        return None
    if not payment.get("required"):
        return "N.v.t."
    return "Geheel" if payment.get("completed") else "(Nog) niet"


def _initiator(subject: dict[str, Any] | None) -> Initiator | None:
    """The initiator for the legal subject (v2 ``{type, value}``); None for no one or a
    pseudonym (eIDAS without BSN), which StUF-BG cannot name."""
    if subject is None or subject.get("type") not in ("bsn", "rsin", "kvk"):
        return None
    return Initiator(subject["type"], str(subject["value"]))


def _submission_data(submission: dict[str, Any]) -> bytes:
    """The submission's data as the back office reads it: reference, form, time, language,
    answers and payment (the initiator travels in the zaak; attachments are their own)."""
    kept = ("reference", "form", "submitted_at", "language", "values", "payment")
    return orjson.dumps({k: submission.get(k) for k in kept}, option=orjson.OPT_INDENT_2)


def _with_progress(failure: Failure, done: dict[str, str]) -> Failure:
    """``failure`` carrying what was done so far (Retryable and Throttled carry progress): else
    a next attempt would ask for new identificaties and make a second zaak. What does not fit in
    the progress header is left out, the documents' first."""
    if isinstance(failure, Permanent) or not done:
        return failure
    zaak_only = {k: v for k, v in done.items() if k.startswith("zaak")}
    for kept in (done, zaak_only, {}):
        try:
            return replace(failure, progress=kept)
        except ValueError:
            continue
    return failure


def build(config: StufZdsConfig, context: ConnectorContext) -> StufZdsSink:
    """The factory named in the connector's SPEC."""
    return StufZdsSink(config, context)
