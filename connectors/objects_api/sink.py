"""The ``objects-api`` sink: each form submission as a new object of one objecttype in an
Objects API (Open Objecten), its ``record.data`` mapped from the submission. The I/O is here;
the mapping (mapping.py), the schema checks (schema.py) and the protocol's shapes (api.py) are
pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import orjson

from connectors.objects_api.api import (
    CONTENT_CRS,
    create_body,
    found_object,
    lookup_query,
    object_url,
)
from connectors.objects_api.mapping import is_geometry, map_data, pick, put, start_date
from connectors.objects_api.schema import data_problem, mapping_problems, validator
from connectors.sdk import (
    Delivered,
    Health,
    HttpError,
    HttpResponse,
    Permanent,
    Retryable,
    SecretMissingError,
)
from connectors.sdk.http import (
    failure_for_exception,
    failure_for_status,
    invalid_params,
    status_line,
)
from contracts.errors import ContractError, KnooppuntError
from contracts.events import payload_as
from contracts.registry import contract_for

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

    from connectors.objects_api.config import ObjectsApiConfig
    from connectors.sdk import ConnectorContext, Delivery, Failure, Outcome

__all__ = ["OBJECT_STEP", "ObjectsApiSink", "build"]

SUBMISSION = contract_for("nl.gemeente.formulier.ingediend", 2)  # v1 events are upcast to it
OBJECT_STEP = "object"  # the step key's name and the reference's key


class ObjectsApiSink:
    """A ``Sink`` that creates one object per submission: ``type`` the configured objecttype,
    ``record`` ``{typeVersion, data, startAt, geometry?}``.

    ``open`` fetches the objecttype version's JSON Schema and refuses a mapping that does not
    fit it. ``deliver`` maps and validates the data (Permanent naming the field when the
    submission does not fit), looks up an object whose ``idempotency_field`` holds this
    delivery's step key (``Delivery.step_key("object")``), and creates one only when there is
    none: a redelivery after a lost answer finds the first. Answers classify as
    connectors.sdk.http says (5xx and no answer Retryable, 429 Throttled, other 4xx Permanent
    with the status and the refused fields' names). It never retries or sleeps, and logs nothing.
    """

    max_in_flight = 8

    def __init__(self, config: ObjectsApiConfig, context: ConnectorContext) -> None:
        self.config = config
        self._secrets = context.secrets
        self._where = f"tenant {context.tenant.id}, destination {context.destination}"
        self._objecttype = str(config.objecttype).rstrip("/")
        self._client = context.http.client(
            timeout_s=config.timeout_s,
            base_url=str(config.objects_api),
            headers={"Accept": "application/json"},
        )
        self._schema: Validator | None = None

    def _token(self, setting: str) -> dict[str, str]:
        """The Authorization header (``Token <key>``, as Open Objecten's TokenAuthentication
        reads it) from the variable that ``setting`` names. SecretMissingError when unset."""
        env = self.config.token_env
        if setting == "objecttypes_token_env" and self.config.objecttypes_token_env:
            env = self.config.objecttypes_token_env
        return {"Authorization": f"Token {self._secrets.get(env)}"}

    async def open(self) -> None:
        """Fetch ``GET <objecttype>/versions/<objecttype_version>`` (Objecttypes API 2.x,
        ``ObjectTypeVersion.jsonSchema``) and check the mapping against it.

        Raises SecretMissingError when a token variable is not set, and KnooppuntError when the
        Objecttypes API gives no schema or the mapping does not fit it; each message names
        tenant, destination and the setting (``objecttype``, ``data.<field>``...)."""
        for setting in ("token_env", "objecttypes_token_env"):
            try:
                self._token(setting)
            except SecretMissingError as exc:
                raise SecretMissingError(f"{self._where}: {setting}: {exc}") from None
        url = f"{self._objecttype}/versions/{self.config.objecttype_version}"
        where = f"{self._where}: objecttype: {url}"
        try:
            response = await self._client.get(url, headers=self._token("objecttypes_token_env"))
        except HttpError as exc:
            reason = failure_for_exception(exc).reason
            raise KnooppuntError(f"{where}: no answer ({reason})") from None
        if response.status != 200:
            raise KnooppuntError(f"{where}: answered {status_line(response.status)}")
        try:
            schema = response.json().get("jsonSchema")
        except (ValueError, AttributeError):
            schema = None
        if not isinstance(schema, dict):
            raise KnooppuntError(f"{where}: the answer has no jsonSchema object")
        try:
            check = validator(schema)
        except ValueError as exc:
            raise KnooppuntError(f"{where}: {exc}") from None
        problems = mapping_problems(schema, self.config.data, self.config.idempotency_field)
        if problems:
            version = f"objecttype version {self.config.objecttype_version}"
            raise KnooppuntError(f"{self._where}: {'; '.join(problems)} ({version})")
        self._schema = check

    def _record(self, delivery: Delivery, check: Validator) -> dict[str, Any] | Permanent:
        """The Object to create, or Permanent naming what does not fit (never a value)."""
        try:
            submission = payload_as(delivery.event, SUBMISSION)
        except ContractError as exc:
            return Permanent(f"cannot read the submission: {exc.field or 'payload'} is invalid")
        data = map_data(self.config.data, submission)
        put(data, self.config.idempotency_field, delivery.step_key(OBJECT_STEP))
        problem = data_problem(check, data)
        if problem is not None:
            version = self.config.objecttype_version
            return Permanent(f"the submission does not fit objecttype version {version}: {problem}")
        geometry = None
        if self.config.geometry is not None:
            geometry = pick(submission, self.config.geometry)
            if geometry is not None and not is_geometry(geometry):
                return Permanent(f"geometry: {self.config.geometry} is not a GeoJSON geometry")
        version = self.config.objecttype_version
        start = start_date(str(submission["submitted_at"]))
        return create_body(self._objecttype, version, data, start, geometry)

    async def _answer(
        self, method: str, url: str, body: bytes | None = None
    ) -> HttpResponse | Failure:
        """The 2xx answer, or the failure: the status classified (a refusal naming the fields the
        API refused), no answer Retryable, a missing token Permanent naming its setting."""
        headers = {"Content-Type": "application/json", "Content-Crs": CONTENT_CRS} if body else {}
        try:
            headers |= self._token("token_env")
            response = await self._client.request(method, url, body=body, headers=headers)
        except SecretMissingError as exc:
            return Permanent(f"{exc} (token_env)")
        except HttpError as exc:
            return failure_for_exception(exc)
        failure = failure_for_status(response.status, response.headers, datetime.now(UTC))
        if isinstance(failure, Permanent):
            refused = invalid_params(response)
            if refused:
                return Permanent(f"{failure.reason} ({refused})", code=failure.code)
        return response if failure is None else failure

    async def deliver(self, delivery: Delivery) -> Outcome:
        made = delivery.progress.get(OBJECT_STEP)
        if made:  # an earlier attempt created it and said so
            return Delivered({OBJECT_STEP: made})
        if self._schema is None:
            return Retryable("the sink was not opened (no objecttype schema)")
        record = self._record(delivery, self._schema)
        if isinstance(record, Permanent):
            return record
        key = delivery.step_key(OBJECT_STEP)
        query = lookup_query(
            self._objecttype, self.config.lookup_parameter, self.config.idempotency_field, key
        )
        found = await self._answer("GET", f"objects?{query}")
        if not isinstance(found, HttpResponse):
            return found
        try:
            existing = found_object(found)
        except ValueError as exc:
            return Permanent(f"lookup: {exc}; check objects_api")
        if existing is not None:  # an earlier attempt made it, and its answer was lost
            return Delivered({OBJECT_STEP: existing})
        created = await self._answer("POST", "objects", orjson.dumps(record))
        if not isinstance(created, HttpResponse):
            return created
        url = object_url(created)
        return Delivered({OBJECT_STEP: url} if url else {})

    async def check(self) -> Health:
        """``GET /objects?type=<objecttype>``: healthy when the Objects API lists them (2xx),
        which also proves the token; the detail names the host and the status or failure."""
        answer = await self._answer("GET", f"objects?{urlencode({'type': self._objecttype})}")
        host = self.config.objects_api.host
        if not isinstance(answer, HttpResponse):
            return Health(ok=False, detail=f"{host}: {answer.reason}")
        return Health(ok=True, detail=f"{host} answered {answer.status}")

    async def close(self) -> None:
        """Close the HTTP client and its connections; the sink is not used afterwards."""
        await self._client.aclose()


def build(config: ObjectsApiConfig, context: ConnectorContext) -> ObjectsApiSink:
    """The factory named in the connector's SPEC."""
    return ObjectsApiSink(config, context)
