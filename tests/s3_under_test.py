"""A real S3-compatible server for the tests: moto's server mode on a free loopback port.

It runs as a process of its own (``python -m moto.server``, installed by ``make install`` as
the dev dependency ``moto[server]``), so its threads share nothing with the tests' event loop.
It keeps objects in memory and checks no signature: any credentials do. Each test makes a
bucket of its own (``create_bucket``), so tests share the server, never a bucket.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import obstore
from obstore.store import S3Store

from tests.kafka_under_test import free_port

__all__ = ["S3UnderTest", "s3_for_session"]

_START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class S3UnderTest:
    endpoint_url: str
    region: str = "us-east-1"
    access_key_id: str = "knooppunt-test"
    secret_access_key: str = "knooppunt-test-secret"

    def create_bucket(self, name: str) -> None:
        httpx.put(f"{self.endpoint_url}/{name}").raise_for_status()

    def client(self, bucket: str) -> S3Store:
        """A client of ``bucket`` of its own (obstore, no prefix): what another tool sees."""
        return S3Store(
            bucket,
            endpoint=self.endpoint_url,
            region=self.region,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            virtual_hosted_style_request=False,
            client_options={"allow_http": True},
        )

    def object_names(self, bucket: str) -> list[str]:
        """Every object in ``bucket``, by its full name."""
        return sorted(meta["path"] for batch in obstore.list(self.client(bucket)) for meta in batch)


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def s3_for_session() -> Iterator[S3UnderTest]:
    """Start moto's S3 server, wait until it answers, stop it at the end."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + _START_TIMEOUT_S
            while not _answers(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"moto's S3 server did not start on port {port}:\n{output}")
                time.sleep(0.1)
            yield S3UnderTest(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
