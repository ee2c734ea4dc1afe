"""The ``zgw`` sink: each form submission as a zaak with its initiator rol and one document per
attachment in a zaaksysteem's ZGW APIs (Open Zaak, OneGround). The I/O is here; what is sent
and read is api.py's."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from connectors.sdk import (
    Delivered,
    Health,
    HttpError,
    HttpResponse,
    Permanent,
    Retryable,
    SecretMissingError,
    Throttled,
)
from connectors.sdk.dates import dutch_day
from connectors.sdk.http import failure_for_exception, failure_for_status, invalid_params
from connectors.zgw.api import (
    CRS,
    document_body,
    identificatie,
    in_force,
    initiator_rol,
    listed,
    made_url,
    multipart_form,
    rol_body,
    submission_file,
    zaak_body,
)
from contracts.errors import ContractError
from contracts.events import payload_as
from contracts.registry import contract_for

if TYPE_CHECKING:
    from connectors.sdk import ConnectorContext, Delivery, Failure, Outcome
    from connectors.zgw.config import ZgwConfig

__all__ = ["ZgwSink", "build"]

SUBMISSION = contract_for("nl.gemeente.formulier.ingediend", 2)  # v1 events are upcast to it
_ZAAK_CRS = {"Accept-Crs": CRS, "Content-Crs": CRS}


@dataclass(frozen=True)
class _Types:
    """What the Catalogi API said on ``day``, kept until the day changes: the zaaktype in force
    and its initiator roltype (None when it has none)."""

    day: date
    zaaktype: str
    roltype: str | None


class _StepFailedError(Exception):
    """A step's failure, carried out of the step to ``deliver`` (never leaves the sink)."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure


