"""The local cluster's layout: ports in a row, one quorum, one cluster id, refused mix-ups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.kafka.cluster import LocalKafkaCluster, cluster_ports, recorded_cluster
from hub.kafka.local import LocalKafkaError


def test_brokers_take_the_first_ports_and_controllers_the_next() -> None:
    assert cluster_ports(9092, 1) == [(9092, 9093)]  # the single broker's ports, as ever
    assert cluster_ports(9092, 3) == [(9092, 9095), (9093, 9096), (9094, 9097)]


def test_every_node_knows_all_voters_and_replicates_internal_topics_three_times(
    tmp_path: Path,
) -> None:
    cluster = LocalKafkaCluster(tmp_path, nodes=3, port=19092)
    assert cluster.bootstrap == "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
    second = cluster.nodes[1]
    assert second.data_dir == tmp_path.resolve() / "node-2"
    properties = second._server_properties()
    assert "node.id=2" in properties
    assert "listeners=PLAINTEXT://127.0.0.1:19093,CONTROLLER://127.0.0.1:19096" in properties
    voters = "1@127.0.0.1:19095,2@127.0.0.1:19096,3@127.0.0.1:19097"
    assert f"controller.quorum.voters={voters}" in properties
    assert "offsets.topic.replication.factor=3" in properties
    assert "transaction.state.log.min.isr=2" in properties


def test_the_cluster_id_is_recorded_once_and_shared(tmp_path: Path) -> None:
    first = LocalKafkaCluster(tmp_path, nodes=3, port=19092)._cluster_id()
    assert LocalKafkaCluster(tmp_path, nodes=3, port=19092)._cluster_id() == first
    assert recorded_cluster(tmp_path) == (3, 19092)
    assert json.loads((tmp_path / "cluster.json").read_text())["cluster_id"] == first


def test_another_layout_on_the_same_data_is_refused(tmp_path: Path) -> None:
    LocalKafkaCluster(tmp_path, nodes=3, port=19092)._cluster_id()
    with pytest.raises(LocalKafkaError, match="holds a 3-node cluster on port 19092"):
        LocalKafkaCluster(tmp_path, nodes=5, port=19092).up()
    with pytest.raises(LocalKafkaError, match="use --nodes 3 --port 19092"):
        LocalKafkaCluster(tmp_path, nodes=3, port=29092).up()


def test_a_single_broker_data_dir_is_not_turned_into_a_cluster(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    with pytest.raises(LocalKafkaError, match="holds a single-node broker"):
        LocalKafkaCluster(tmp_path, nodes=3).up()
    assert recorded_cluster(tmp_path) is None


def test_status_lists_every_node_of_a_cluster_that_is_not_running(tmp_path: Path) -> None:
    status = LocalKafkaCluster(tmp_path, nodes=3, port=19092).status()
    assert not status.running
    lines = status.describe().splitlines()
    assert lines[0].startswith("local Kafka cluster of 3 nodes, 0 serving")
    assert lines[1:] == [f"  node {i} at 127.0.0.1:{19091 + i}: not running" for i in (1, 2, 3)]
