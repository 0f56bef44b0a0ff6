"""Conformance, row 6: KubeRay reads runtimeEnvYAML with YAML 1.1 rules, Ray refuses
`env_vars` that are not strings, and the submitter runs a bash script KubeRay splices
together (ray-project/kuberay ray-operator/controllers/ray/common/job.go
`BuildJobSubmitCommand`; ray python/ray/_private/runtime_env/validation.py)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from sim_helpers import RAY, create, get, pods, rayjob

from karmada_sim import kuberay
from karmada_sim.server import SimulatorServer

Member = Callable[[str], client.ApiClient]

# A `ray` on PATH that records its arguments (one JSON list per call); `ray job status`
# fails, as for a job not submitted yet.
RAY_STUB = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["RAY_CALLS"], "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(1 if sys.argv[1:3] == ["job", "status"] else 0)
"""


def run_submitter(command: list[str], args: list[str], workdir: Path) -> list[list[str]]:
    """Run the submitter container's command in bash with `ray` stubbed; the ray calls."""
    bin_dir = workdir / "bin"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "ray"
    stub.write_text(RAY_STUB)
    stub.chmod(0o755)
    calls = workdir / "calls"
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "RAY_CALLS": str(calls)}
    subprocess.run([*command, *args], cwd=workdir, env=env, check=True, timeout=30)
    return [json.loads(line) for line in calls.read_text().splitlines()]


def submitted_runtime_env(calls: list[list[str]]) -> dict[str, Any]:
    (submit,) = [call for call in calls if call[:2] == ["job", "submit"]]
    parsed: dict[str, Any] = json.loads(submit[submit.index("--runtime-env-json") + 1])
    return parsed


@pytest.mark.parametrize(
    ("text", "value"),
    [("1e-05", 1e-05), ("y", True), ("n", False), ("on", True), ("0o17", 15), ("1_000", 1000)],
)
def test_runtime_env_yaml_is_read_with_yaml_1_1_rules(text: str, value: object) -> None:
    """sigs.k8s.io/yaml (go-yaml v2) resolves these plain scalars to numbers and booleans;
    quoted, they stay strings."""
    assert kuberay.load_runtime_env(f"env_vars:\n  X: {text}\n") == {"env_vars": {"X": value}}
    assert kuberay.load_runtime_env(f'env_vars:\n  X: "{text}"\n') == {"env_vars": {"X": text}}


def test_ray_refuses_env_vars_that_are_not_strings(
    member: Member, sim_server: SimulatorServer, ns: str
) -> None:
    """`ray job submit` fails on a non-string env var, the submitter Job exhausts its retries
    and KubeRay marks the RayJob Failed with reason SubmissionFailed."""
    m1 = member("member1")
    create(m1, RAY, ns, "rayjobs", rayjob("lr", runtimeEnvYAML="env_vars:\n  LR: 1e-05\n"))
    create(m1, RAY, ns, "rayjobs", rayjob("ok", runtimeEnvYAML='env_vars:\n  LR: "1e-05"\n'))
    sim_server.advance(0)
    sim_server.advance(30)
    sim_server.advance(5)
    sim_server.advance(120)
    refused = get(m1, RAY, ns, "rayjobs", "lr")["status"]
    assert (refused["jobDeploymentStatus"], refused["reason"]) == ("Failed", "SubmissionFailed")
    assert "must be of type Dict[str, str]" in refused["message"]
    assert "jobStatus" not in refused
    assert get(m1, RAY, ns, "rayjobs", "ok")["status"]["jobDeploymentStatus"] == "Complete"


def test_submitter_script_is_bash_with_the_runtime_env_spliced_in(
    member: Member, sim_server: SimulatorServer, ns: str, tmp_path: Path
) -> None:
    """KubeRay runs `/bin/bash -ce -- <script>` with strconv.Quote(runtime env JSON) and the
    entrypoint spliced in: inside those double quotes bash still expands `$(...)`, so a value
    like this one runs a command in the submitter pod (a hazard the product must avoid)."""
    m1 = member("member1")
    runtime_env = 'env_vars:\n  NOTE: "$(touch pwned) and `touch pwned2` and ${HOME}"\n'
    create(m1, RAY, ns, "rayjobs", rayjob("sh", runtimeEnvYAML=runtime_env))
    sim_server.advance(0)
    sim_server.advance(30)
    (submitter,) = pods(m1, ns, "job-name=sh").values()
    container = submitter.spec.containers[0]
    assert container.command == ["/bin/bash", "-ce", "--"]
    (script,) = container.args
    assert script.startswith("if ! ray job status --address http://")
    calls = run_submitter(container.command, container.args, tmp_path)
    assert [call[:2] for call in calls] == [["job", "status"], ["job", "submit"], ["job", "logs"]]
    assert (tmp_path / "pwned").exists()
    assert (tmp_path / "pwned2").exists()
    note = submitted_runtime_env(calls)["env_vars"]["NOTE"]
    assert "$(touch pwned)" not in note
    assert submitted_runtime_env(calls) != kuberay.load_runtime_env(runtime_env)
