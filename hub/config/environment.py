"""What a config names outside itself, checked without connecting to anything: secrets in
environment variables and files, read the way the hub will read them.

- an API client's ``secret_env`` (set) or ``secret_file`` (there, readable, UTF-8), and the
  secret at least as long as HS256 needs;
- a tenant's registry APIs' ``api_key_env`` (brp, kvk, bag);
- every connector setting (a destination's, a polled source's, after its connector's config
  model read it) whose name ends in ``_env``: the SDK's convention for the environment variable
  of a secret (connectors.sdk.secrets); and every setting that is a file path: there and
  readable, a ``ca_file`` a PEM CA bundle, a mutual-TLS certificate and key a pair.

``knooppunt config check`` and ``knooppunt run`` (before it connects) report these like every
other problem of the config, each with its file and line.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from connectors.registry import sink_connector, source_connector
from connectors.sdk.http_auth import MutualTls
from connectors.sdk.secrets import secret_problem
from hub.config.models import client_secret_problem, operator_secret_problem

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping

    from hub.config.models import Destination, HubConfig, PolledSource
    from hub.config.yaml_places import Loc
    from hub.errors import ConfigIssue

__all__ = ["environment_issues"]

SECRET_SUFFIX = "_env"  # noqa: S105 - the suffix of a setting's name, not a secret


def _secret_issues(
    config: HubConfig, environ: Mapping[str, str], partial: Collection[tuple[str, int]]
) -> list[tuple[Loc, str]]:
    """The API clients' secrets and the console operators' passwords that cannot be read."""
    found: list[tuple[Loc, str]] = []
    for i, client in enumerate(config.clients):
        if ("clients", i) not in partial:
            problem = client_secret_problem(config, client, environ)
            if problem is not None:
                found.append((("clients", i, problem[0]), problem[1]))
    for i, operator in enumerate(config.operators):
        if ("operators", i) not in partial:
            problem = operator_secret_problem(config, operator, environ)
            if problem is not None:
                found.append((("operators", i, problem[0]), problem[1]))
    return found


def environment_issues(
    config: HubConfig,
    environ: Mapping[str, str],
    partial: Collection[tuple[str, int]] = (),
    secrets: bool = True,
) -> list[ConfigIssue]:
    """Every secret and file ``config`` names that the hub could not read now. ``partial``:
    items with a problem of their own (hub.config.loading), not looked at again; ``secrets``:
    False to skip environment variables and secret files (a CI check of a production config,
    whose secrets only the production machines have)."""
    found: list[tuple[Loc, str]] = []
    if secrets:
        found += _secret_issues(config, environ, partial)
    for i, tenant in enumerate(config.tenants):
        loc: Loc = ("tenants", i)
        if loc not in partial:
            for name in ("brp", "kvk", "bag"):
                api = getattr(tenant, name)
                if api is not None:
                    found += _model_issues(api, (*loc, name), environ, secrets)
        places: list[tuple[Loc, Destination | PolledSource]] = [
            *(((*loc, "destinations", j), d) for j, d in enumerate(tenant.destinations)),
            *(((*loc, "sources", j), s) for j, s in enumerate(tenant.sources)),
        ]
        for place, item in places:
            settings = _connector_settings(item.connector, item.settings, str(place[2]))
            if settings is not None:
                found += _model_issues(settings, (*place, "settings"), environ, secrets)
    return [config.issue(loc, message) for loc, message in found]


def _connector_settings(connector: str, settings: object, kind: str) -> BaseModel | None:
    """The settings as the connector's config model reads them; None when they cannot be read
    (a problem reported already) or the connector is unknown."""
    spec = sink_connector(connector) if kind == "destinations" else source_connector(connector)
    if spec is None:
        return None
    try:
        return spec.config.model_validate(settings)
    except ValidationError:
        return None


def _model_issues(
    model: BaseModel, loc: Loc, environ: Mapping[str, str], secrets: bool
) -> list[tuple[Loc, str]]:
    issues: list[tuple[Loc, str]] = []
    for where, value in _leaves(model, loc):
        name = str(where[-1])
        if isinstance(value, str) and name.endswith(SECRET_SUFFIX):
            problem = secret_problem(environ, value) if secrets else None
            if problem is not None:
                issues.append((where, problem))
        elif isinstance(value, Path):
            problem = _file_problem(value, ca_bundle=name == "ca_file")
            if problem is not None:
                issues.append((where, problem))
        elif isinstance(value, MutualTls):
            problem = _certificate_problem(value)
            if problem is not None:
                issues.append((where, problem))
    return issues


def _leaves(value: object, loc: Loc) -> Iterator[tuple[Loc, Any]]:
    """Every value in a model, by its path (field names as written in YAML); a mutual-TLS
    setting both as itself (its pair is checked) and through its files."""
    if isinstance(value, BaseModel):
        if isinstance(value, MutualTls):
            yield loc, value
        for name, field in type(value).model_fields.items():
            yield from _leaves(getattr(value, name), (*loc, field.alias or name))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _leaves(item, (*loc, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*loc, str(key)))
    else:
        yield loc, value


def _file_problem(path: Path, ca_bundle: bool) -> str | None:
    """Why ``path`` cannot be read as the hub will (relative paths from the working folder,
    as the connectors open them); None when it can."""
    try:
        with path.open("rb") as file:
            file.read(1)
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    if ca_bundle:
        try:
            ssl.create_default_context(cafile=str(path))
        except ssl.SSLError as exc:
            return f"{path} is not a PEM file of CA certificates ({exc.reason or exc})"
    return None


def _certificate_problem(tls: MutualTls) -> str | None:
    """Whether the client certificate and its key load as a pair, as the HTTP client will."""
    if any(_file_problem(path, ca_bundle=False) for path in (tls.cert_file, tls.key_file)):
        return None  # each file says what is wrong with it
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(certfile=str(tls.cert_file), keyfile=str(tls.key_file))
    except ssl.SSLError as exc:
        return (
            f"{tls.cert_file} and {tls.key_file} are not a PEM certificate and its key "
            f"({exc.reason or exc})"
        )
    return None
