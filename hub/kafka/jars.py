"""What the local broker runs on: the Kafka jars from Maven Central, and Java.

The jars come through ``deploy/kafka/pom.xml`` and are cached under ``<cache>/<hash of the pom>``,
so a second start downloads nothing and a version bump in the pom resolves anew.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import TextIO

from hub.errors import KnooppuntError, UsageError

__all__ = [
    "DEPLOY_DIR",
    "REPO_ROOT",
    "LocalKafkaError",
    "LocalKafkaUsageError",
    "check_java",
    "resolve_broker_jars",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
MIN_JAVA = 17
LOG_TAIL_LINES = 40  # lines of Maven's or the broker's output shown with an error


class LocalKafkaError(KnooppuntError):
    """The local broker could not be resolved, formatted, started or stopped."""


class LocalKafkaUsageError(LocalKafkaError, UsageError):
    """The local broker cannot start as asked: its ports are taken or out of range, its data
    dir holds another layout. The message names the option to change."""


def _pom_digest(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()[:12]


def resolve_broker_jars(
    cache_root: Path, deploy_dir: Path = DEPLOY_DIR, progress: TextIO | None = sys.stderr
) -> Path:
    """Return a folder with every jar the broker needs, downloading them only the first time.

    The folder is keyed by the pom's content, so changing the Kafka version in the pom resolves
    anew while an unchanged pom never calls Maven again. The first time, ``progress`` gets a
    line saying so, a dot per artifact Maven downloads or copies, and how long it took.
    """
    pom = deploy_dir / "pom.xml"
    if not pom.is_file():
        raise LocalKafkaError(f"{pom} is missing: it names the Kafka jars to download")
    libs = cache_root / _pom_digest(pom)
    if (libs / ".complete").is_file():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalKafkaError(
            "Maven ('mvn') is not on PATH; it downloads the Kafka jars once "
            "(Debian/Ubuntu: apt-get install maven)"
        )
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="libs-", dir=cache_root))
    command = [
        mvn,
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
    ]
    returncode, tail = _run_maven(command, progress)
    if returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise LocalKafkaError(f"Maven could not resolve the Kafka jars from {pom}:\n{tail}")
    (staging / ".complete").write_text(pom.read_text())
    if libs.exists():  # a concurrent resolve finished first; keep its copy
        shutil.rmtree(staging, ignore_errors=True)
    else:
        staging.rename(libs)
    return libs


def _run_maven(command: list[str], progress: TextIO | None) -> tuple[int, str]:
    """Run Maven; on ``progress`` a line before, a dot per artifact it downloads or copies,
    and how long it took. Returns its exit code and the last lines it printed (for an error)."""

    def say(text: str) -> None:
        if progress is not None:
            progress.write(text)
            progress.flush()

    say("Fetching the Kafka jars from Maven Central (only this once; they are cached) ")
    started = time.monotonic()
    tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
    artifacts = 0
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as maven:
        for line in maven.stdout or ():
            tail.append(line.rstrip("\n"))
            if "Downloaded from" in line or "] Copying " in line:
                artifacts += 1
                say(".")
    outcome = "done" if maven.returncode == 0 else "failed"
    fetched = f"{artifacts} artifacts" if artifacts else "all from the local Maven cache"
    say(f" {outcome}: {fetched} in {time.monotonic() - started:.0f} s\n")
    return maven.returncode, "\n".join(tail)


def check_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise LocalKafkaError(
            f"Java {MIN_JAVA}+ is needed for the local Kafka broker and 'java' is not on PATH "
            "(Debian/Ubuntu: apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "([0-9]+)', out)
    if match is None or int(match.group(1)) < MIN_JAVA:
        raise LocalKafkaError(f"Kafka 4 needs Java {MIN_JAVA}+; 'java -version' says: {out}")
    return java
