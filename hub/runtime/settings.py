"""Process settings from the environment (``KNOOPPUNT_*``); tenants and routes live in YAML."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.kafka.topics import TopicNames

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Settings", "blob_store_problem", "url_problem"]

# S3's bucket naming rules (MinIO and Ceph keep them too): 3 to 63 lowercase letters, digits,
# dots and hyphens, a letter or digit at each end.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_AWS_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


def url_problem(value: str) -> str | None:
    """Why ``value`` is not an ``http(s)://host[:port][/path]`` URL; None when it is."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a port that is not a number, a bracket left open
        port_ok, parts = False, urlsplit("")
    if parts.scheme in {"http", "https"} and parts.hostname and port_ok:
        return None
    return "must be an http:// or https:// URL with a host, such as http://minio:9000"


def blob_store_problem(spec: str, environ: Mapping[str, str]) -> str | None:
    """Why ``spec`` (``KNOOPPUNT_BLOB_STORE``) names no blob store the hub can make; None when
    it does. ``s3://<bucket>[/<prefix>]`` needs a valid bucket name, and the AWS access key id
    and secret in ``environ`` both or neither; another ``scheme://`` is no store the hub knows
    (it was taken as a folder of that name)."""
    spec = spec.strip()
    if spec.startswith("s3://"):
        bucket = spec.removeprefix("s3://").partition("/")[0]
        if not _BUCKET.fullmatch(bucket):
            return (
                "s3://<bucket>[/<prefix>] needs a bucket name of 3 to 63 lowercase letters, "
                "digits, dots and hyphens"
            )
        given = [name for name in _AWS_KEYS if environ.get(name)]
        if len(given) == 1:
            both = " and ".join(_AWS_KEYS)
            return f"the S3 blob store needs {both} both or neither; only {given[0]} is set"
        return None
    if _URL_SCHEME.match(spec):
        return "give a folder, or s3://<bucket>[/<prefix>]; no other kind of store is known"
    return None


ROLES = ("api", "router", "delivery")


