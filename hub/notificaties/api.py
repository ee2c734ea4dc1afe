"""The Notificaties API's endpoints (``/api/v1/kanaal``, ``/abonnement``, ``/notificaties``,
``/cloudevents``): HTTP in, the stores and Kafka behind. Decisions live in hub.notificaties'
other modules; this one reads requests, checks scopes and answers.

| operation | scope | answer |
| --- | --- | --- |
| kanaal list, read; abonnement list, read | publiceren or consumeren | 200 |
| kanaal create | publiceren | 201, 400 (naam taken, no contract for it) |
| abonnement create, (partial) update | consumeren | 201 / 200, 400 (kanaal, filters, callback) |
| abonnement delete | consumeren | 204 |
| notificaties, cloudevents | publiceren | 201 once Kafka acknowledged, 400 (kanaal, tenant) |

Without a valid token 401; without the scope 403; an abonnement of no tenant the client acts
for is 404, as one that does not exist (never 403: that would say it exists).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from connectors.sdk.json_body import ijson_route
from contracts.registry import CONTRACTS
from hub.http.auth import AuthenticatedClient
from hub.http.problems import ProblemError
from hub.notificaties import schemas
from hub.notificaties.callbacks import callback_refusal
from hub.notificaties.domain import Abonnement, Kanaal, KanaalFilter
from hub.notificaties.matching import filter_names_consistent
from hub.notificaties.openapi import CONSUMEREN, PUBLICEREN, responses_for
from hub.notificaties.publishing import NotificatiePublisher
from hub.notificaties.tenancy import may_see
from hub.observability.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from hub.http.auth import Authenticator
    from hub.notificaties.store import AbonnementenStore, KanalenStore

__all__ = ["API_PREFIX", "notificaties_router"]
log = get_logger(__name__)

API_PREFIX = "/api/v1"
ZGW_KANALEN = frozenset(  # a kanaal is created only when a contract carries its notificaties
    spec.type.removeprefix("nl.overheid.")
    for spec in CONTRACTS
    if spec.family and spec.type.startswith("nl.overheid.")
)


def _audit(event: str, client: AuthenticatedClient, abonnement: Abonnement) -> None:
    """Who made, changed or removed which abonnement, for which tenants (never its auth)."""
    log.info(
        event,
        abonnement=str(abonnement.id),
        client=client.id,
        tenants=list(abonnement.tenants),
        kanalen=[k.naam for k in abonnement.kanalen],
    )


def _scope_check(
    authenticator: Authenticator, known_tenants: frozenset[str], *scopes: str
) -> Callable[[Request], AuthenticatedClient]:
    """A dependency: the caller, holding one of ``scopes`` (401 without a valid token, 403
    without the scope or without a tenant this hub serves)."""

    def caller(request: Request) -> AuthenticatedClient:
        client = authenticator.authenticate(request.headers.get("authorization"))
        if client.scopes.isdisjoint(scopes):
            raise ProblemError(
                403,
                "Forbidden",
                f"client {client.id!r} lacks the scope {' or '.join(scopes)}",
                "permission_denied",
            )
        if known_tenants.isdisjoint(client.tenants):
            raise ProblemError(
                403,
                "Forbidden",
                f"client {client.id!r} acts for no tenant here",
                "permission_denied",
            )
        return client

    return caller


ResourceId = Annotated[
    str,
    Path(description="Unique resource identifier (UUID4)", json_schema_extra={"format": "uuid"}),
]


def _id(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def notificaties_router(
    authenticator: Authenticator,
    tenants: frozenset[str],
    kanalen: KanalenStore,
    abonnementen: AbonnementenStore,
    publisher: NotificatiePublisher,
    public_url: str,
) -> APIRouter:
    """The API's routes, relative to ``API_PREFIX`` (include the router with that prefix).
    ``public_url``: the hub as clients reach it; resources' ``url`` start with it."""
    base = public_url.rstrip("/") + API_PREFIX
    reader = Depends(_scope_check(authenticator, tenants, PUBLICEREN, CONSUMEREN))
    publisher_scope = Depends(_scope_check(authenticator, tenants, PUBLICEREN))
    consumer = Depends(_scope_check(authenticator, tenants, CONSUMEREN))
    # Every body: the caller authenticated first (a caller without a valid token learns nothing
    # of the body rules), then at most MAX_BODY_BYTES (413, before it is read whole), JSON (415),
    # I-JSON (400: no member named twice, numbers exact), as at the intake.
    router = APIRouter(
        route_class=ijson_route(
            before=lambda request: authenticator.authenticate(request.headers.get("authorization")),
            too_large_hint="a notificatie is a small message (ZGW: informatie-arm)",
        )
    )

    def kanaal_body(kanaal: Kanaal) -> dict[str, Any]:
        body: dict[str, Any] = {"url": f"{base}/kanaal/{kanaal.id}", "naam": kanaal.naam}
        if kanaal.documentatie_link:  # "" is no URI: a kanaal without a link has none
            body["documentatieLink"] = kanaal.documentatie_link
        return {**body, "filters": list(kanaal.filters)}

    def abonnement_body(abonnement: Abonnement) -> dict[str, Any]:
        return {
            "url": f"{base}/abonnement/{abonnement.id}",
            "callbackUrl": abonnement.callback_url,
            "kanalen": [{"naam": k.naam, "filters": dict(k.filters)} for k in abonnement.kanalen],
        }

    def visible(client: AuthenticatedClient, abonnement_uuid: str) -> Abonnement:
        wanted = _id(abonnement_uuid)
        found = None if wanted is None else abonnementen.get(wanted)
        if found is None or not may_see(client.tenants, found):
            raise ProblemError(404, "Not found", "no such abonnement", "not_found")
        return found

    async def checked(
        client: AuthenticatedClient, abonnement_id: UUID, body: schemas.Abonnement
    ) -> Abonnement:
        """The abonnement ``body`` describes, once its kanalen and callback passed (400)."""
        groups = []
        for index, group in enumerate(body.kanalen):
            kanaal = kanalen.named(group.naam)
            if kanaal is None:
                raise ProblemError.invalid(
                    f"kanalen[{index}].naam", "kanaal_naam", "Kanaal met deze naam bestaat niet."
                )
            if not filter_names_consistent(kanaal.filters, group.filters):
                raise ProblemError.invalid(
                    f"kanalen[{index}].filters",
                    "inconsistent-abonnement-filters",
                    f"filters are all or some of the kanaal's: {', '.join(kanaal.filters)}",
                )
            groups.append(KanaalFilter(group.naam, dict(group.filters)))
        refusal = await callback_refusal(body.callback_url, body.auth)
        if refusal is not None:
            raise ProblemError.invalid("callbackUrl", "invalid-callback-url", refusal)
        return Abonnement(
            id=abonnement_id,
            tenants=tuple(t for t in client.tenants if t in tenants),
            callback_url=body.callback_url,
            auth=body.auth,
            kanalen=tuple(groups),
            client=client.id,
        )

    _kanaal_routes(router, kanalen, kanaal_body, reader, publisher_scope)
    _abonnement_routes(router, abonnementen, abonnement_body, visible, checked, reader, consumer)
    _publishing_routes(router, publisher, publisher_scope)
    return router


