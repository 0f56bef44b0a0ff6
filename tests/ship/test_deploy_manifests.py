"""deploy/ renders with `kubectl kustomize`, validates offline, and says what the issue asks."""

import copy
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S_VERSION = kubernetes_validate.latest_version()
SHUTDOWN_TIMEOUT_SECONDS = 10
KUBECONFIG_DIR = "/etc/kubeconfig"


def find_kubectl() -> str:
    path = shutil.which("kubectl") or "/usr/bin/kubectl"
    assert Path(path).exists(), "kubectl is needed to render deploy/ (kubectl kustomize)"
    return path


@pytest.fixture(scope="module")
def documents(repo_root: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [find_kubectl(), "kustomize", str(repo_root / "deploy")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind_name(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def pod_spec(documents: list[dict[str, Any]], deployment: str) -> dict[str, Any]:
    spec: dict[str, Any] = by_kind_name(documents, "Deployment", deployment)["spec"]
    return spec["template"]["spec"]


# The newest schemas bundled, and the oldest Kubernetes the manifests are meant to run on.
@pytest.mark.parametrize("version", [K8S_VERSION, "1.27.0"])
def test_every_document_passes_strict_schema_validation(
    documents: list[dict[str, Any]], version: str
) -> None:
    assert len(documents) == 9
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_strict_validation_rejects_a_misspelt_field(documents: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(by_kind_name(documents, "Deployment", "ml-platform-backend"))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_everything_lives_in_the_ml_platform_namespace(documents: list[dict[str, Any]]) -> None:
    by_kind_name(documents, "Namespace", "ml-platform")
    for document in documents:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "ml-platform", document["metadata"]


def test_services_expose_the_agreed_node_ports(documents: list[dict[str, Any]]) -> None:
    backend = by_kind_name(documents, "Service", "ml-platform-backend")["spec"]
    frontend = by_kind_name(documents, "Service", "ml-platform-frontend")["spec"]
    postgres = by_kind_name(documents, "Service", "ml-platform-postgres")["spec"]
    assert backend["type"] == frontend["type"] == "NodePort"
    assert [(p["port"], p["nodePort"]) for p in backend["ports"]] == [(8080, 30180)]
    assert [p["nodePort"] for p in frontend["ports"]] == [30181]
    assert postgres["type"] == "ClusterIP"
    assert [p["port"] for p in postgres["ports"]] == [5432]


def test_service_selectors_match_their_pods(documents: list[dict[str, Any]]) -> None:
    for name in ("ml-platform-backend", "ml-platform-frontend", "ml-platform-postgres"):
        selector = by_kind_name(documents, "Service", name)["spec"]["selector"]
        deployment = by_kind_name(documents, "Deployment", name)["spec"]
        labels = deployment["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        assert deployment["selector"]["matchLabels"].items() <= labels.items()


def test_backend_passes_kubeconfig_paths_as_args(documents: list[dict[str, Any]]) -> None:
    deployment = by_kind_name(documents, "Deployment", "ml-platform-backend")
    assert deployment["spec"]["replicas"] == 1
    container = pod_spec(documents, "ml-platform-backend")["containers"][0]
    # args only: a `command` would replace the image's ENTRYPOINT ["ml-platform", "serve"].
    assert "command" not in container
    assert container["args"] == [
        f"--karmada-kubeconfig={KUBECONFIG_DIR}/karmada.kubeconfig",
    ]


def test_backend_mounts_the_kubeconfig_secret_read_only(documents: list[dict[str, Any]]) -> None:
    spec = pod_spec(documents, "ml-platform-backend")
    mounts = {m["mountPath"]: m for m in spec["containers"][0]["volumeMounts"]}
    mount = mounts[KUBECONFIG_DIR]
    assert mount["readOnly"] is True
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "ml-platform-kubeconfig"


def test_backend_reads_its_api_tokens_from_the_mounted_secret(
    documents: list[dict[str, Any]],
) -> None:
    spec = pod_spec(documents, "ml-platform-backend")
    container = spec["containers"][0]
    config = by_kind_name(documents, "ConfigMap", container["envFrom"][0]["configMapRef"]["name"])
    tokens_file = config["data"]["ML_PLATFORM_AUTH__TOKENS_FILE"]
    mount = next(m for m in container["volumeMounts"] if tokens_file.startswith(m["mountPath"]))
    assert mount["readOnly"] is True
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "ml-platform-api-tokens"
    assert tokens_file == f"{mount['mountPath']}/tokens"  # the key deploy.sh writes


def test_backend_settings_come_from_configmap_and_secret(documents: list[dict[str, Any]]) -> None:
    container = pod_spec(documents, "ml-platform-backend")["containers"][0]
    config_name = container["envFrom"][0]["configMapRef"]["name"]
    config = by_kind_name(documents, "ConfigMap", config_name)
    assert config["data"]["ML_PLATFORM_SHUTDOWN_TIMEOUT_SECONDS"] == str(SHUTDOWN_TIMEOUT_SECONDS)
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "ml-platform-db",
        "key": "DATABASE_URL",
    }
    assert "value" not in env["DATABASE_URL"]


def test_backend_probes_use_health_and_ready(documents: list[dict[str, Any]]) -> None:
    container = pod_spec(documents, "ml-platform-backend")["containers"][0]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port_names["http"] == 8080
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] in ("http", 8080)


@pytest.mark.parametrize(
    "deployment", ["ml-platform-backend", "ml-platform-frontend", "ml-platform-postgres"]
)
def test_pods_run_non_root_with_read_only_root(
    documents: list[dict[str, Any]], deployment: str
) -> None:
    spec = pod_spec(documents, deployment)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] > 0
    for container in spec["containers"]:
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"]
        assert container["resources"]["limits"]


def test_backend_runs_as_the_image_user(repo_root: Path, documents: list[dict[str, Any]]) -> None:
    user_lines = [
        line.split()[1]
        for line in (repo_root / "Dockerfile").read_text().splitlines()
        if line.startswith("USER ")
    ]
    uid, _, gid = user_lines[-1].partition(":")
    context = pod_spec(documents, "ml-platform-backend")["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"]) == (int(uid), int(gid))


def test_backend_grace_period_covers_shutdown(documents: list[dict[str, Any]]) -> None:
    spec = pod_spec(documents, "ml-platform-backend")
    pre_stop = spec["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    pause = int(pre_stop[1])
    margin = 5
    assert spec["terminationGracePeriodSeconds"] >= pause + SHUTDOWN_TIMEOUT_SECONDS + margin


def test_postgres_is_15_alpine_on_a_10gi_claim(documents: list[dict[str, Any]]) -> None:
    claim = by_kind_name(documents, "PersistentVolumeClaim", "ml-platform-postgres-data")
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    deployment = by_kind_name(documents, "Deployment", "ml-platform-postgres")
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    spec = deployment["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert container["image"] == "postgres:15-alpine"
    assert "pg_isready" in " ".join(container["readinessProbe"]["exec"]["command"])
    assert "pg_isready" in " ".join(container["livenessProbe"]["exec"]["command"])
    data_mount = next(m for m in container["volumeMounts"] if m["name"] == "data")
    assert data_mount["mountPath"] == "/var/lib/postgresql/data"
    volume = next(v for v in spec["volumes"] if v["name"] == "data")
    assert volume["persistentVolumeClaim"]["claimName"] == "ml-platform-postgres-data"
    env = {e["name"]: e for e in container["env"]}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "ml-platform-db"


def test_images_are_overridable_by_name(repo_root: Path, documents: list[dict[str, Any]]) -> None:
    kustomization = yaml.safe_load((repo_root / "deploy" / "kustomization.yaml").read_text())
    names = {entry["name"] for entry in kustomization["images"]}
    assert names == {"ml-platform", "ml-platform-ui"}
    backend = pod_spec(documents, "ml-platform-backend")["containers"][0]["image"]
    frontend = pod_spec(documents, "ml-platform-frontend")["containers"][0]["image"]
    assert backend.split(":")[0] == "ml-platform"
    assert frontend.split(":")[0] == "ml-platform-ui"


def test_frontend_listens_where_nginx_conf_says(
    repo_root: Path, documents: list[dict[str, Any]]
) -> None:
    container = pod_spec(documents, "ml-platform-frontend")["containers"][0]
    nginx_conf = (repo_root / "web" / "nginx.conf").read_text()
    port = container["ports"][0]["containerPort"]
    assert f"listen {port};" in nginx_conf
    # nginx proxies /api to the backend Service by name.
    assert "proxy_pass http://ml-platform-backend:8080;" in nginx_conf


def test_postgres_accepts_a_full_backend_pool(documents: list[dict[str, Any]]) -> None:
    config = by_kind_name(documents, "ConfigMap", "ml-platform-config")["data"]
    pool = int(config["ML_PLATFORM_DATABASE__POOL_SIZE"])
    overflow = int(config["ML_PLATFORM_DATABASE__MAX_OVERFLOW"])
    replicas = by_kind_name(documents, "Deployment", "ml-platform-backend")["spec"]["replicas"]
    args = pod_spec(documents, "ml-platform-postgres")["containers"][0]["args"]
    settings = dict(arg.split("=", 1) for arg in args if "=" in arg)
    reserved_for_admin = 10
    assert int(settings["max_connections"]) >= replicas * (pool + overflow) + reserved_for_admin
