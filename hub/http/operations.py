"""The operations endpoints: liveness, readiness, Prometheus metrics, the AsyncAPI document
(its viewer page is hub.http.documentation's)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from fastapi import Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from hub.http.metering import RequestMetrics

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from fastapi import FastAPI
    from faststream.specification import AsyncAPI

    from hub.delivery.engine import DestinationStatus
    from hub.observability.metrics import Metrics

__all__ = ["install_operations"]


def install_operations(
    app: FastAPI,
    ready: Callable[[], Awaitable[tuple[bool, dict[str, str]]]],
    metrics: Metrics,
    specification: AsyncAPI,
    destinations: Callable[[], Sequence[DestinationStatus]],
) -> None:
    """``/healthz`` (alive), ``/readyz`` (``ready()``: 200 or 503 with every check),
    ``/metrics``, ``/destinations`` (each push destination's circuit and load in this process),
    ``/asyncapi.json`` (the page ``/asyncapi``: hub.http.documentation); served whatever the
    process's roles. Every HTTP request the app answers is counted by route template and status
    (hub.http.metering)."""
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get("/destinations", tags=["operations"], summary="Push destinations: circuit, load")
    async def destinations_status() -> list[dict[str, object]]:
        return [asdict(one) for one in destinations()]

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="Kafka reachable and consumers assigned")
    async def readyz() -> JSONResponse:
        ok, checks = await ready()
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics")
    async def metrics_endpoint() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/asyncapi.json", tags=["operations"], summary="AsyncAPI document of the Kafka side")
    async def asyncapi_json() -> Response:
        return Response(specification.to_specification().to_json(), media_type="application/json")