def _kanaal_routes(
    router: APIRouter,
    kanalen: KanalenStore,
    kanaal_body: Callable[[Kanaal], dict[str, Any]],
    reader: Any,
    publisher_scope: Any,
) -> None:
    @router.get(
        "/kanaal",
        operation_id="kanaal_list",
        summary="Alle KANAALen opvragen.",
        tags=["kanaal"],
        response_model=list[schemas.Kanaal],
        responses=responses_for(400, 401, 403),
        openapi_extra={"security": [{"JWT-Claims": [f"({PUBLICEREN} | {CONSUMEREN})"]}]},
    )
    async def kanaal_list(
        client: AuthenticatedClient = reader,
        naam: Annotated[str, Query(description="Naam van het KANAAL.")] = "",
    ) -> Response:
        found = [k for k in kanalen.snapshot().values() if not naam or k.naam == naam]
        return JSONResponse([kanaal_body(k) for k in sorted(found, key=lambda k: k.naam)])

    @router.post(
        "/kanaal",
        operation_id="kanaal_create",
        summary="Maak een KANAAL aan.",
        tags=["kanaal"],
        status_code=201,
        response_model=schemas.Kanaal,
        responses=responses_for(400, 401, 403, 503),
        openapi_extra={"security": [{"JWT-Claims": [PUBLICEREN]}]},
    )
    async def kanaal_create(
        body: schemas.Kanaal, client: AuthenticatedClient = publisher_scope
    ) -> Response:
        if kanalen.named(body.naam) is not None:
            raise ProblemError.invalid("naam", "unique", "Er bestaat al een kanaal met deze naam.")
        if body.naam not in ZGW_KANALEN:
            raise ProblemError.invalid(
                "naam",
                "unknown-kanaal",
                "the hub carries the kanalen of its ZGW contract: "
                + ", ".join(sorted(ZGW_KANALEN)),
            )
        kanaal = Kanaal(body.naam, body.documentatie_link, tuple(body.filters))
        await kanalen.put(kanaal)
        answer = kanaal_body(kanaal)
        return JSONResponse(answer, status_code=201, headers={"Location": answer["url"]})

    @router.get(
        "/kanaal/{uuid}",
        operation_id="kanaal_read",
        summary="Een specifiek KANAAL opvragen.",
        tags=["kanaal"],
        response_model=schemas.Kanaal,
        responses=responses_for(401, 403, 404),
        openapi_extra={"security": [{"JWT-Claims": [f"({PUBLICEREN} | {CONSUMEREN})"]}]},
    )
    async def kanaal_read(uuid: ResourceId, client: AuthenticatedClient = reader) -> Response:
        wanted = _id(uuid)
        kanaal = None if wanted is None else kanalen.by_id(wanted)
        if kanaal is None:
            raise ProblemError(404, "Not found", "no such kanaal", "not_found")
        return JSONResponse(kanaal_body(kanaal))


