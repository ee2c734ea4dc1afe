"""structlog set-up: one JSON object per line, one snake_case ``event`` per thing that happens.

Every value passes through ``hub.observability.redaction.redact`` last, so a BSN never reaches
a log line.
Event names are listed in docs/logging.md.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from hub.observability.redaction import redact

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger

__all__ = [
    "RepeatFilter",
    "StartupNoiseFilter",
    "configure_logging",
    "get_logger",
    "redact_processor",
]

# What the Kafka clients say, and retry themselves, while a broker that just started loads its
# group and transaction coordinators (__consumer_offsets is created on a fresh broker's first
# join) or elects the leaders of topics created a moment ago.
STARTUP_NOISE = (
    "CoordinatorNotAvailable",
    "Coordinator not available",
    "CoordinatorLoadInProgress",
    "Coordinator load in progress",
    "NotCoordinator",
    "LeaderNotAvailable",
    "Leader not available",
    # A topic created a moment ago: its metadata names a leader a little before that broker
    # serves as one (hub.kafka.admin.ensure_topics waits for the metadata; this is the rest).
    "NotLeaderForPartition",
    "NotLeaderOrFollower",
)
STARTUP_GRACE_S = 60.0


class RepeatFilter(logging.Filter):
    """Lets a library's line through once per ``window_s`` per (logger, message template): while
    a broker is down aiokafka says the same thing about 100 times a second. The next line let
    through says how many were left out. The hub's own events are never filtered."""

    def __init__(self, window_s: float = 30.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.window_s, self.clock = window_s, clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "hub" or record.name.startswith("hub."):
            return True
        key = (record.name, str(record.msg))
        now = self.clock()
        last, left_out = self._seen.get(key, (float("-inf"), 0))
        if now - last < self.window_s:
            self._seen[key] = (last, left_out + 1)
            return False
        self._seen[key] = (now, 0)
        if left_out:
            record.msg = f"{record.msg} ({left_out} more like this in {self.window_s:g} s left out)"
        return True


class StartupNoiseFilter(logging.Filter):
    """A healthy start logs nothing above info. While a broker loads its coordinators the Kafka
    clients log errors and warnings about it (aiokafka's "Group Coordinator Request failed:
    CoordinatorNotAvailableError", librdkafka's "Coordinator load in progress: retrying") and
    retry, and the hub starts normally. For ``grace_s`` from the start these lines (and only
    these, only from libraries) are debug lines: dropped unless the hub logs at DEBUG. A broker
    whose coordinator stays away is still said, after the grace."""

    def __init__(
        self, hub_level: int, grace_s: float = STARTUP_GRACE_S, clock: Any = time.monotonic
    ) -> None:
        super().__init__()
        self.hub_level, self.clock = hub_level, clock
        self.until = clock() + grace_s

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.INFO or record.name == "hub" or record.name.startswith("hub."):
            return True
        if self.clock() > self.until:
            return True
        message = record.getMessage()
        if not any(noise in message for noise in STARTUP_NOISE):
            return True
        if self.hub_level > logging.DEBUG:
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def redact_processor(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # "event" is redacted as text too: for records from other libraries it is their message.
    return {
        key: redact(value, None if key == "event" else key) for key, value in event_dict.items()
    }


def _dumps(value: Any, default: Any = None) -> str:
    return orjson.dumps(value, default=default or str).decode()


def configure_logging(level: str = "INFO") -> None:
    """JSON logs on stdout; the standard library's loggers (aiokafka, uvicorn) go there too."""
    numeric = logging.getLevelName(level)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_processor,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer(serializer=_dumps)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(),  # prints to sys.stdout as it is then
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(serializer=_dumps),
            ],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    handler.addFilter(StartupNoiseFilter(numeric))
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))  # libraries: warnings and up only
    logging.getLogger("hub").setLevel(numeric)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
