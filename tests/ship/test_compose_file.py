"""docker-compose.yml parses, wires the services together, and references real files."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ml_platform.auth.tokens import read_tokens_file


@pytest.fixture(scope="module")
def compose(repo_root: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    return document


def flag_value(args: list[str], flag: str) -> str:
    for arg in args:
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{flag} not in {args}")


def test_services_and_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "sim", "tokens", "backend", "ui"}
    for name, service in services.items():
        if service.get("restart") == "no":
            continue  # one-shot: others wait for it to complete, not to be healthy
        assert service["healthcheck"]["test"], name


def test_postgres_is_15_alpine_with_a_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:15-alpine"
    volume, _, target = postgres["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "ports" not in postgres
    assert postgres["command"] == ["-c", "max_connections=200"]


def test_build_contexts_and_dockerfiles_exist(repo_root: Path, compose: dict[str, Any]) -> None:
    built = 0
    for service in compose["services"].values():
        build = service.get("build")
        if build is None:
            continue
        context = repo_root / build["context"]
        assert context.is_dir(), context
        assert (context / build.get("dockerfile", "Dockerfile")).is_file()
        built += 1
    assert built == 4


def test_simulator_writes_the_kubeconfig_the_backend_reads(compose: dict[str, Any]) -> None:
    sim = compose["services"]["sim"]
    backend = compose["services"]["backend"]
    assert sim["entrypoint"] == ["ml-platform", "sim"]
    written = flag_value(sim["command"], "--kubeconfig-out")
    assert flag_value(sim["command"], "--advertise-url") == "http://sim:6443"
    assert flag_value(sim["command"], "--port") == "6443"
    assert backend["environment"]["KARMADA_KUBECONFIG"] == written
    sim_volume = sim["volumes"][0].split(":")
    backend_volume = backend["volumes"][0].split(":")
    assert sim_volume[0] == backend_volume[0]
    assert sim_volume[0] in compose["volumes"]
    assert written.startswith(sim_volume[1] + "/")
    assert backend_volume[1] == sim_volume[1]
    assert backend_volume[2:] == ["ro"]


def test_backend_reaches_postgres_after_both_are_healthy(compose: dict[str, Any]) -> None:
    backend = compose["services"]["backend"]
    url = backend["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://")
    assert "@postgres:5432/mlplatform" in url
    assert "ENTRYPOINT" not in backend
    assert "entrypoint" not in backend
    assert backend["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "sim": {"condition": "service_healthy"},
        "tokens": {"condition": "service_completed_successfully"},
    }
    assert "/ready" in " ".join(backend["healthcheck"]["test"])
    assert backend["read_only"] is True


def test_ui_reaches_backend_by_the_nginx_upstream_name(
    repo_root: Path, compose: dict[str, Any]
) -> None:
    aliases = compose["services"]["backend"]["networks"]["default"]["aliases"]
    nginx_conf = (repo_root / "web" / "nginx.conf").read_text()
    assert any(f"proxy_pass http://{alias}:8080;" in nginx_conf for alias in aliases)
    ui = compose["services"]["ui"]
    assert ui["depends_on"]["backend"]["condition"] == "service_healthy"
    assert ui["ports"][0].endswith(":8080")


def test_backend_reads_the_tokens_the_one_shot_service_writes(
    compose: dict[str, Any], tmp_path: Path
) -> None:
    tokens = compose["services"]["tokens"]
    backend = compose["services"]["backend"]
    path = backend["environment"]["ML_PLATFORM_AUTH__TOKENS_FILE"]
    volume, _, directory = tokens["volumes"][0].partition(":")
    assert volume in compose["volumes"]
    assert f"{volume}:{directory}:ro" in backend["volumes"]
    assert path.startswith(directory + "/")
    # The script itself, run against a temp dir: writes a token once and keeps it.
    script = tokens["command"][0].replace(path, str(tmp_path / "tokens"))
    assert tokens["entrypoint"] == ["python", "-c"]
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    written = (tmp_path / "tokens").read_text()
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (tmp_path / "tokens").read_text() == written
    entries = read_tokens_file(tmp_path / "tokens")
    assert [(e.name, e.role) for e in entries] == [("admin", "admin")]
    token = entries[0].token
    assert token is not None
    assert token.get_secret_value() in first.stdout
    assert token.get_secret_value() not in second.stdout
    assert "docker compose run --rm --entrypoint cat tokens" in second.stdout
