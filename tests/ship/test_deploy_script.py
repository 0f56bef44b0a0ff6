"""deploy.sh against a recording stand-in kubectl: the calls of a dry run and of real runs."""

import base64
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

FAKE_KUBECTL = Path(__file__).with_name("fake_kubectl.py")
MUTATING_VERBS = {"apply", "create", "delete", "patch", "replace", "edit", "label", "annotate"}
BACKEND_IMAGE = "registry.example:5000/team/ml-platform:1.4.2"
FRONTEND_IMAGE = "registry.example:5000/team/ml-platform-ui:1.4.2"


@dataclass
class Sandbox:
    """A temp dir holding the fake kubectl, its log and state, and two kubeconfig files."""

    root: Path
    env: dict[str, str]

    @property
    def karmada_kubeconfig(self) -> Path:
        return self.root / "karmada.kubeconfig"

    def calls(self) -> list[dict[str, Any]]:
        log = self.root / "kubectl.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def reset_log(self) -> None:
        (self.root / "kubectl.log").unlink(missing_ok=True)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads((self.root / "state.json").read_text())
        return state


def real_kubectl() -> str:
    path = shutil.which("kubectl") or "/usr/bin/kubectl"
    assert Path(path).exists(), "the tests render kustomizations with the real kubectl"
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_KUBECTL}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "karmada.kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: karmada\n"
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "REAL_KUBECTL": real_kubectl(),
        "FAKE_KUBECTL_LOG": str(tmp_path / "kubectl.log"),
        "FAKE_KUBECTL_STATE": str(tmp_path / "state.json"),
        "KARMADA_KUBECONFIG": str(tmp_path / "karmada.kubeconfig"),
        "BACKEND_IMAGE": BACKEND_IMAGE,
        "FRONTEND_IMAGE": FRONTEND_IMAGE,
    }
    return Sandbox(root=tmp_path, env=env)


def run_deploy(
    repo_root: Path, sandbox: Sandbox, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("bash") or "/bin/bash", str(repo_root / "deploy.sh"), *args],
        env=env or sandbox.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rendered_images(rendered: str) -> set[str]:
    images = set()
    for document in yaml.safe_load_all(rendered):
        if document and document["kind"] == "Deployment":
            for container in document["spec"]["template"]["spec"]["containers"]:
                images.add(container["image"])
    return images


def command(call: dict[str, Any]) -> list[str]:
    """The call's argv without the leading global flags (--context X, -n X)."""
    argv: list[str] = call["argv"]
    while argv and argv[0] in ("--context", "-n"):
        argv = argv[2:]
    return argv


def verbs(calls: list[dict[str, Any]]) -> list[str]:
    return [command(call)[0] for call in calls]


def test_dry_run_changes_nothing_and_prints_the_manifests(
    repo_root: Path, sandbox: Sandbox
) -> None:
    result = run_deploy(repo_root, sandbox, "--dry-run")
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    assert not MUTATING_VERBS & set(verbs(calls)), verbs(calls)
    assert not (sandbox.root / "state.json").exists()
    assert verbs(calls)[0] == "version"
    assert "kustomize" in verbs(calls)
    assert "rollout" not in verbs(calls)
    manifest = result.stdout.split("\n---\n", 1)[1]
    assert rendered_images(manifest) == {BACKEND_IMAGE, FRONTEND_IMAGE, "postgres:15-alpine"}
    assert "ml-platform-kubeconfig" in result.stdout
    assert "generated a new password" in result.stdout


