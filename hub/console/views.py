"""The ops console's pages under ``/console``: server-rendered HTML, no script, no CDN.

- ``GET /console/login``, ``POST /console/login`` (operator id and password; sets the session
  cookie: HttpOnly, SameSite=Strict, Path=/console, Secure over HTTPS), ``POST /console/logout``;
- ``GET /console``: every tenant the operator sees, its destinations (circuit, delivered and
  failed since this process started, in flight, lag) and the records on its dead-letter topic;
- ``GET /console/tenants/{tenant}``: its destinations with the dead letters not replayed, and
  every dead letter (replayed ones marked) in a form to replay a selection;
- ``GET /console/tenants/{tenant}/letters/{partition}/{offset}``: one letter as ``dlq show``
  shows it (personal data masked), its attempts, and when it was replayed;
- ``POST /console/tenants/{tenant}/replay``: replay the selected letters (``letter`` =
  ``partition:offset``, repeated), replayed ones only with ``force``; needs the form's CSRF token.
  The tenant's page then says how many were replayed and skipped, and which selected ids are
  no letter of the tenant (the first five, cut short).

Without a session a page redirects to the login form and a POST answers 401; a tenant the
operator does not see answers 404, the same as one that does not exist.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import orjson
from aiokafka.errors import KafkaError
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.console.readings import destination_rows, letter_counts, tenant_letters
from hub.console.sessions import SESSION_S, Session
from hub.delivery.dead_letters import missing as missing_letters
from hub.delivery.dead_letters import not_replayed, replay, select
from hub.errors import cut
from hub.http.problems import ProblemError
from hub.observability.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from fastapi import FastAPI

    from hub.config import HubConfig, Tenant
    from hub.console.sessions import Operators
    from hub.delivery.engine import DestinationStatus
    from hub.kafka.topics import TopicNames

__all__ = ["mount_console"]

COOKIE = "knooppunt_console"
_LETTER = re.compile(r"[0-9]{1,9}:[0-9]{1,19}")
_MAX_FORM_FIELDS = 5002  # a selection of 5,000 letters, the CSRF token and the force box
_MAX_FORM_BYTES = 256 * 1024
LETTER_COUNT_S = 5.0  # the overview waits this long for the dead-letter counts, then shows "?"
_MISSING_SHOWN = 5  # ids named on the page of those selected that are no letter
_MISSING_CHARS = 40  # each cut to this: never echo what a form sent unbounded
log = get_logger(__name__)
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_HEADERS = {
    # No script at all, styles from the hub only, forms post to the hub only, never framed.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class _Console:
    """The console's state: the config, the operators, and where to read."""

    def __init__(
        self,
        config: HubConfig,
        operators: Operators,
        bootstrap: str,
        names: TopicNames,
        statuses: Callable[[], Sequence[DestinationStatus]],
        lag: Callable[[], Mapping[tuple[str, str], int]] | None,
    ) -> None:
        self.config, self.operators, self.bootstrap, self.names = (
            config,
            operators,
            bootstrap,
            names,
        )
        self.statuses, self._lag = statuses, lag

    def lag(self) -> dict[tuple[str, str], int] | None:
        """Each push destination's lag, last measured; None where nothing measures it."""
        return None if self._lag is None else dict(self._lag())

    def page(
        self, template: str, status: int = 200, session: Session | None = None, **values: Any
    ) -> HTMLResponse:
        csrf = self.operators.csrf_token(session) if session is not None else ""
        html = _templates.get_template(template).render(session=session, csrf=csrf, **values)
        return HTMLResponse(html, status_code=status, headers=_HEADERS)

    def not_found(self, session: Session) -> HTMLResponse:
        return self.page("message.html", 404, session, title="Not found", text="No such page.")

    def kafka_down(self, session: Session, error: KafkaError) -> HTMLResponse:
        text = f"Kafka did not answer ({type(error).__name__}); try again in a moment."
        return self.page("message.html", 503, session, title="Kafka unavailable", text=text)

    def tenant_for(self, session: Session, tenant_id: str) -> Tenant | None:
        """The tenant when it exists and the operator sees it; None otherwise (both 404)."""
        tenant = self.config.tenant(tenant_id)
        return tenant if tenant is not None and session.sees(tenant_id) else None


