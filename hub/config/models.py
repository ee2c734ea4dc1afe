"""The hub's declarative config: tenants, their destinations, API clients, routes and the
delivery policy. Models and queries only; reading YAML is in hub.config.loading, checks across
fields in hub.config.checks.
"""

from __future__ import annotations

import os
import re
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from connectors.registry import (
    connector_names,
    polling_connector_names,
    sink_connector,
)
from connectors.sdk.secrets import secret_problem, secret_text_problem
from hub.config.yaml_places import Loc, dotted
from hub.errors import ConfigError, ConfigIssue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "SCOPES",
    "ApiClient",
    "DeliveryPolicy",
    "Destination",
    "HubConfig",
    "Operator",
    "PolledSource",
    "Route",
    "Tenant",
    "client_secret",
    "client_secret_problem",
    "duration_seconds",
    "operator_secret",
    "operator_secret_problem",
]

_NAME = r"^[a-z][a-z0-9-]{0,39}$"
MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash
MIN_OPERATOR_SECRET_BYTES = 16  # a password typed in the console's login form
_DURATION = re.compile(r"^([0-9]+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str) -> int:
    """``"10s"``, ``"5m"``, ``"2h"``, ``"1d"`` in seconds."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 10s, 5m, 2h or 1d")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


MAX_DURATION_S = 365 * 86400  # a longer delay is a typo (999999999999d was accepted)


def _check_duration(text: str) -> str:
    seconds = duration_seconds(text)
    if seconds <= 0:
        raise ValueError("a delay must be longer than 0")
    if seconds > MAX_DURATION_S:
        raise ValueError("a delay of at most 365d")
    return text


Duration = Annotated[str, AfterValidator(_check_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_BRP_FIELD = r"^[a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)*$"


class BagAddress(_Strict):
    """Where a submission holds the address to look up in the BAG: dotted payload paths."""

    postcode: str = Field(pattern=_BRP_FIELD, description="e.g. values.locatie.postcode")
    huisnummer: str = Field(pattern=_BRP_FIELD, description="e.g. values.locatie.huisnummer")


class Enrichment(_Strict):
    """What a destination's copies get added at delivery, from the base registries."""

    brp: list[Annotated[str, Field(pattern=_BRP_FIELD, max_length=200)]] | None = Field(
        None,
        min_length=1,
        max_length=130,
        description="Haal Centraal BRP personen ``fields`` of the submission's person "
        "(naam, geboorte.datum, adressering...); the tenant needs ``brp``.",
    )
    kvk: bool = Field(
        False, description="The KvK basisprofiel of the submission's company (eHerkenning)."
    )
    bag: BagAddress | None = Field(
        None, description="The BAG addresses at the submission's postcode and huisnummer."
    )

    @model_validator(mode="after")
    def _something(self) -> Enrichment:
        if self.brp is None and not self.kvk and self.bag is None:
            raise ValueError("name at least one of brp, kvk or bag")
        return self


class RegistryApi(_Strict):
    """A tenant's KvK or BAG API: its base URL, and the environment variable with its key."""

    url: str = Field(pattern=r"^https?://\S+[^/]$", description="The API's base URL.")
    api_key_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    timeout_s: float = Field(10.0, gt=0, le=60)


class BrpService(_Strict):
    """A tenant's Haal Centraal BRP bevragen API (BRP personen, v2): ``POST <url>/personen``.

    Gateway headers as the BRP API gateways ask: ``x-doelbinding`` and ``x-verwerking`` from
    here, ``x-origin-oin`` the tenant's OIN; an API key from ``api_key_env`` as ``X-API-KEY``.
    """

    url: str = Field(pattern=r"^https?://\S+[^/]$", description="The API's base URL.")
    api_key_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    doelbinding: str | None = Field(None, min_length=1, max_length=200)
    verwerking: str | None = Field(None, min_length=1, max_length=200)
    timeout_s: float = Field(10.0, gt=0, le=60)


class Destination(_Strict):
    """A back office of one tenant, reached through one sink connector."""

    name: str = Field(pattern=_NAME, description="Lowercase name, unique within the tenant.")
    connector: str = Field(description="Sink connector that delivers to it, e.g. 'webhook'.")
    settings: dict[str, object] = Field(default_factory=dict, description="The connector's config.")
    max_in_flight: int | None = Field(
        None,
        ge=1,
        le=256,
        strict=True,
        description="Deliveries at once to this destination (default: delivery.max_in_flight, "
        "else what its sink declares); never two of one key at once.",
    )
    enrich: Enrichment | None = Field(
        None, description="Base-registry data added to this destination's copies at delivery."
    )

    @field_validator("connector")
    @classmethod
    def _known_connector(cls, value: str) -> str:
        if sink_connector(value) is None:
            raise ValueError(f"unknown connector; known: {', '.join(connector_names('sink'))}")
        return value


class PolledSource(_Strict):
    """A system the hub asks for news on this tenant's behalf, through one polling source
    connector (``brp-wijzigingen``). One hub process at a time polls it (docs/design.md)."""

    name: str = Field(pattern=_NAME, description="Lowercase name, unique within the tenant.")
    connector: str = Field(description="Polling source connector, e.g. 'brp-wijzigingen'.")
    settings: dict[str, object] = Field(default_factory=dict, description="The connector's config.")

    @field_validator("connector")
    @classmethod
    def _known_polling_connector(cls, value: str) -> str:
        if value not in polling_connector_names():
            known = ", ".join(polling_connector_names())
            raise ValueError(f"not a polling source connector; known: {known}")
        return value


class Tenant(_Strict):
    """A municipality, identified by its CBS gemeentecode."""

    id: str = Field(pattern=r"^[0-9]{4}$", description="CBS gemeentecode, four digits ('0363').")
    name: str = Field(min_length=1)
    oin: str = Field(
        pattern=r"^[0-9]{20}$", description="Organisatie-identificatienummer (20 digits)."
    )
    rsin: str = Field(pattern=r"^[0-9]{9}$", description="RSIN (9 digits).")
    destinations: list[Destination] = Field(default_factory=list)
    unrouted: Literal["count", "dead-letter"] = Field(
        "count", description="Events matching no route: only counted and logged, or dead-lettered."
    )
    brp: BrpService | None = Field(None, description="The tenant's BRP API, for enrichment.")
    kvk: RegistryApi | None = Field(
        None, description="The tenant's KvK API (basisprofielen), for enrichment."
    )
    bag: RegistryApi | None = Field(
        None, description="The tenant's BAG Individuele Bevragingen API, for enrichment."
    )
    sources: list[PolledSource] = Field(
        default_factory=list, description="Systems the hub polls for this tenant's events."
    )

    def destination(self, name: str) -> Destination | None:
        return next((d for d in self.destinations if d.name == name), None)


# The scopes of the Notificaties API (docs/notificaties.md): publishing kanalen and
# notificaties, and taking abonnementen. Other endpoints need no scope.
SCOPES = ("notificaties.publiceren", "notificaties.consumeren")
Scope = Literal["notificaties.publiceren", "notificaties.consumeren"]


class ApiClient(_Strict):
    """A system allowed to call the HTTP API (ZGW-style JWT), bound to the tenants it acts for.

    The secret is never in YAML: name an environment variable or a file (relative to the config).
    """

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    secret_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    secret_file: Path | None = None
    tenants: list[str] = Field(min_length=1)
    scopes: list[Scope] = Field(
        default_factory=list,
        description="Scopes of the Notificaties API this client holds: notificaties.publiceren "
        "(kanalen and notificaties), notificaties.consumeren (abonnementen). None by default.",
    )

    @model_validator(mode="after")
    def _one_secret_reference(self) -> ApiClient:
        if (self.secret_env is None) == (self.secret_file is None):
            raise ValueError("give exactly one of secret_env or secret_file")
        return self


ALL_TENANTS = "all"


class Operator(_Strict):
    """A person who uses the ops console (``/console``): sees the destinations and dead letters
    of ``tenants`` (a list of gemeentecodes, or ``all``) and replays their dead letters.

    The secret is the operator's password, never in YAML: an environment variable or a file
    (relative to the config), at least 16 bytes. It also signs the operator's sessions, so
    changing it ends them.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$", description="The login name.")
    secret_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    secret_file: Path | None = None
    tenants: list[Annotated[str, Field(pattern=r"^[0-9]{4}$")]] | Literal["all"] = Field(
        description="The tenants this operator sees and replays for, or 'all'."
    )

    @model_validator(mode="after")
    def _one_secret_reference(self) -> Operator:
        if (self.secret_env is None) == (self.secret_file is None):
            raise ValueError("give exactly one of secret_env or secret_file")
        if isinstance(self.tenants, list) and not self.tenants:
            raise ValueError("tenants: name at least one, or 'all'")
        return self

    def sees(self, tenant_id: str) -> bool:
        return self.tenants == ALL_TENANTS or tenant_id in self.tenants


SigningAlgorithm = Literal["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class IdentityProvider(_Strict):
    """An OAuth2 / OpenID Connect identity provider (Keycloak, Entra ID...) whose access tokens
    the HTTP API accepts beside the clients' ZGW-style JWTs (RFC 9068 JWT access tokens).

    A token is accepted when its signature verifies with a key of ``jwks_url`` (RS256, ES256...),
    its ``iss`` is ``issuer``, its ``aud`` names ``audience`` and it has not expired; the caller
    is the ``client_claim`` (default ``azp``, the OAuth2 client) and acts for the tenants listed
    in ``tenants_claim`` (a list, or a space-separated string). Keys are fetched at start and
    every ``refresh`` (and at once when a token names a key not seen yet, at most once a
    minute).
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    issuer: str = Field(min_length=1, max_length=500)
    jwks_url: str = Field(pattern=r"^https?://\S+$")
    audience: str = Field(min_length=1, max_length=200)
    tenants_claim: str = Field("tenants", min_length=1, max_length=100)
    client_claim: str = Field("azp", min_length=1, max_length=100)
    algorithms: list[SigningAlgorithm] = Field(
        default_factory=lambda: list[SigningAlgorithm](["RS256", "ES256"]), min_length=1
    )
    refresh: Duration = "15m"


class Route(_Strict):
    """Events of ``contract`` for ``tenant`` that match ``when`` go to each of ``to``.

    ``when`` maps a dotted payload path (``form.id``) to the value, or list of values, it must
    have; paths are those of the contract's newest version (older events are upcast first). A
    path the contract declares personal data is refused (hub.config.checks).
    """

    tenant: str
    contract: str = Field(
        description="An event type, or a family prefix such as nl.overheid.zaken for all its types."
    )
    versions: list[int] = Field(
        default_factory=list,
        description="Only events produced under these versions (all if empty).",
    )
    when: dict[str, str | int | bool | list[str | int | bool | None] | None] = Field(
        default_factory=dict
    )
    to: list[str] = Field(min_length=1)


DEFAULT_RETRY_DELAYS = ["10s", "1m", "5m", "30m", "2h", "6h", "12h"]  # about 21 h in all


class DeliveryPolicy(_Strict):
    """How failed deliveries are retried before they become dead letters."""

    retry_delays: list[Duration] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_DELAYS),
        min_length=1,
        description="One retry tier per delay, in order; after the last, dead letters.",
    )

    max_in_flight: int | None = Field(
        None,
        ge=1,
        le=256,
        strict=True,  # a number: YAML's true is not 1
        description="Deliveries at once per destination (default: what its sink declares, 8 for "
        "webhook); never two of one key (zaak, submission) at once.",
    )
    max_in_flight_total: int = Field(
        512,
        ge=1,
        le=65_536,
        strict=True,
        description="Deliveries at once in one process over every destination (destinations "
        "take turns for the free places): bounds memory whatever the number of tenants.",
    )
    circuit_failures: int = Field(
        5,
        ge=1,
        le=10_000,
        strict=True,
        description="Failed attempts in a row after which a destination's circuit opens: it is "
        "not called, its events wait in Kafka.",
    )
    circuit_break: Duration = Field(
        "15s", description="How long an open circuit waits before one probe delivery decides."
    )
    block_after: Duration = Field(
        "7d",
        description="A destination that delivered nothing for this long while failing is "
        "blocked: no more probes until an operator releases it (knooppunt destinations "
        "release); its events wait in Kafka.",
    )

    @field_validator("retry_delays")
    @classmethod
    def _ascending(cls, delays: list[str]) -> list[str]:
        seconds = [duration_seconds(delay) for delay in delays]
        if any(later <= earlier for earlier, later in pairwise(seconds)):
            raise ValueError(
                "each delay longer than the one before (60s and 1m are the same delay): a tier "
                "is a topic named after its delay"
            )
        return delays

    @model_validator(mode="after")
    def _break_before_block(self) -> DeliveryPolicy:
        if duration_seconds(self.circuit_break) > duration_seconds(self.block_after):
            raise ValueError("circuit_break must not be longer than block_after")
        return self


