"""README.md and USER_GUIDE.md say what the issue asks, and the configuration table is complete."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

# Every route of the HTTP contract (DESIGN.md), relative to /api/v1 unless it starts at root.
API_ROUTES = [
    ("POST", "/jobs"),
    ("GET", "/jobs"),
    ("GET", "/jobs/{id}"),
    ("DELETE", "/jobs/{id}"),
    ("POST", "/jobs/{id}/stop"),
    ("GET", "/jobs/{id}/status"),
    ("GET", "/jobs/{id}/events"),
    ("GET", "/jobs/{id}/logs"),
    ("GET", "/proxy/clusters"),
    ("GET", "/proxy/clusters/{cluster}/resources"),
    ("GET", "/algorithms"),
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
]


@pytest.fixture(scope="module")
def guide(repo_root: Path) -> str:
    return (repo_root / "USER_GUIDE.md").read_text()


def section(markdown: str, heading: str) -> str:
    """The text under a `## ` heading up to the next one."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"no section {heading!r}"
    return match[1]


def config_table_cells(guide: str) -> list[list[str]]:
    """The rows of the table whose header starts with `| setting | env var |`."""
    text = section(guide, "2. Configuration reference")
    table = text[text.index("| setting | env var |") :].split("\n\n", 1)[0]
    rows = [
        [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
        for line in table.splitlines()
        if line.startswith("| `")
    ]
    assert rows, "the configuration table has no rows"
    return rows


def test_readme_gives_the_two_commands_and_links(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e . "
        "&& .venv/bin/ml-platform dev"
    ) in readme
    assert "./scripts/test" in readme
    assert "(USER_GUIDE.md)" in readme
    assert "DESIGN.md" in readme
    assert "Karmada" in readme


def test_guide_has_the_required_sections(guide: str) -> None:
    for heading in (
        "1. Architecture",
        "2. Configuration reference",
        "3. HTTP API reference",
        "4. Running ml-platform",
        "5. Operations",
        "6. Troubleshooting",
        "7. Production considerations",
    ):
        section(guide, heading)
    troubleshooting = section(guide, "6. Troubleshooting")
    for topic in ("ENTRYPOINT", "ImagePullBackOff", "NodePort conflicts", "Karmada unreachable"):
        assert topic in troubleshooting, topic
    operations = section(guide, "5. Operations")
    for topic in ("Replicas", "Logs", "Upgrades and migrations", "Backups"):
        assert f"**{topic}" in operations, topic


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_every_route_has_a_heading_and_a_curl_example(guide: str, method: str, path: str) -> None:
    api = section(guide, "3. HTTP API reference")
    heading = re.search(rf"^### (.*, )?{method} {re.escape(path)}(?=[,:]|$)", api, re.M)
    assert heading, f"no heading for {method} {path}"
    concrete = re.escape(path)
    concrete = concrete.replace(re.escape("{id}"), r"\$JOB_ID").replace(
        re.escape("{cluster}"), r"[a-z0-9-]+"
    )
    method_part = "" if method == "GET" else rf"-X {method} "
    curl = rf"curl [^\n]*{method_part}[^\n]*(\$API|localhost:8080){concrete}(['\"?]|\s|$)"
    assert re.search(curl, api), f"no curl example for {method} {path}"


def test_post_example_is_the_ui_request(guide: str) -> None:
    api = section(guide, "3. HTTP API reference")
    body = re.search(r"-d '(\{.*?\})'\n", api, re.S)
    assert body, "POST /jobs example has no JSON body"
    request = json.loads(body[1])
    assert request["algorithm"] == {"source": "builtin", "algorithmName": "xgboost"}
    assert request["resources"]["instanceResources"] == {
        "cpuCores": 4,
        "memoryGiB": 8,
        "gpuCount": 0,
    }
    assert len(request["hyperparameters"]["xgboost"]) == 39
    assert request["targetClusters"] == ["member1"]


def test_config_table_rows_are_well_formed(guide: str) -> None:
    for row in config_table_cells(guide):
        assert len(row) == 5, row
        path, env, flag, default, description = row
        assert re.fullmatch(r"[a-z0-9_.]+", path), row
        assert env.isupper(), row
        assert flag.startswith("--"), row
        assert default
        assert description


# --- against the settings class (ml_platform.config.Settings, from the service core) -------


def leaf_fields(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[Any]:
    """(path, field) for every leaf setting, recursing into nested groups."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from leaf_fields(annotation, (*path, name))
        else:
            yield (*path, name), field


def env_name(settings_cls: Any, path: tuple[str, ...], field: FieldInfo) -> str:
    """The env var a field is read from: its legacy or alias name, else prefix + nested path."""
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("legacy_name"), str):
        return str(extra["legacy_name"])
    if isinstance(field.validation_alias, str):
        return field.validation_alias.upper()
    if field.alias:
        return field.alias.upper()
    config = settings_cls.model_config
    prefix = config.get("env_prefix") or ""
    delimiter = config.get("env_nested_delimiter") or "__"
    return (prefix + delimiter.join(path)).upper()


@pytest.fixture(scope="module")
def settings_env_names() -> dict[str, tuple[str, ...]]:
    try:
        from ml_platform.config import Settings
    except ImportError as exc:
        pytest.fail(f"ml_platform.config.Settings (service core) is not importable: {exc}")

    names = {env_name(Settings, path, field): path for path, field in leaf_fields(Settings)}
    assert {"KARMADA_KUBECONFIG", "DATABASE_URL", "PORT"} <= set(names)
    return names


def test_every_setting_is_in_the_configuration_table(
    guide: str, settings_env_names: dict[str, tuple[str, ...]]
) -> None:
    rows = {row[1]: row for row in config_table_cells(guide)}
    missing = sorted(env for env in settings_env_names if env not in rows)
    assert not missing, f"settings missing from USER_GUIDE.md's table: {missing}"
    unknown = sorted(env for env in rows if env not in settings_env_names)
    assert not unknown, f"USER_GUIDE.md documents settings that do not exist: {unknown}"
    for env, path in settings_env_names.items():
        assert rows[env][0] == ".".join(path), (env, rows[env][0])


def test_deployment_files_only_set_real_settings(
    repo_root: Path, settings_env_names: dict[str, tuple[str, ...]]
) -> None:
    config_map = yaml.safe_load((repo_root / "deploy" / "backend-config.yaml").read_text())
    compose = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    used = set(config_map["data"]) | set(compose["services"]["backend"]["environment"])
    # A misspelt ML_PLATFORM_* name would be silently ignored by the service.
    assert used <= set(settings_env_names), sorted(used - set(settings_env_names))
