"""Every aiokafka client the hub makes is started with hub.kafka.clients.start_client: a
direct ``client.start()`` cancelled at a hub's stop leaves a connection open (the module's
docstring; tests/integration/test_kafka_client_start.py shows it on a real broker)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT_CLASSES = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient"}


def _names_a_client(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) and n.id in CLIENT_CLASSES for n in ast.walk(tree))


def _direct_starts(path: Path) -> list[str]:
    """``<x>.start()`` calls on a name or attribute that holds a client in a module that makes
    aiokafka clients (``consumer``, ``self._producer``, ``admin``...)."""
    tree = ast.parse(path.read_text(), str(path))
    if not _names_a_client(tree):
        return []
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "start"
        ):
            target = node.func.value
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if any(word in name.lower() for word in ("consumer", "producer", "admin", "started")):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_kafka_client_is_started_directly() -> None:
    modules = [p for d in ("hub", "connectors") for p in (REPO / d).rglob("*.py")]
    direct = [hit for p in modules if p.name != "clients.py" for hit in _direct_starts(p)]
    assert direct == [], "use hub.kafka.clients.start_client:\n" + "\n".join(direct)


def test_the_check_finds_a_direct_start(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from aiokafka import AIOKafkaConsumer\n"
        "async def f():\n    consumer = AIOKafkaConsumer()\n    await consumer.start()\n"
    )
    assert len(_direct_starts(module)) == 1