def _abonnement_routes(
    router: APIRouter,
    abonnementen: AbonnementenStore,
    abonnement_body: Callable[[Abonnement], dict[str, Any]],
    visible: Callable[[AuthenticatedClient, str], Abonnement],
    checked: Callable[[AuthenticatedClient, UUID, schemas.Abonnement], Awaitable[Abonnement]],
    reader: Any,
    consumer: Any,
) -> None:
    @router.get(
        "/abonnement",
        operation_id="abonnement_list",
        summary="Alle ABONNEMENTen opvragen.",
        tags=["abonnement"],
        response_model=list[schemas.Abonnement],
        responses=responses_for(401, 403),
        openapi_extra={"security": [{"JWT-Claims": [f"({CONSUMEREN} | {PUBLICEREN})"]}]},
    )
    async def abonnement_list(client: AuthenticatedClient = reader) -> Response:
        mine = [a for a in abonnementen.snapshot().values() if may_see(client.tenants, a)]
        return JSONResponse([abonnement_body(a) for a in sorted(mine, key=lambda a: str(a.id))])

    @router.post(
        "/abonnement",
        operation_id="abonnement_create",
        summary="Maak een ABONNEMENT aan.",
        tags=["abonnement"],
        status_code=201,
        response_model=schemas.Abonnement,
        responses=responses_for(400, 401, 403, 503),
        openapi_extra={"security": [{"JWT-Claims": [CONSUMEREN]}]},
    )
    async def abonnement_create(
        body: schemas.Abonnement, client: AuthenticatedClient = consumer
    ) -> Response:
        abonnement = await checked(client, uuid4(), body)
        await abonnementen.put(abonnement)
        _audit("abonnement_created", client, abonnement)
        answer = abonnement_body(abonnement)
        return JSONResponse(answer, status_code=201, headers={"Location": answer["url"]})

    @router.get(
        "/abonnement/{uuid}",
        operation_id="abonnement_read",
        summary="Een specifiek ABONNEMENT opvragen.",
        tags=["abonnement"],
        response_model=schemas.Abonnement,
        responses=responses_for(401, 403, 404),
        openapi_extra={"security": [{"JWT-Claims": [f"({CONSUMEREN} | {PUBLICEREN})"]}]},
    )
    async def abonnement_read(uuid: ResourceId, client: AuthenticatedClient = reader) -> Response:
        return JSONResponse(abonnement_body(visible(client, uuid)))

    @router.put(
        "/abonnement/{uuid}",
        operation_id="abonnement_update",
        summary="Werk een ABONNEMENT in zijn geheel bij.",
        tags=["abonnement"],
        response_model=schemas.Abonnement,
        responses=responses_for(400, 401, 403, 404, 503),
        openapi_extra={"security": [{"JWT-Claims": [CONSUMEREN]}]},
    )
    async def abonnement_update(
        uuid: ResourceId,
        body: schemas.Abonnement,
        client: AuthenticatedClient = consumer,
    ) -> Response:
        current = visible(client, uuid)
        changed = await checked(client, current.id, body)
        changed = Abonnement(**{**changed.__dict__, "tenants": current.tenants})
        await abonnementen.put(changed)
        _audit("abonnement_changed", client, changed)
        return JSONResponse(abonnement_body(changed))

    @router.patch(
        "/abonnement/{uuid}",
        operation_id="abonnement_partial_update",
        summary="Werk een ABONNEMENT deels bij.",
        tags=["abonnement"],
        response_model=schemas.Abonnement,
        responses=responses_for(400, 401, 403, 404, 503),
        openapi_extra={"security": [{"JWT-Claims": [CONSUMEREN]}]},
    )
    async def abonnement_partial_update(
        uuid: ResourceId,
        body: schemas.PatchedAbonnement,
        client: AuthenticatedClient = consumer,
    ) -> Response:
        current = visible(client, uuid)
        given = body.model_fields_set
        whole = schemas.Abonnement(
            callback_url=body.callback_url if "callback_url" in given else current.callback_url,
            auth=body.auth if "auth" in given else current.auth,
            kanalen=body.kanalen
            if "kanalen" in given
            else [
                schemas.FilterGroup(naam=k.naam, filters=dict(k.filters)) for k in current.kanalen
            ],
        )
        changed = await checked(client, current.id, whole)
        changed = Abonnement(**{**changed.__dict__, "tenants": current.tenants})
        await abonnementen.put(changed)
        _audit("abonnement_changed", client, changed)
        return JSONResponse(abonnement_body(changed))

    @router.delete(
        "/abonnement/{uuid}",
        operation_id="abonnement_delete",
        summary="Verwijder een ABONNEMENT.",
        tags=["abonnement"],
        status_code=204,
        response_class=Response,
        responses=responses_for(401, 403, 404, 503),
        openapi_extra={"security": [{"JWT-Claims": [CONSUMEREN]}]},
    )
    async def abonnement_delete(
        uuid: ResourceId, client: AuthenticatedClient = consumer
    ) -> Response:
        gone = visible(client, uuid)
        await abonnementen.delete(gone.id)
        _audit("abonnement_deleted", client, gone)
        return Response(status_code=204)