class HubConfig(_Strict):
    tenants: list[Tenant] = Field(min_length=1)
    clients: list[ApiClient] = Field(default_factory=list)
    operators: list[Operator] = Field(
        default_factory=list, description="Who may use the ops console (/console)."
    )
    identity_providers: list[IdentityProvider] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)
    source: Path = Field(Path("<memory>"), exclude=True)
    _locate: Callable[[Loc, str], ConfigIssue] | None = PrivateAttr(None)

    def locate_with(self, locate: Callable[[Loc, str], ConfigIssue]) -> None:
        """Remember how to find a path's file and line (the loader knows them)."""
        self._locate = locate

    def issue(self, loc: Loc, message: str) -> ConfigIssue:
        """A problem at ``loc`` (``("clients", 0, "secret_file")``), with the file and line it
        was read from when the config came from YAML."""
        if self._locate is not None:
            return self._locate(loc, message)
        return ConfigIssue(str(self.source), None, dotted(loc), message)

    @property
    def base_dir(self) -> Path:
        """Relative file references (secrets) are resolved against this folder."""
        return self.source if self.source.is_dir() else self.source.parent

    def tenant(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self.tenants if t.id == tenant_id), None)

    def client(self, client_id: str) -> ApiClient | None:
        return next((c for c in self.clients if c.id == client_id), None)

    def routes_of(self, tenant_id: str) -> list[Route]:
        return [r for r in self.routes if r.tenant == tenant_id]