async def _form(request: Request) -> dict[str, list[str]]:
    body = await request.body()
    try:
        if len(body) > _MAX_FORM_BYTES:
            raise ValueError("too large")
        return parse_qs(body.decode("utf-8", "replace"), max_num_fields=_MAX_FORM_FIELDS)
    except ValueError:  # more fields than that: refused, never a 500 (a new user's trial)
        raise ProblemError(
            413,
            "Content too large",
            f"at most {_MAX_FORM_FIELDS - 2} letters at once; replay them in parts",
            "content_too_large",
        ) from None


def _missing_query(missing: Sequence[str]) -> list[tuple[str, str | int]]:
    """``missing`` for the redirect's query: their number and the first few, each cut short."""
    shown = [cut(x, _MISSING_CHARS) for x in missing[:_MISSING_SHOWN]]
    return [("missing", len(missing)), *(("missing_id", x) for x in shown)]


def _missing_shown(request: Request) -> tuple[int, list[str]]:
    """The page's view of ``_missing_query`` (a URL anyone can type: checked and cut again)."""
    count = request.query_params.get("missing", "0")
    ids = request.query_params.getlist("missing_id")[:_MISSING_SHOWN]
    number = int(count) if count.isascii() and count.isdigit() and len(count) < 7 else 0
    return number, [cut(x, _MISSING_CHARS) for x in ids]


def mount_console(
    app: FastAPI,
    config: HubConfig,
    operators: Operators,
    bootstrap: str,
    names: TopicNames,
    statuses: Callable[[], Sequence[DestinationStatus]],
    lag: Callable[[], Mapping[tuple[str, str], int]] | None = None,
) -> None:
    """Serve the console on ``app``; with no operators configured it says how to add one.
    ``statuses``: every push destination's state now; ``lag``: (tenant, destination) ->
    records not delivered yet (hub.runtime.destination_board gives both across processes)."""
    console = _Console(config, operators, bootstrap, names, statuses, lag)
    _mount_login(app, console)
    _mount_pages(app, console)
    _mount_replay(app, console)


def _session_of(console: _Console, request: Request) -> Session | None:
    return console.operators.session(request.cookies.get(COOKIE))


