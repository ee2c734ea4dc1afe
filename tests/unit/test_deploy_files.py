"""The deployment files (deploy/compose/, deploy/k8s/) are checked without Docker or a cluster:
they parse, have the keys their tools need, pin their images, run exactly the roles api, router
and delivery, probe and scrape only paths the hub serves, name only ``KNOOPPUNT_*`` variables
that are settings, and mount the config, the alert rules and the dashboard where the hub,
Prometheus and Grafana look for them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from hub.config import check_config, load_config
from hub.runtime.assembly import build_hub
from hub.runtime.settings import Settings

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S = DEPLOY / "k8s"
COMPOSE = COMPOSE_DIR / "compose.yaml"
DOCKERFILE = COMPOSE_DIR / "Dockerfile"
DASHBOARD = DEPLOY / "observability" / "grafana" / "knooppunt.json"
RULES = DEPLOY / "observability" / "prometheus" / "knooppunt-rules.yml"
DEMO_CONFIG = DEPLOY / "demo" / "config.yaml"
ROLES = {"api", "router", "delivery"}
HUB_SERVICES = {"hub-api": "api", "hub-router": "router", "hub-delivery": "delivery"}
YAML_FILES = sorted(
    p for d in (COMPOSE_DIR, K8S) for p in d.rglob("*") if p.suffix in (".yaml", ".yml")
)
DEPLOY_FILES = sorted(p for d in (COMPOSE_DIR, K8S) for p in d.rglob("*") if p.is_file())


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = _load(COMPOSE)
    return loaded


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """A compose service's bind mounts: container path -> host path (named volumes left out)."""
    found: dict[str, Path] = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            found[target] = (COMPOSE_DIR / source).resolve()
    return found


def _host_path(service: dict[str, Any], container_path: str) -> Path:
    """The host file a container path is, through the service's bind mounts."""
    wanted = PurePosixPath(container_path)
    for target, source in _mounts(service).items():
        if wanted == PurePosixPath(target) or PurePosixPath(target) in wanted.parents:
            return source / wanted.relative_to(target)
    raise AssertionError(f"{container_path} is not mounted in {service.get('image')}")


def _config_arg(args: list[str]) -> str:
    return args[args.index("--config") + 1]


def _k8s_resources() -> list[dict[str, Any]]:
    kustomization = _load(K8S / "kustomization.yaml")
    return [doc for name in kustomization["resources"] for doc in _load_all(K8S / name)]


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _deployments() -> dict[str, dict[str, Any]]:
    """Role -> Deployment."""
    found: dict[str, dict[str, Any]] = {}
    for doc in _k8s_resources():
        if doc["kind"] == "Deployment":
            env = doc["spec"]["template"]["spec"]["containers"][0]["env"]
            roles = [e["value"] for e in env if e["name"] == "KNOOPPUNT_ROLES"]
            assert len(roles) == 1, doc["metadata"]["name"]
            found[roles[0]] = doc
    return found


def _generated(name: str) -> dict[str, Any]:
    kustomization = _load(K8S / "kustomization.yaml")
    generated: dict[str, Any] = next(
        g for g in kustomization["configMapGenerator"] if g["name"] == name
    )
    return generated


def _shared_env() -> dict[str, str]:
    return dict(literal.split("=", 1) for literal in _generated("knooppunt-env")["literals"])


@pytest.fixture(scope="module")
def app_paths() -> set[str]:
    hub = build_hub(Settings(kafka_bootstrap_servers="127.0.0.1:1"), load_config(DEMO_CONFIG))
    return {route.path for route in hub.app.routes if hasattr(route, "path")}


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    assert documents
    assert all(isinstance(doc, dict) for doc in documents if doc is not None)


def test_the_app_paths_are_read_from_the_app(app_paths: set[str]) -> None:
    assert {"/healthz", "/readyz", "/metrics"} <= app_paths
    assert "/readyzz" not in app_paths


# --- compose ----------------------------------------------------------------------------------


