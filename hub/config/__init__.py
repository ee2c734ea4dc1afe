"""The hub's declarative config: tenants, destinations, API clients, console operators, routes,
delivery policy.

``models`` holds the pydantic models and queries, ``loading`` reads YAML (a file or a folder),
``checks`` the checks across fields, ``conditions`` route condition paths against contracts,
``environment`` the secrets and files a config names, ``yaml_places`` the file-and-line
bookkeeping.
"""

from hub.config.loading import check_config, load_config
from hub.config.models import (
    ApiClient,
    BrpService,
    DeliveryPolicy,
    Destination,
    HubConfig,
    IdentityProvider,
    Operator,
    Route,
    Tenant,
    client_secret,
    duration_seconds,
    operator_secret,
)

__all__ = [
    "ApiClient",
    "BrpService",
    "DeliveryPolicy",
    "Destination",
    "HubConfig",
    "IdentityProvider",
    "Operator",
    "Route",
    "Tenant",
    "check_config",
    "client_secret",
    "duration_seconds",
    "load_config",
    "operator_secret",
]