def _mount_login(app: FastAPI, console: _Console) -> None:
    operators = console.operators

    @app.get("/console/console.css", include_in_schema=False)
    async def stylesheet() -> Response:
        css = (Path(__file__).parent / "templates" / "console.css").read_bytes()
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/console/login", include_in_schema=False)
    async def login_form() -> HTMLResponse:
        return console.page("login.html", configured=bool(operators))

    @app.post("/console/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await _form(request)
        operator_id = (form.get("operator") or [""])[0]
        cookie = operators.login(operator_id, (form.get("password") or [""])[0])
        if cookie is None:
            log.info("console_login_refused")
            return console.page(
                "login.html", 401, configured=bool(operators), error="Wrong operator or password."
            )
        response = RedirectResponse("/console", status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=SESSION_S,
            path="/console",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/console/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        session = _session_of(console, request)
        form = await _form(request)
        if session is None:
            return Response("not logged in", status_code=401)
        if not operators.csrf_ok(session, (form.get("csrf") or [""])[0]):
            return Response("the form is stale or not from the console", status_code=403)
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(COOKIE, path="/console")
        return response


def _mount_pages(app: FastAPI, console: _Console) -> None:
    config, bootstrap, names, statuses = (
        console.config,
        console.bootstrap,
        console.names,
        console.statuses,
    )

    @app.get("/console", include_in_schema=False)
    async def overview(request: Request) -> Response:
        session = _session_of(console, request)
        if session is None:
            return RedirectResponse("/console/login", status_code=303)
        tenants = [t for t in config.tenants if session.sees(t.id)]
        topics = [names.dead_letter(t.id) for t in tenants]
        kafka_down: str | None = None
        try:  # bounded: in an outage the destinations' state is what an operator needs
            counts: dict[str, int | None] = dict(
                await asyncio.wait_for(letter_counts(bootstrap, topics), LETTER_COUNT_S)
            )
        except (KafkaError, TimeoutError) as exc:
            counts, kafka_down = dict.fromkeys(topics), type(exc).__name__
        statuses_now, lag = statuses(), console.lag()
        rows = [
            (t, destination_rows(t, statuses_now, lag=lag), counts[names.dead_letter(t.id)])
            for t in tenants
        ]
        return console.page("overview.html", session=session, rows=rows, kafka_down=kafka_down)

    @app.get("/console/tenants/{tenant_id}", include_in_schema=False)
    async def tenant_page(request: Request, tenant_id: str) -> Response:
        session = _session_of(console, request)
        if session is None:
            return RedirectResponse("/console/login", status_code=303)
        tenant = console.tenant_for(session, tenant_id)
        if tenant is None:
            return console.not_found(session)
        try:
            letters = await tenant_letters(bootstrap, names, tenant.id)
        except KafkaError as exc:
            return console.kafka_down(session, exc)
        missing, missing_ids = _missing_shown(request)
        return console.page(
            "tenant.html",
            session=session,
            tenant=tenant,
            destinations=destination_rows(tenant, statuses(), letters, console.lag()),
            letters=letters,
            replayed=request.query_params.get("replayed"),
            skipped=request.query_params.get("skipped"),
            missing=missing,
            missing_ids=missing_ids,
        )

    @app.get("/console/tenants/{tenant_id}/letters/{partition}/{offset}", include_in_schema=False)
    async def letter_page(
        request: Request, tenant_id: str, partition: int, offset: int
    ) -> Response:
        session = _session_of(console, request)
        if session is None:
            return RedirectResponse("/console/login", status_code=303)
        tenant = console.tenant_for(session, tenant_id)
        if tenant is None:
            return console.not_found(session)
        try:
            letters = await tenant_letters(bootstrap, names, tenant.id)
        except KafkaError as exc:
            return console.kafka_down(session, exc)
        found = select(letters.letters, offsets=[f"{partition}:{offset}"])
        if not found:
            return console.not_found(session)
        shown = found[0].shown()
        return console.page(
            "letter.html",
            session=session,
            tenant=tenant,
            letter=found[0],
            summary=found[0].summary(),
            shown=shown,
            payload=orjson.dumps(shown["payload"], option=orjson.OPT_INDENT_2).decode(),
            replay=letters.replay_of(found[0]),
        )


def _mount_replay(app: FastAPI, console: _Console) -> None:
    operators, bootstrap, names = console.operators, console.bootstrap, console.names

    replaying: dict[str, asyncio.Lock] = {}

    @app.post("/console/tenants/{tenant_id}/replay", include_in_schema=False)
    async def replay_letters(request: Request, tenant_id: str) -> Response:
        session = _session_of(console, request)
        if session is None:
            return Response("log in first: /console/login", status_code=401)
        form = await _form(request)
        if not operators.csrf_ok(session, (form.get("csrf") or [""])[0]):
            return console.page(
                "message.html",
                403,
                session,
                title="Form refused",
                text="This form is stale or not from the console; open the page again.",
            )
        tenant = console.tenant_for(session, tenant_id)
        if tenant is None:
            return console.not_found(session)
        given = form.get("letter", [])
        wanted = [x for x in given if _LETTER.fullmatch(x)]
        force = (form.get("force") or [""])[0] == "on"
        try:
            # One replay of a tenant at a time in this process: two tabs or a double submit
            # each read "not replayed yet" and sent the letter twice (a new user's trial).
            # Across processes (the CLI and a console at once) the same can still happen;
            # the back office then gets the same idempotency key twice.
            async with replaying.setdefault(tenant.id, asyncio.Lock()):
                letters = await tenant_letters(bootstrap, names, tenant.id)
                selected = select(letters.letters, offsets=wanted) if wanted else []
                chosen = selected if force else not_replayed(selected, letters.replays)
                missing = missing_letters(letters.letters, given)
                if chosen:
                    await replay(
                        bootstrap, chosen, names.dlq_replays(), f"console:{session.operator.id}"
                    )
        except KafkaError as exc:
            return console.kafka_down(session, exc)
        log.info(
            "dlq_replayed",
            tenant=tenant.id,
            by=f"console:{session.operator.id}",
            replayed=len(chosen),
            skipped=len(selected) - len(chosen),
            not_found=len(missing),
        )
        counts = [("replayed", len(chosen)), ("skipped", len(selected) - len(chosen))]
        query = urlencode([*counts, *_missing_query(missing)])
        return RedirectResponse(f"/console/tenants/{tenant.id}?{query}", status_code=303)