def test_compose_runs_kafka_the_hub_by_role_prometheus_and_grafana() -> None:
    services = _compose()["services"]
    assert set(services) == {"kafka", *HUB_SERVICES, "prometheus", "grafana"}
    for name, role in HUB_SERVICES.items():
        assert services[name]["environment"]["KNOOPPUNT_ROLES"] == role
        assert services[name]["environment"]["KNOOPPUNT_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert services[name]["build"]["dockerfile"] == "deploy/compose/Dockerfile"
        assert (COMPOSE_DIR / services[name]["build"]["context"] / "pyproject.toml").is_file()
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"


@pytest.mark.parametrize(
    ("service", "repository", "tag"),
    [
        ("kafka", "apache/kafka", r"4\.\d+\.\d+"),
        ("prometheus", "prom/prometheus", r"v\d+\.\d+\.\d+"),
        ("grafana", "grafana/grafana", r"\d+\.\d+\.\d+"),
    ],
)
def test_compose_images_are_pinned(service: str, repository: str, tag: str) -> None:
    image = _compose()["services"][service]["image"]
    name, _, version = image.partition(":")
    assert name == repository
    assert re.fullmatch(tag, version), image


def test_no_image_anywhere_is_latest_or_untagged() -> None:
    images = [s["image"] for s in _compose()["services"].values()]
    images += [
        c["image"]
        for d in _deployments().values()
        for c in d["spec"]["template"]["spec"]["containers"]
    ]
    images += re.findall(r"^FROM (\S+)", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    for image in images:
        assert not image.endswith(":latest"), image
    tags = {i["name"]: i["newTag"] for i in _load(K8S / "kustomization.yaml")["images"]}
    for image in images:
        assert ":" in image or tags.get(image, "latest") != "latest", image


def test_kafka_is_a_single_kraft_node_as_the_image_documents() -> None:
    env = _compose()["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    node = env["KAFKA_NODE_ID"]
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"]
    assert voters == f"{node}@kafka:9093"
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"].split(",")
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    protocols = dict(p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    listeners = {listener.split("://")[0] for listener in env["KAFKA_LISTENERS"].split(",")}
    assert listeners <= set(protocols)
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in listeners
    for one_replica in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[one_replica] == 1, one_replica
    assert env["CLUSTER_ID"]


def test_the_hub_config_is_mounted_where_its_config_argument_points() -> None:
    services = _compose()["services"]
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    assert dockerfile_cmd is not None
    default_config = _config_arg(yaml.safe_load(dockerfile_cmd.group(1)))
    for name in HUB_SERVICES:
        config = _config_arg(services[name]["command"])
        assert config == default_config
        on_host = _host_path(services[name], config)
        assert on_host == DEMO_CONFIG.resolve()
        check_config(on_host, {})  # its secret_file resolves beside it, in the same mount


def test_the_hub_health_checks_probe_paths_the_app_serves(app_paths: set[str]) -> None:
    checks = [
        " ".join(_compose()["services"][name]["healthcheck"]["test"]) for name in HUB_SERVICES
    ]
    checks.append(DOCKERFILE.read_text(encoding="utf-8"))
    for check in checks:
        paths = re.findall(r"http://127\.0\.0\.1:[^/]+(/\w+)", check)
        assert paths == ["/healthz"], check
        assert set(paths) <= app_paths


def test_the_dockerfile_installs_the_project_on_python_311_with_the_pinned_viewer() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.findall(r"^FROM (\S+)$", text, re.M) == ["python:3.11-slim"]
    assert "RUN pip install ." in text
    assert 'ENTRYPOINT ["knooppunt"]' in text
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for setting in ("ASYNCAPI_VIEWER_VERSION", "ASYNCAPI_VIEWER_SHA256"):
        pinned = re.search(rf"^{setting}\s*:=\s*(\S+)$", makefile, re.M)
        built = re.search(rf"^ARG {setting}=(\S+)$", text, re.M)
        assert pinned is not None, setting
        assert built is not None, setting
        assert pinned.group(1) == built.group(1), setting


def test_prometheus_scrapes_the_three_hub_services_and_loads_the_rules(
    app_paths: set[str],
) -> None:
    service = _compose()["services"]["prometheus"]
    config_file = next(a.split("=", 1)[1] for a in service["command"] if "--config.file=" in a)
    config = _load(_host_path(service, config_file))
    assert _host_path(service, config_file) == (COMPOSE_DIR / "prometheus/prometheus.yml").resolve()
    assert [_host_path(service, rule) for rule in config["rule_files"]] == [RULES.resolve()]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "knooppunt"  # the rules' up{job="knooppunt"}
    assert job.get("metrics_path", "/metrics") in app_paths
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{name}:8080" for name in HUB_SERVICES}
    roles = {group["labels"]["role"] for group in job["static_configs"]}
    assert roles == ROLES


def test_grafana_provisions_the_prometheus_datasource_and_the_dashboard() -> None:
    service = _compose()["services"]["grafana"]
    provisioning = _host_path(service, "/etc/grafana/provisioning/dashboards")
    providers = [p for f in sorted(provisioning.glob("*.yaml")) for p in _load(f)["providers"]]
    (provider,) = providers
    assert provider["type"] == "file"
    dashboard_dir = provider["options"]["path"]
    assert _host_path(service, f"{dashboard_dir}/knooppunt.json") == DASHBOARD.resolve()
    assert DASHBOARD.is_file()
    datasources_dir = _host_path(service, "/etc/grafana/provisioning/datasources")
    datasources = [
        d for f in sorted(datasources_dir.glob("*.yaml")) for d in _load(f)["datasources"]
    ]
    (datasource,) = datasources
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert datasource["isDefault"] is True  # the dashboard's datasource variable picks it


# --- Kubernetes -------------------------------------------------------------------------------


def test_kustomization_lists_existing_files_and_generates_the_config() -> None:
    kustomization = _load(K8S / "kustomization.yaml")
    for name in kustomization["resources"]:
        assert (K8S / name).is_file(), name
    assert _generated("knooppunt-config")["files"] == ["config.yaml"]
    kinds = sorted(doc["kind"] for doc in _k8s_resources())
    assert kinds == ["Deployment", "Deployment", "Deployment", "Namespace", "Service"]
    for doc in _k8s_resources():
        assert {"apiVersion", "kind", "metadata"} <= set(doc), doc
        assert doc["metadata"]["name"]


def test_there_is_one_deployment_per_role() -> None:
    deployments = _deployments()
    assert set(deployments) == ROLES
    for role, deployment in deployments.items():
        assert deployment["apiVersion"] == "apps/v1"
        assert deployment["metadata"]["name"] == f"knooppunt-{role}"
        selector = deployment["spec"]["selector"]["matchLabels"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        assert selector["app.kubernetes.io/component"] == role


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_deployment_probes_scrapes_and_sizes_its_container(
    role: str, app_paths: set[str]
) -> None:
    pod = _deployments()[role]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    http_port = int(_shared_env()["KNOOPPUNT_HTTP_PORT"])
    assert ports == {"http": http_port}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"/readyz", "/healthz"} <= app_paths
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] in app_paths
    assert int(annotations["prometheus.io/port"]) == http_port
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}, kind


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_deployment_mounts_the_config_and_reads_secrets_by_reference(role: str) -> None:
    pod = _deployments()[role]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    config = PurePosixPath(_config_arg(container["args"]))
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [
        m for m in container["volumeMounts"] if PurePosixPath(m["mountPath"]) == config.parent
    ]
    assert volumes[mount["name"]]["configMap"]["name"] == "knooppunt-config"
    assert config.name in _generated("knooppunt-config")["files"]
    sources = [next(iter(s.items())) for s in container["envFrom"]]
    assert ("configMapRef", {"name": "knooppunt-env"}) in sources
    assert ("secretRef", {"name": "knooppunt-secrets"}) in sources
    assert all("value" not in e or "SECRET" not in e["name"] for e in container.get("env", []))


def test_the_k8s_config_passes_config_check_with_the_secrets_keys() -> None:
    (secret,) = _load_all(K8S / "secret.example.yaml")
    assert secret["kind"] == "Secret"
    assert secret["metadata"]["name"] == "knooppunt-secrets"
    config = check_config(K8S / "config.yaml", secret["stringData"])
    assert {t.id for t in config.tenants} == {t.id for t in load_config(DEMO_CONFIG).tenants}
    named = re.findall(r"\b\w+_env: (\w+)", (K8S / "config.yaml").read_text(encoding="utf-8"))
    assert named
    assert set(named) <= set(secret["stringData"])


def test_the_api_service_selects_the_api_pods() -> None:
    (service,) = [doc for doc in _k8s_resources() if doc["kind"] == "Service"]
    api = _deployments()["api"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= api.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]


def test_the_k8s_scrape_config_keeps_the_annotated_hub_pods_as_job_knooppunt() -> None:
    (job,) = _load(K8S / "prometheus" / "scrape-config.yaml")["scrape_configs"]
    assert job["job_name"] == "knooppunt"
    sources = {s for rule in job["relabel_configs"] for s in rule["source_labels"]}
    for annotation in ("prometheus.io/scrape", "prometheus.io/path", "prometheus.io/port"):
        meta = "__meta_kubernetes_pod_annotation_" + re.sub(r"[^a-z0-9]", "_", annotation)
        assert meta in sources, annotation


# --- every file ---------------------------------------------------------------------------------


def test_every_knooppunt_variable_named_is_a_setting() -> None:
    fields = set(Settings.model_fields)
    texts = [p.read_text(encoding="utf-8") for p in DEPLOY_FILES]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    texts.append(readme[readme.index("## Scaling") : readme.index("## Settings")])
    named = {v for text in texts for v in re.findall(r"\bKNOOPPUNT_[A-Z0-9_]+", text)}
    assert "KNOOPPUNT_ROLES" in named
    unknown = sorted(v for v in named if v.removeprefix("KNOOPPUNT_").lower() not in fields)
    assert unknown == []


def test_every_knooppunt_value_set_is_a_valid_setting() -> None:
    compose_env = [{**_compose()["services"][name]["environment"]} for name in HUB_SERVICES]
    k8s_env = []
    for deployment in _deployments().values():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        k8s_env.append({**_shared_env(), **{e["name"]: e["value"] for e in container["env"]}})
    for env in compose_env + k8s_env:
        values = {
            k.removeprefix("KNOOPPUNT_").lower(): str(v)
            for k, v in env.items()
            if k.startswith("KNOOPPUNT_")
        }
        settings = Settings(**values)  # type: ignore[arg-type]
        assert settings.role_set <= ROLES
        assert len(settings.role_set) == 1


def test_the_dockerfile_commands_use_the_hubs_own_command_line() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None
    assert shlex.join(yaml.safe_load(cmd.group(1))) == "run --config /etc/knooppunt/config.yaml"