def _publishing_routes(
    router: APIRouter, publisher: NotificatiePublisher, publisher_scope: Any
) -> None:
    @router.post(
        "/notificaties",
        operation_id="notificaties_create",
        summary="Publiceer een notificatie.",
        tags=["notificaties"],
        status_code=201,
        response_model=schemas.Message,
        responses=responses_for(400, 401, 403, 503),
        openapi_extra={"security": [{"JWT-Claims": [PUBLICEREN]}]},
    )
    async def notificaties_create(
        body: schemas.Message, client: AuthenticatedClient = publisher_scope
    ) -> Response:
        await publisher.notificatie(client, body)
        return JSONResponse(body.model_dump(mode="json", by_alias=True), status_code=201)

    @router.post(
        "/cloudevents",
        operation_id="cloudevent_create",
        summary="Publiceer een cloud event.",
        tags=["cloudevents"],
        status_code=201,
        response_model=schemas.CloudEvent,
        responses=responses_for(400, 401, 403, 415, 503),
        openapi_extra={
            "security": [{"JWT-Claims": [PUBLICEREN]}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/cloudevents+json": {
                        "schema": {"$ref": "#/components/schemas/CloudEvent"}
                    }
                },
            },
        },
    )
    async def cloudevent_create(
        request: Request, client: AuthenticatedClient = publisher_scope
    ) -> Response:
        event = await publisher.cloudevent(client, request)
        return JSONResponse(event, status_code=201, media_type="application/cloudevents+json")