def client_secret(config: HubConfig, client: ApiClient) -> str:
    """Read a client's secret from its environment variable or file; ConfigError if absent."""
    index = config.clients.index(client)
    value, field, problem = _read_secret(config, client, os.environ)
    if problem is None:
        return value
    raise ConfigError([config.issue(("clients", index, field), problem)])


def client_secret_problem(
    config: HubConfig, client: ApiClient, environ: Mapping[str, str]
) -> tuple[str, str] | None:
    """Why ``client``'s secret cannot be used (its field and a sentence), or None when it can."""
    _, field, problem = _read_secret(config, client, environ)
    return None if problem is None else (field, problem)


def operator_secret(config: HubConfig, operator: Operator) -> str:
    """Read an operator's password from its environment variable or file; ConfigError if
    absent or shorter than 16 bytes."""
    index = config.operators.index(operator)
    value, field, problem = _read_secret(config, operator, os.environ)
    if problem is None:
        return value
    raise ConfigError([config.issue(("operators", index, field), problem)])


def operator_secret_problem(
    config: HubConfig, operator: Operator, environ: Mapping[str, str]
) -> tuple[str, str] | None:
    """Why ``operator``'s password cannot be used (its field and a sentence), or None."""
    _, field, problem = _read_secret(config, operator, environ)
    return None if problem is None else (field, problem)