def test_real_run_applies_everything_and_waits(repo_root: Path, sandbox: Sandbox) -> None:
    result = run_deploy(repo_root, sandbox, "--timeout", "90s")
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    argvs = [command(call) for call in calls]
    assert argvs[0][0] == "version"

    creates = [argv for argv in argvs if argv[0] == "create"]
    assert [argv[1:4] if argv[1] == "secret" else argv[1:3] for argv in creates] == [
        ["namespace", "ml-platform"],
        ["secret", "generic", "ml-platform-kubeconfig"],
        ["secret", "generic", "ml-platform-db"],
        ["secret", "generic", "ml-platform-api-tokens"],
    ]
    for argv in creates:
        # create only renders; every change goes through `apply -f -`, so reruns are harmless.
        assert "--dry-run=client" in argv
        assert argv[argv.index("-o") + 1] == "yaml"
    piped = [call for call in calls if command(call)[:3] == ["apply", "-f", "-"]]
    assert len(piped) == 4
    assert [yaml.safe_load(call["stdin"])["kind"] for call in piped] == [
        "Namespace",
        "Secret",
        "Secret",
        "Secret",
    ]

    state = sandbox.state()
    assert state["namespaces"] == ["ml-platform"]
    kubeconfigs = state["secrets"]["ml-platform-kubeconfig"]
    assert set(kubeconfigs) == {"karmada.kubeconfig"}
    database = state["secrets"]["ml-platform-db"]
    assert set(database) == {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD", "DATABASE_URL"}

    apply_k = [call for call in calls if command(call)[:2] == ["apply", "-k"]]
    assert len(apply_k) == 1
    assert rendered_images(apply_k[0]["rendered"]) == {
        BACKEND_IMAGE,
        FRONTEND_IMAGE,
        "postgres:15-alpine",
    }
    rollouts = [argv for argv in argvs if argv[0] == "rollout"]
    assert [argv[:3] for argv in rollouts] == [
        ["rollout", "status", "deployment/ml-platform-postgres"],
        ["rollout", "status", "deployment/ml-platform-backend"],
        ["rollout", "status", "deployment/ml-platform-frontend"],
    ]
    assert all("--timeout=90s" in argv for argv in rollouts)
    assert verbs(calls).index("apply") < verbs(calls).index("rollout")
    assert "http://10.1.2.3:30181/" in result.stdout
    assert "http://10.1.2.3:30180/" in result.stdout


def decoded(value: str) -> str:
    return base64.b64decode(value).decode()


def test_password_is_generated_once_and_kept(repo_root: Path, sandbox: Sandbox) -> None:
    first = run_deploy(repo_root, sandbox)
    assert first.returncode == 0, first.stderr
    password = decoded(sandbox.state()["secrets"]["ml-platform-db"]["POSTGRES_PASSWORD"])
    assert re.fullmatch(r"[0-9a-f]{48}", password)
    url = decoded(sandbox.state()["secrets"]["ml-platform-db"]["DATABASE_URL"])
    assert url == f"postgresql+psycopg://mlplatform:{password}@ml-platform-postgres:5432/mlplatform"
    assert password not in first.stdout + first.stderr
    # The password never appears on a command line (it would show in `ps`).
    assert all(password not in " ".join(call["argv"]) for call in sandbox.calls())

    sandbox.reset_log()
    second = run_deploy(repo_root, sandbox)
    assert second.returncode == 0, second.stderr
    assert "kept the existing password" in second.stdout
    assert decoded(sandbox.state()["secrets"]["ml-platform-db"]["POSTGRES_PASSWORD"]) == password
    assert verbs(sandbox.calls()).count("rollout") == 3


def test_an_admin_token_is_generated_once_kept_and_printed(
    repo_root: Path, sandbox: Sandbox
) -> None:
    first = run_deploy(repo_root, sandbox)
    assert first.returncode == 0, first.stderr
    stored = decoded(sandbox.state()["secrets"]["ml-platform-api-tokens"]["tokens"])
    entries = yaml.safe_load(stored)
    assert [(e["name"], e["role"]) for e in entries] == [("admin", "admin")]
    token = entries[0]["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert f"first API token: {token}" in first.stdout
    assert "get secret ml-platform-api-tokens -o jsonpath='{.data.tokens}' | base64 -d" in (
        first.stdout
    )
    # Never on a command line (it would show in `ps`).
    assert all(token not in " ".join(call["argv"]) for call in sandbox.calls())

    sandbox.reset_log()
    second = run_deploy(repo_root, sandbox)
    assert second.returncode == 0, second.stderr
    assert "kept the existing tokens" in second.stdout
    assert decoded(sandbox.state()["secrets"]["ml-platform-api-tokens"]["tokens"]) == stored
    assert f"first API token: {token}" in second.stdout


def test_fresh_installs_get_different_passwords(repo_root: Path, sandbox: Sandbox) -> None:
    passwords = set()
    for _ in range(2):
        (sandbox.root / "state.json").unlink(missing_ok=True)
        assert run_deploy(repo_root, sandbox).returncode == 0
        passwords.add(sandbox.state()["secrets"]["ml-platform-db"]["POSTGRES_PASSWORD"])
    assert len(passwords) == 2


def test_unreachable_cluster_stops_before_any_change(repo_root: Path, sandbox: Sandbox) -> None:
    env = {**sandbox.env, "FAKE_KUBECTL_UNREACHABLE": "1"}
    result = run_deploy(repo_root, sandbox, env=env)
    assert result.returncode != 0
    assert "not reachable" in result.stderr
    assert verbs(sandbox.calls()) == ["version"]


def test_missing_kubeconfig_is_reported_before_kubectl_runs(
    repo_root: Path, sandbox: Sandbox
) -> None:
    env = {**sandbox.env, "KARMADA_KUBECONFIG": str(sandbox.root / "absent.kubeconfig")}
    result = run_deploy(repo_root, sandbox, env=env)
    assert result.returncode != 0
    assert "absent.kubeconfig" in result.stderr
    assert sandbox.calls() == []


def test_context_flag_reaches_every_kubectl_call(repo_root: Path, sandbox: Sandbox) -> None:
    result = run_deploy(repo_root, sandbox, "--context", "prod-east", "--dry-run")
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    assert calls
    assert all(call["argv"][:2] == ["--context", "prod-east"] for call in calls)


def test_failed_rollout_exits_non_zero(repo_root: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    # A kubectl whose rollout never completes: deploy.sh must report it and fail.
    failing = tmp_path / "failing-bin"
    failing.mkdir()
    wrapper = failing / "kubectl"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$*" in *"rollout status"*) echo "timed out waiting" >&2; exit 1;; esac\n'
        f'exec "{sys.executable}" "{FAKE_KUBECTL}" "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {**sandbox.env, "PATH": f"{failing}{os.pathsep}{sandbox.env['PATH']}"}
    result = run_deploy(repo_root, sandbox, env=env)
    assert result.returncode != 0
    assert "did not become ready" in result.stderr


def test_missing_kubectl_is_reported(repo_root: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    for tool in ("bash", "dirname"):
        found = shutil.which(tool)
        assert found, tool
        (bare / tool).symlink_to(found)
    result = run_deploy(repo_root, sandbox, env={**sandbox.env, "PATH": str(bare)})
    assert result.returncode != 0
    assert "kubectl was not found on PATH" in result.stderr


def test_skip_ui_leaves_the_frontend_out(repo_root: Path, sandbox: Sandbox) -> None:
    result = run_deploy(repo_root, sandbox, "--skip-ui")
    assert result.returncode == 0, result.stderr
    calls = sandbox.calls()
    apply_k = next(call for call in calls if command(call)[:2] == ["apply", "-k"])
    names = {
        (document["kind"], document["metadata"]["name"])
        for document in yaml.safe_load_all(apply_k["rendered"])
        if document
    }
    assert ("Deployment", "ml-platform-backend") in names
    assert all(name != "ml-platform-frontend" for _, name in names)
    rollouts = [command(call)[2] for call in calls if command(call)[0] == "rollout"]
    assert rollouts == ["deployment/ml-platform-postgres", "deployment/ml-platform-backend"]
    assert ":30181" not in result.stdout
    assert "http://10.1.2.3:30180/" in result.stdout
