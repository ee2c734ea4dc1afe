"""A notificatie or CloudEvent received becomes an event of the ZGW contract on Kafka
(``nl.overheid.<kanaal>.v1``, keyed by the hoofdObject), for the tenant it belongs to
(hub.notificaties.tenancy); the API answers only once Kafka acknowledged it.

The event id is UUIDv5 of the tenant, the client and the notificatie's content, so the same
notificatie sent again (a client retrying after a timeout) is the same event, which the router
recognises; a CloudEvent keeps its identity the same way, from its own ``source`` and ``id``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError

from connectors.sdk import NewEvent, Published
from contracts.errors import ContractError
from contracts.registry import CONTRACTS, contract_for
from hub.http.problems import ProblemError
from hub.notificaties import schemas
from hub.notificaties.tenancy import TenantRefusedError, tenant_of_notificatie

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi import Request

    from connectors.sdk.source import Publish
    from contracts.registry import ContractSpec
    from hub.config import HubConfig
    from hub.http.auth import AuthenticatedClient
    from hub.notificaties.store import KanalenStore

__all__ = ["NotificatiePublisher", "zgw_spec"]

_EVENT_NAMESPACE = uuid.UUID("0d7c2f3e-8a41-4b6e-9f25-6c1d3a9e7b52")  # this project's own
CLOUDEVENTS_JSON = "application/cloudevents+json"
_ATTRIBUTES = (
    "id",
    "source",
    "specversion",
    "type",
    "datacontenttype",
    "dataschema",
    "subject",
    "time",
)


def _invalid_body(exc: ValidationError) -> ProblemError:
    params = [
        {
            "name": ".".join(str(part) for part in error["loc"]) or "body",
            "code": str(error["type"]),
            "reason": str(error["msg"]),
        }
        for error in exc.errors()
    ]
    names = ", ".join(p["name"] for p in params)
    return ProblemError(
        400, "Invalid input", f"{len(params)} invalid field(s): {names}", "invalid", params
    )


class NotificatiePublisher:
    """Publishes what the API receives; ProblemError(400) names what is refused."""

    def __init__(self, publish: Publish, config: HubConfig, kanalen: KanalenStore) -> None:
        self._publish, self._kanalen = publish, kanalen
        self._rsin_of = {tenant.id: tenant.rsin for tenant in config.tenants}

    def _tenant(self, client: AuthenticatedClient, kenmerken: Mapping[str, object]) -> str:
        own = [t for t in client.tenants if t in self._rsin_of]
        texts = {k: v for k, v in kenmerken.items() if isinstance(v, str)}
        try:
            return tenant_of_notificatie(own, self._rsin_of, texts)
        except TenantRefusedError as refused:
            raise ProblemError.invalid(refused.field, refused.code, refused.reason) from refused

    async def notificatie(self, client: AuthenticatedClient, message: schemas.Message) -> Published:
        """Publish one notificatie; returns once Kafka acknowledged it. The kanaal must exist.
        Unlike Open Notificaties, kenmerken outside the kanaal's filters are taken: a kanaal is
        shared by every municipality, and the first to register it must not be able to refuse
        another's notificaties (nor a newer Open Zaak sending one kenmerk more)."""
        kanaal = self._kanalen.named(message.kanaal)
        if kanaal is None:
            raise ProblemError.invalid(
                "kanaal", "message_kanaal", "Kanaal met deze naam bestaat niet."
            )
        tenant = self._tenant(client, message.kenmerken)
        payload = message.model_dump(mode="json", by_alias=True)
        content = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
        event_id = uuid.uuid5(_EVENT_NAMESPACE, f"{tenant}\n{client.id}\n{content}")
        spec = zgw_spec(message.kanaal)
        if spec is None:
            raise ProblemError.invalid(
                "kanaal", "message_kanaal", "no contract of the hub carries it"
            )
        return await self._publish(NewEvent(spec, payload, tenant, str(event_id), client.id))

    async def cloudevent(self, client: AuthenticatedClient, request: Request) -> dict[str, Any]:
        """Publish a CloudEvent sent in structured (``application/cloudevents+json``) or binary
        (``ce-*`` headers) mode whose type a contract carries; returns the event as received."""
        event = await _read_cloudevent(request)
        if not event.type.startswith("nl.overheid."):  # only notificaties: never a submission
            raise ProblemError.invalid(
                "type", "invalid", "only ZGW notificatie types (nl.overheid.<kanaal>...) here"
            )
        spec = _spec(event.type, "type")
        if not isinstance(event.data, dict):
            raise ProblemError.invalid("data", "invalid", "the data of the event: a JSON object")
        kenmerken = event.data.get("kenmerken")
        tenant = self._tenant(client, kenmerken if isinstance(kenmerken, dict) else event.data)
        model = spec.validate(event.data)  # ContractError: 400 naming the field
        if spec.event_type_of(model) != event.type:
            raise ProblemError.invalid(
                "type",
                "invalid",
                f"the data is of type {spec.event_type_of(model)}, not {event.type}",
            )
        event_id = uuid.uuid5(_EVENT_NAMESPACE, f"{tenant}\n{event.source}\n{event.id}")
        await self._publish(NewEvent(spec, event.data, tenant, str(event_id), client.id))
        return event.model_dump(mode="json", exclude_unset=True)


def zgw_spec(kanaal: str) -> ContractSpec | None:
    """The newest ZGW contract of ``kanaal`` (``nl.overheid.<kanaal>``), if there is one."""
    family = f"nl.overheid.{kanaal}"
    found = [spec for spec in CONTRACTS if spec.family and spec.type == family]
    return max(found, key=lambda spec: spec.version) if found else None


def _spec(event_type: str, field: str) -> ContractSpec:
    try:
        return contract_for(event_type)
    except ContractError as exc:
        raise ProblemError.invalid(
            field, "unknown", f"no contract of the hub carries {event_type!r}"
        ) from exc


async def _read_cloudevent(request: Request) -> schemas.CloudEvent:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    try:
        if media_type == CLOUDEVENTS_JSON:
            return schemas.CloudEvent.model_validate_json(body)
        if "ce-specversion" in request.headers:
            attributes: dict[str, Any] = {
                name: request.headers[f"ce-{name}"]
                for name in _ATTRIBUTES
                if f"ce-{name}" in request.headers
            }
            attributes.setdefault("datacontenttype", media_type or "application/json")
            attributes["data"] = orjson.loads(body) if body else None
            return schemas.CloudEvent.model_validate(attributes)
    except ValidationError as exc:
        raise _invalid_body(exc) from exc
    except orjson.JSONDecodeError as exc:
        raise ProblemError.invalid("data", "parse_error", "the body is not JSON") from exc
    raise ProblemError(
        415,
        "Unsupported media type",
        f"send {CLOUDEVENTS_JSON} (structured mode) or ce-* headers (binary mode)",
        "unsupported_media_type",
    )