def _secret_file(path: Path) -> tuple[str, str | None]:
    """The secret in ``path`` (stripped), or why it cannot be read as one."""
    if not path.exists():
        return "", f"file {path} does not exist"
    if not path.is_file():  # a folder, or a device such as /dev/zero: never read
        return "", f"{path} is not a file (a folder or a device)"
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        return "", f"cannot read {path}: {exc.strerror}"
    except UnicodeDecodeError:
        return "", f"{path} is not UTF-8 text; write the secret in it as text"
    unusable = secret_text_problem(value)  # a NUL or a second line: no header carries it
    return (value, None) if unusable is None else ("", f"{path} {unusable}")


def _read_secret(
    config: HubConfig, client: ApiClient | Operator, environ: Mapping[str, str]
) -> tuple[str, str, str | None]:
    if client.secret_env is not None:
        field, unusable = "secret_env", secret_problem(environ, client.secret_env)
        if unusable is not None:
            return "", field, unusable
        value = environ[client.secret_env]
        problem = ""
    else:
        if client.secret_file is None:  # pragma: no cover - ApiClient's validator refuses it
            raise ValueError("a client or operator names secret_env or secret_file")
        path = client.secret_file
        if not path.is_absolute():
            path = config.base_dir / path
        field, problem = "secret_file", f"file {path} is empty"
        value, unreadable = _secret_file(path)
        if unreadable is not None:
            return "", field, unreadable
    size = len(value.encode())
    if value and isinstance(client, Operator) and size < MIN_OPERATOR_SECRET_BYTES:
        return "", field, f"the password is {size} bytes; at least {MIN_OPERATOR_SECRET_BYTES}"
    if value and isinstance(client, ApiClient) and size < MIN_SECRET_BYTES:
        return "", field, f"the secret is {size} bytes; HS256 needs at least {MIN_SECRET_BYTES}"
    if value:
        return value, field, None
    return "", field, problem