class Settings(BaseSettings):
    """Where the hub finds Kafka and how it serves HTTP; each field has a KNOOPPUNT_ variable."""

    model_config = SettingsConfigDict(env_prefix="KNOOPPUNT_", extra="ignore")

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        description="Kafka bootstrap servers, comma separated; the local broker by default.",
    )
    http_host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    http_port: int = Field(8080, ge=1, le=65535, description="Port the HTTP API listens on.")
    topic_prefix: str = Field(
        "",
        pattern=r"^([a-z0-9][a-z0-9-]*\.)?$",
        description="Prefix of every topic and consumer group: lowercase letters, digits and "
        "dashes ending in a dot, e.g. 'acc.' (empty: none).",
    )
    topic_partitions: int = Field(
        3, ge=1, description="Partitions of the topics the hub creates (more = more consumers)."
    )
    push_partitions: int = Field(
        1,
        ge=1,
        description="Partitions of a push destination's topic when the hub creates it. The "
        "delivery engine runs max_in_flight deliveries per destination in one process, so one "
        "partition carries a destination; more let several delivery processes share one "
        "destination, and each costs fetch work in every delivery process.",
    )
    topic_replication: int | None = Field(
        None,
        ge=1,
        description="Replication factor of the topics the hub creates; 'auto' (default): "
        "min(3, brokers running when the hub starts).",
    )
    topic_min_insync_replicas: int | None = Field(
        None,
        ge=1,
        description="min.insync.replicas of the topics the hub creates; 'auto' (default): 2 "
        "with 3 or more replicas, else 1.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    data_dir: Path = Field(
        Path(".knooppunt"), description="Local state: the local broker's data and jars."
    )
    kafka_port: int = Field(9092, ge=1, le=65535, description="Port of the local broker.")
    kafka_heap: str = Field(
        "512m",
        pattern=r"^[0-9]+[kKmMgG]?$",
        description="JVM heap of the local broker (-Xmx): 512m, 2g.",
    )
    publish_timeout_s: float = Field(
        10.0,
        gt=0,
        description="How long a submission waits for Kafka's acknowledgement before the client "
        "gets 503 with Retry-After.",
    )
    roles: str = Field(
        "api,router,delivery",
        description="What this process does, comma separated: api (HTTP intake and polling "
        "sources), router, delivery (the delivery engine and retry tiers). Processes of one "
        "role share the work through their consumer group; health, readiness and metrics are "
        "always served.",
    )
    shutdown_grace_s: float = Field(
        15.0, gt=0, description="How long in-flight events may take to finish on shutdown."
    )
    blob_store: str = Field(
        "",
        description="Where attachment bytes are kept (the claim-check): empty for the folder "
        "<data_dir>/blobs, a folder path, or s3://<bucket>[/<prefix>] (with "
        "KNOOPPUNT_S3_ENDPOINT_URL, KNOOPPUNT_S3_REGION and AWS_ACCESS_KEY_ID / "
        "AWS_SECRET_ACCESS_KEY for an S3-compatible store).",
    )
    s3_endpoint_url: str | None = Field(
        None, description="An S3-compatible store's endpoint (MinIO, Ceph); empty for AWS."
    )
    s3_region: str = Field("us-east-1", description="The S3 region.")
    public_url: str | None = Field(
        None,
        description="The hub's URL as clients reach it, for attachment links; default "
        "http://<http_host>:<http_port>.",
    )
    max_attachment_bytes: int = Field(
        50 * 1024 * 1024, ge=1, description="Largest attachment accepted (bytes)."
    )
    max_submission_bytes: int = Field(
        50 * 1024 * 1024, ge=1, description="Largest total of a submission's attachments (bytes)."
    )
    blob_retention_s: int = Field(
        30 * 86400,
        ge=1,
        le=3650 * 86400,
        description="How long attachment bytes are kept after the last event that carried them "
        "(seconds; 30 days, at most 10 years); then removed once no event that may still be "
        "delivered, dead letters included, names them.",
    )
    blob_sweep_interval_s: float = Field(
        3600,
        gt=0,
        le=7 * 86400,
        description="How often a delivery process looks for blobs to remove (seconds).",
    )
    lag_interval_s: float = Field(
        15,
        gt=0,
        le=3600,
        description="How often a router or delivery process measures its consumer groups' lag "
        "for knooppunt_consumer_lag (seconds; a scrape reads the last figures).",
    )

    status_interval_s: float = Field(
        10,
        gt=0,
        le=3600,
        description="How often a delivery process shares its destinations' state with the ops "
        "console of every process (seconds; only with operators in the config).",
    )

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        """A raw pattern in the error said nothing to a new user (``--role bogus``)."""
        given = [role.strip() for role in value.split(",")]
        unknown = [role for role in given if role not in ROLES]
        if unknown or not value.strip():
            shown = ", ".join(repr(role[:40]) for role in unknown[:3]) or "nothing"
            raise ValueError(
                f"{shown} is not a role; give api, router and/or delivery, comma separated"
            )
        return ",".join(dict.fromkeys(given))

    @field_validator("topic_replication", "topic_min_insync_replicas", mode="before")
    @classmethod
    def _auto_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "auto"):
            return None
        return value

    @field_validator("blob_store")
    @classmethod
    def _a_blob_store(cls, value: str) -> str:
        problem = blob_store_problem(value, os.environ)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("s3_endpoint_url", "public_url")
    @classmethod
    def _a_url(cls, value: str | None) -> str | None:
        if not value:  # empty: AWS S3 (the endpoint), http://<http_host>:<http_port> (public)
            return None
        problem = url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(self.roles.split(","))

    @property
    def topics(self) -> TopicNames:
        return TopicNames(self.topic_prefix)