class ZgwSink:
    """A ``Sink`` that makes, per submission: a Zaak of the configured zaaktype, the initiator
    Rol for the legal subject, and per attachment an EnkelvoudigInformatieObject linked to the
    zaak by a ZaakInformatieObject.

    Every step first looks for what an earlier attempt made, so a redelivery after an
    interruption (even after a lost answer) makes nothing twice: the zaak and each document by
    the identificatie the hub gives them (prefix + the delivery's step key), the rol by zaak,
    betrokkeneType and omschrijvingGeneriek ``initiator``, the link by zaak and informatieobject.
    What is done travels in ``Retryable.progress`` too, so a later attempt skips those lookups.
    Answers classify as connectors.sdk.http says (5xx and no answer Retryable, 429 Throttled,
    other 4xx Permanent naming the step, the status and the refused fields). It never retries
    or sleeps, and logs nothing.
    """

    max_in_flight = 8

    def __init__(self, config: ZgwConfig, context: ConnectorContext) -> None:
        self.config = config
        self._context = context
        self._rsin = context.tenant.rsin
        self._where = f"tenant {context.tenant.id}, destination {context.destination}"
        headers = {"Accept": "application/json"}
        self._client = context.http.client(
            auth=config.auth, timeout_s=config.timeout_s, headers=headers
        )
        self._zaken = str(config.zaken_api).rstrip("/")
        self._catalogi = str(config.catalogi_api).rstrip("/")
        self._documenten = str(config.documenten_api).rstrip("/")
        self._types: _Types | None = None
        self._types_lock = asyncio.Lock()

    # --- HTTP, classified --------------------------------------------------------------------

    async def _call(
        self,
        step: str,
        method: str,
        url: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> HttpResponse:
        """The 2xx answer; raises _StepFailedError with the classified failure, its reason naming
        ``step`` (and, for a refusal, the fields the API refused, never their values). ``raw``:
        a body already encoded, its Content-Type in ``headers``."""
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/json"
            raw = orjson.dumps(body)
        try:
            response = await self._client.request(method, url, body=raw, headers=sent)
        except SecretMissingError as exc:
            raise _StepFailedError(Permanent(f"{exc} (auth.secret_env)")) from None
        except HttpError as exc:
            reason = failure_for_exception(exc).reason
            raise _StepFailedError(Retryable(f"{step}: {reason}")) from None
        failure = failure_for_status(response.status, response.headers, datetime.now(UTC))
        if failure is None:
            return response
        if isinstance(failure, Throttled):
            raise _StepFailedError(failure)
        if isinstance(failure, Retryable):
            raise _StepFailedError(
                Retryable(f"{step}: {failure.reason}", failure.code, failure.retry_after_s)
            )
        refused = invalid_params(response)
        reason = f"{step}: {failure.reason}" + (f" ({refused})" if refused else "")
        raise _StepFailedError(Permanent(reason, failure.code))

    async def _first(
        self, step: str, url: str, headers: dict[str, str] | None = None
    ) -> str | None:
        """The url of the first object a list lookup finds, None when it finds none."""
        found = await self._call(step, "GET", url, headers=headers)
        try:
            results = listed(found)
            return _listed_url(results[0]) if results else None
        except ValueError as exc:
            raise _StepFailedError(Permanent(f"{step}: lookup: {exc}")) from None

    async def _made(self, step: str, url: str, body: dict[str, Any], **headers: str) -> str:
        created = await self._call(step, "POST", url, body, headers or None)
        try:
            return made_url(created)
        except ValueError as exc:
            raise _StepFailedError(Permanent(f"{step}: {exc}")) from None

    # --- Catalogi ----------------------------------------------------------------------------

    async def _lookup_types(self, today: date) -> _Types:
        query = {"identificatie": self.config.zaaktype, "status": "definitief"}
        if self.config.catalogus is not None:
            query["catalogus"] = str(self.config.catalogus)
        found = await self._call(
            "zaaktype", "GET", f"{self._catalogi}/zaaktypen?{urlencode(query)}"
        )
        try:
            zaaktype = in_force(listed(found), today)
        except ValueError as exc:
            raise _StepFailedError(Permanent(f"zaaktype: lookup: {exc}")) from None
        if zaaktype is None or not isinstance(zaaktype.get("url"), str):
            raise _StepFailedError(
                Permanent(f"zaaktype: no zaaktype {self.config.zaaktype} in force (definitief)")
            )
        query = {
            "zaaktype": zaaktype["url"],
            "omschrijvingGeneriek": "initiator",
            "status": "definitief",
        }
        roltype = await self._first("roltype", f"{self._catalogi}/roltypen?{urlencode(query)}")
        return _Types(today, zaaktype["url"], roltype)

    async def _types_in_force(self) -> _Types:
        """The zaaktype and roltype in force today, looked up once a day (UTC) and kept: a
        new zaaktype version is taken the day it comes into force."""
        today = _today()
        async with self._types_lock:
            if self._types is None or self._types.day != today:
                self._types = await self._lookup_types(today)
            return self._types

    async def open(self) -> None:
        """Look up the zaaktype (and its initiator roltype) in the Catalogi API.

        Raises SecretMissingError, naming tenant, destination and setting, when the JWT secret's
        variable is not set (a mistake in this installation's config). A Catalogi API that does
        not answer, refuses, or has no such zaaktype in force does not stop the hub: one
        tenant's zaaksysteem must not stop every other tenant's deliveries. It is logged
        (``zgw_zaaktype_unavailable``) and each delivery asks again, failing with the cause
        (retried, or a dead letter) until it is there."""
        try:
            self._context.secrets.get(self.config.auth.secret_env)
        except SecretMissingError as exc:
            raise SecretMissingError(f"{self._where}: auth.secret_env: {exc}") from None
        try:
            await self._types_in_force()
        except _StepFailedError as exc:
            self._context.log.warning("zgw_zaaktype_unavailable", reason=exc.failure.reason)

    # --- the steps ---------------------------------------------------------------------------

    async def _zaak(self, delivery: Delivery, submission: dict[str, Any], types: _Types) -> str:
        ident = identificatie(self.config.identificatie_prefix, delivery.step_key("zaak"))
        query = urlencode({"bronorganisatie": self._rsin, "identificatie": ident})
        found = await self._first("zaak", f"{self._zaken}/zaken?{query}", {"Accept-Crs": CRS})
        if found is not None:
            return found
        body = zaak_body(
            zaaktype=types.zaaktype,
            bronorganisatie=self._rsin,
            verantwoordelijke=self.config.verantwoordelijke_organisatie or self._rsin,
            ident=ident,
            startdatum=_submitted(submission),
            omschrijving=str(submission["form"]["name"]),
            kenmerk=str(submission["reference"]),
            vertrouwelijkheid=self.config.vertrouwelijkheidaanduiding,
        )
        return await self._made("zaak", f"{self._zaken}/zaken", body, **_ZAAK_CRS)

    async def _rol(self, zaak: str, roltype: str, kind: str, ident: dict[str, str]) -> str:
        query = urlencode(
            {"zaak": zaak, "betrokkeneType": kind, "omschrijvingGeneriek": "initiator"}
        )
        found = await self._first("rol", f"{self._zaken}/rollen?{query}")
        if found is not None:
            return found
        return await self._made(
            "rol", f"{self._zaken}/rollen", rol_body(zaak, roltype, kind, ident)
        )

    async def _content(self, number: int | str, attachment: dict[str, Any]) -> bytes:
        """The attachment's bytes: inline, else from the hub's store, checked against sha256."""
        step = f"document {number}"
        inline = attachment.get("inline_base64")
        try:
            if inline is None:
                return await self._context.read_attachment(
                    str(attachment["url"]), str(attachment["sha256"])
                )
            content = base64.b64decode(str(inline), validate=True)
        except LookupError:
            missing = Permanent(f"{step}: the hub does not have the attachment")
            raise _StepFailedError(missing) from None
        except (ValueError, binascii.Error):
            raise _StepFailedError(
                Permanent(f"{step}: the attachment does not match its sha256")
            ) from None
        except Exception as exc:  # the hub's store (a folder, S3) did not answer
            raise _StepFailedError(
                Retryable(f"{step}: attachment store unavailable: {type(exc).__name__}")
            ) from None
        if hashlib.sha256(content).hexdigest() != attachment["sha256"]:
            raise _StepFailedError(Permanent(f"{step}: the attachment does not match its sha256"))
        return content

    async def _document(
        self,
        delivery: Delivery,
        number: int | str,
        attachment: dict[str, Any],
        submission: dict[str, Any],
        done: dict[str, str],
    ) -> str:
        step = f"document {number}"
        ident = identificatie(
            self.config.identificatie_prefix, delivery.step_key(f"document:{number}")
        )
        query = urlencode({"bronorganisatie": self._rsin, "identificatie": ident})
        url = f"{self._documenten}/enkelvoudiginformatieobjecten"
        found = await self._found(step, f"{url}?{query}")
        if found is not None and not found.get("locked"):
            return _listed_url(found)
        content = await self._content(number, attachment)
        if found is not None:  # made in parts by an earlier attempt, not unlocked yet
            return await self._resume_upload(step, number, found, content, attachment, done)
        limit = self.config.bestandsdelen_above_bytes
        in_parts = limit is not None and len(content) > limit
        body = document_body(
            ident=ident,
            bronorganisatie=self._rsin,
            informatieobjecttype=str(self.config.informatieobjecttype),
            created=_submitted(submission),
            titel=str(attachment["name"]),
            auteur=self.config.auteur,
            language=str(submission.get("language") or "nl"),
            content_type=str(attachment["content_type"]),
            content=content,
            vertrouwelijkheid=self.config.vertrouwelijkheidaanduiding,
            in_parts=in_parts,
        )
        if not in_parts:
            return await self._made(step, url, body)
        created = await self._call(step, "POST", url, body)
        try:
            made, lock, parts = _locked_document(created.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise _StepFailedError(
                Permanent(
                    f"{step}: no bestandsdelen in the answer ({exc}); the Documenten API "
                    "may be 1.0: set bestandsdelen_above_bytes to none"
                )
            ) from None
        done[f"upload:{number}"] = f"{made} {lock}"  # before the parts: a retry goes on
        await self._upload(step, made, lock, parts, content, attachment)
        return made

    async def _found(self, step: str, url: str) -> dict[str, Any] | None:
        """The first object a list lookup finds, None when it finds none."""
        answer = await self._call(step, "GET", url)
        try:
            results = listed(answer)
        except ValueError as exc:
            raise _StepFailedError(Permanent(f"{step}: lookup: {exc}")) from None
        first = results[0] if results else None
        return first if isinstance(first, dict) else None

    async def _resume_upload(
        self,
        step: str,
        number: int | str,
        found: dict[str, Any],
        content: bytes,
        attachment: dict[str, Any],
        done: dict[str, str],
    ) -> str:
        made = _listed_url(found)
        upload = done.get(f"upload:{number}", "")
        if not upload.startswith(f"{made} "):
            raise _StepFailedError(
                Permanent(
                    f"{step}: the document is locked by an upload whose lock is lost (the hub "
                    "stopped between making it and its parts); unlock it in the zaaksysteem "
                    "(scope documenten.geforceerd-unlock) and replay"
                )
            )
        lock = upload.split(" ", 1)[1]
        await self._upload(
            step, made, lock, list(found.get("bestandsdelen") or []), content, attachment
        )
        return made

    async def _upload(
        self,
        step: str,
        document: str,
        lock: str,
        parts: list[dict[str, Any]],
        content: bytes,
        attachment: dict[str, Any],
    ) -> None:
        """PUT each bestandsdeel not done yet (its bytes at its place, by volgnummer), then
        unlock the document: its parts become its content (Documenten API 1.1+)."""
        if sum(int(p["omvang"]) for p in parts) != len(content):
            raise _StepFailedError(
                Permanent(f"{step}: the bestandsdelen do not add up to the file's size")
            )
        offset = 0
        for part in sorted(parts, key=lambda p: int(p["volgnummer"])):
            size = int(part["omvang"])
            if not part.get("voltooid"):
                body, content_type = multipart_form(
                    {"lock": lock},
                    "inhoud",
                    str(attachment["name"]),
                    content[offset : offset + size],
                    str(attachment["content_type"]),
                )
                await self._call(
                    f"{step} deel {part['volgnummer']}",
                    "PUT",
                    str(part["url"]),
                    headers={"Content-Type": content_type},
                    raw=body,
                )
            offset += size
        await self._call(f"{step} unlock", "POST", f"{document}/unlock", {"lock": lock})

    async def _link(self, number: int | str, zaak: str, document: str) -> str:
        step = f"link {number}"
        url = f"{self._zaken}/zaakinformatieobjecten"
        found = await self._first(
            step, f"{url}?{urlencode({'zaak': zaak, 'informatieobject': document})}"
        )
        if found is not None:
            return found
        return await self._made(step, url, {"zaak": zaak, "informatieobject": document})

    async def _all_attachments_there(self, submission: dict[str, Any]) -> None:
        """Before the first step: every attachment must be inline or in the hub's store, or
        nothing is made (a zaak with documents missing for ever helps no one)."""
        try:
            missing = await self._context.missing_attachments(submission["attachments"])
        except Exception as exc:  # the hub's store (a folder, S3) did not answer
            raise _StepFailedError(
                Retryable(f"attachments: attachment store unavailable: {type(exc).__name__}")
            ) from None
        if missing:
            numbers = ", ".join(str(n) for n in missing)
            raise _StepFailedError(
                Permanent(
                    f"document {numbers}: the hub does not have the attachment (sent by a "
                    "reference the hub does not keep); nothing was made"
                )
            )

    async def _steps(
        self, delivery: Delivery, submission: dict[str, Any], done: dict[str, str]
    ) -> None:
        """Make what ``done`` does not name yet, recording each made thing in ``done``."""
        types = await self._types_in_force()
        if "zaak" not in done:
            await self._all_attachments_there(submission)
            done["zaak"] = await self._zaak(delivery, submission, types)
        initiator = initiator_rol(submission["authentication"].get("legal_subject"))
        if initiator is not None and "rol" not in done:
            if types.roltype is None:
                raise _StepFailedError(Permanent("rol: the zaaktype has no roltype initiator"))
            done["rol"] = await self._rol(done["zaak"], types.roltype, *initiator)
        if self.config.submission_document and "document:inzending" not in done:
            done["document:inzending"] = await self._document(
                delivery, "inzending", submission_file(submission), submission, done
            )
        if self.config.submission_document and "link:inzending" not in done:
            done["link:inzending"] = await self._link(
                "inzending", done["zaak"], done["document:inzending"]
            )
        for number, attachment in enumerate(submission["attachments"], 1):
            if f"document:{number}" not in done:
                done[f"document:{number}"] = await self._document(
                    delivery, number, attachment, submission, done
                )
            if f"link:{number}" not in done:
                done[f"link:{number}"] = await self._link(
                    number, done["zaak"], done[f"document:{number}"]
                )

    async def deliver(self, delivery: Delivery) -> Outcome:
        try:
            submission = payload_as(delivery.event, SUBMISSION)
        except ContractError as exc:
            return Permanent(f"cannot read the submission: {exc.field or 'payload'} is invalid")
        done = dict(delivery.progress)
        try:
            await self._steps(delivery, submission, done)
        except _StepFailedError as exc:
            failure = exc.failure
            if isinstance(failure, Permanent) and _refuses_catalogue(failure.reason):
                # The Zaken or Documenten API no longer knows the zaaktype, roltype or
                # informatieobjecttype kept since the day's lookup (a catalogue rebuilt, a
                # zaaksysteem restored): look them up again, and try again.
                self._types = None
                failure = Retryable(
                    f"{failure.reason}; the zaaktype is looked up again", failure.code
                )
            return _with_progress(failure, done)
        ident = identificatie(self.config.identificatie_prefix, delivery.step_key("zaak"))
        return Delivered({"zaak": done["zaak"], "identificatie": ident})

    async def check(self) -> Health:
        """``GET zaaktypen`` in the Catalogi API with the JWT: healthy when it answers 2xx."""
        query = urlencode({"identificatie": self.config.zaaktype, "status": "definitief"})
        try:
            answer = await self._call("check", "GET", f"{self._catalogi}/zaaktypen?{query}")
        except _StepFailedError as exc:
            return Health(ok=False, detail=f"{self.config.catalogi_api.host}: {exc.failure.reason}")
        return Health(ok=True, detail=f"{self.config.catalogi_api.host} answered {answer.status}")

    async def close(self) -> None:
        """Close the HTTP client and its connections; the sink is not used afterwards."""
        await self._client.aclose()


_CATALOGUE_FIELDS = re.compile(r"\((?:.*[ ,])?(zaaktype|roltype|informatieobjecttype): ")


def _refuses_catalogue(reason: str) -> bool:
    """Whether a refusal's reason names a field whose value came from the Catalogi API (the
    ``(name: code, ...)`` part that connectors.sdk.http.invalid_params writes)."""
    return _CATALOGUE_FIELDS.search(reason) is not None


def _today() -> date:
    return datetime.now(UTC).date()


def _submitted(submission: dict[str, Any]) -> date:
    """The Dutch day the form was submitted (connectors.sdk.dates): the zaak's startdatum and
    the documents' creatiedatum, the same on every attempt."""
    return dutch_day(str(submission["submitted_at"]))


def _locked_document(answer: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """A document made for bestandsdelen: its url, its lock and its parts (ValueError,
    KeyError or TypeError when the answer has none of them)."""
    url, lock, parts = answer["url"], answer["lock"], answer["bestandsdelen"]
    if not (isinstance(url, str) and isinstance(lock, str) and lock and isinstance(parts, list)):
        raise ValueError("url, lock and bestandsdelen expected")
    if not parts or not all(isinstance(p, dict) and "url" in p and "omvang" in p for p in parts):
        raise ValueError("no bestandsdelen")
    return url, lock, parts


def _listed_url(found: dict[str, Any]) -> str:
    url = found.get("url")
    if not isinstance(url, str):
        raise ValueError("a listed object without a url")
    return url


def _with_progress(failure: Failure, done: dict[str, str]) -> Failure:
    """``failure`` carrying what was made so far, when it is Retryable or Throttled (what fits
    in the progress header: the zaak first; the lookups find the rest)."""
    if isinstance(failure, Permanent) or not done:
        return failure
    for kept in (done, {k: v for k, v in done.items() if k in ("zaak", "rol")}, {}):
        try:
            return replace(failure, progress=kept)
        except ValueError:
            continue
    return failure


def build(config: ZgwConfig, context: ConnectorContext) -> ZgwSink:
    """The factory named in the connector's SPEC."""
    return ZgwSink(config, context)
