"""The connector SDK: the one API a connector sees (docs/design.md, "Connector anatomy").

A connector folder imports only ``contracts``, ``connectors.sdk`` and itself. The public surface:

- specs: ``SinkSpec``, ``SourceSpec`` (connectors.sdk.spec)
- sinks: ``Sink``, ``Delivery``, ``Health`` and the outcomes ``Delivered``, ``Retryable``,
  ``Throttled``, ``Permanent`` (connectors.sdk.sink, connectors.sdk.outcomes)
- sources: ``PushSource``, ``PollingSource``, ``PollResult``, ``NewEvent``, ``SourceContext``,
  ``SourceRefused`` (connectors.sdk.source)
- context: ``ConnectorContext``, ``TenantInfo``, ``Secrets``, ``SecretName``, HTTP clients
  (``HttpClients``, ``HttpClient``, ``HttpResponse``, the ``HttpError`` tree, ``MockTransport``)
  and their auth (connectors.sdk.context, .secrets, .http_client, .http_messages, .http_auth);
  classification of HTTP answers (connectors.sdk.http)
- attachments by reference: ``AttachmentStore``, ``StoredAttachment`` (connectors.sdk.attachments)
- tests: the conformance suite (connectors.sdk.conformance, imported by tests only)
"""

from __future__ import annotations

from connectors.sdk.attachments import AttachmentStore, StoredAttachment
from connectors.sdk.context import ConnectorContext, MetricsHook, NoMetrics, TenantInfo
from connectors.sdk.http_auth import (
    HeaderAuth,
    HttpAuth,
    MutualTls,
    NoAuth,
    OAuth2ClientCredentials,
    ZgwJwtAuth,
)
from connectors.sdk.http_client import HttpClient, HttpClients
from connectors.sdk.http_messages import (
    HttpConnectError,
    HttpError,
    HttpNetworkError,
    HttpProtocolError,
    HttpRequest,
    HttpResponse,
    HttpTimeoutError,
    HttpTlsError,
    HttpTransport,
    MockTransport,
)
from connectors.sdk.http_transport import ConnectionPool
from connectors.sdk.outcomes import Delivered, Failure, Outcome, Permanent, Retryable, Throttled
from connectors.sdk.secrets import SecretMissingError, SecretName, Secrets
from connectors.sdk.sink import DEFAULT_MAX_IN_FLIGHT, Delivery, Health, Sink
from connectors.sdk.source import (
    Caller,
    NewEvent,
    PollingSource,
    PollResult,
    Published,
    PushSource,
    SourceContext,
    SourceRefused,
)
from connectors.sdk.spec import ConnectorSpec, SinkSpec, SourceSpec

__all__ = [
    "DEFAULT_MAX_IN_FLIGHT",
    "AttachmentStore",
    "Caller",
    "ConnectionPool",
    "ConnectorContext",
    "ConnectorSpec",
    "Delivered",
    "Delivery",
    "Failure",
    "HeaderAuth",
    "Health",
    "HttpAuth",
    "HttpClient",
    "HttpClients",
    "HttpConnectError",
    "HttpError",
    "HttpNetworkError",
    "HttpProtocolError",
    "HttpRequest",
    "HttpResponse",
    "HttpTimeoutError",
    "HttpTlsError",
    "HttpTransport",
    "MetricsHook",
    "MockTransport",
    "MutualTls",
    "NewEvent",
    "NoAuth",
    "NoMetrics",
    "OAuth2ClientCredentials",
    "Outcome",
    "Permanent",
    "PollResult",
    "PollingSource",
    "Published",
    "PushSource",
    "Retryable",
    "SecretMissingError",
    "SecretName",
    "Secrets",
    "Sink",
    "SinkSpec",
    "SourceContext",
    "SourceRefused",
    "SourceSpec",
    "StoredAttachment",
    "TenantInfo",
    "Throttled",
    "ZgwJwtAuth",
]
