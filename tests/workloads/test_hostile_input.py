"""Free text from the request stays plain values: it never adds keys or Kubernetes fields."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from karmada_sim import kubelet, kuberay
from ml_platform.workloads import (
    InputChannel,
    RenderedJob,
    WorkloadKind,
    WorkloadSettings,
    WorkloadSpec,
    render,
)

from .manifests import containers, key_paths, validate_pod_templates
from .specs import XGBOOST_HYPERPARAMETER_ENV, spec_for

HOSTILE = [
    "line1\nline2: injected\nkind: Secret\n",
    "He said \"hi\" and 'bye' `id` $(rm -rf /) ${HOME} \\n",
    "key: value",
    "{{ .Values.secret }} {% raw %} ${{ secrets.TOKEN }}",
    "ünïcødé 日本語 🚀 \u2028\u2029\u0085 zero\u200bwidth",
    "- item\n- item2\n---\n...\n",
    "&anchor *alias !!python/object/apply:os.system ['ls']",
    "\t tab \r carriage \x1b[31m bell\x07",
    "true",
    "null",
    "~",
    "0x1F",
    "1e3",
    "a: b, {c: d}, [e] # comment " * 400,  # 10.8 KB
]


def free_text_spec(kind: WorkloadKind, text: str) -> WorkloadSpec:
    """A spec with `text` in every free-text field of the request."""
    channel = InputChannel(
        channel_name=text,
        endpoint=text,
        bucket=text,
        prefix=text,
        storage_provider=text,
        source_type=text,
    )
    return spec_for(
        kind,
        job_name=text,
        algorithm=text,
        entrypoint=text,
        image=text,
        head_image=text,
        worker_image=text,
        input_channels=(channel, channel),
        artifact_uri=text,
        hyperparameter_env={**XGBOOST_HYPERPARAMETER_ENV, "EVAL_METRIC": text},
        custom_hyperparameters={"note": text, "label_column": text},
    )


def env_blind(paths: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Key paths cut at a container's `env`: a RayJob moves a variable bash would expand
    from the runtime env into the pods' env (whose values the other tests check)."""
    return {path[: path.index("env") + 1] if "env" in path else path for path in paths}


def runtime_env(rendered: RenderedJob) -> dict[str, str]:
    """The runtime env vars as KubeRay reads them (YAML 1.1 rules of go-yaml v2)."""
    env_vars: dict[str, str] = kuberay.load_runtime_env(
        rendered.workload["spec"]["runtimeEnvYAML"]
    )["env_vars"]
    return env_vars


def driver_env(rendered: RenderedJob) -> dict[str, str]:
    """What the Ray driver sees of the environment."""
    return kuberay.driver_env(rendered.workload)


# The variables whose values come straight from free text of the request.
TEXT_ENV_VARS = (
    "RUN_NAME",
    "LABEL_COLUMN",
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_TRAIN_KEY",
    "S3_VAL_KEY",
    "EVAL_METRIC",
    "NOTE",
)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:24]))
def test_hostile_text_changes_values_never_structure(
    kind: WorkloadKind, settings: WorkloadSettings, text: str
) -> None:
    benign = render(free_text_spec(kind, "plain-text"), settings)
    hostile = render(free_text_spec(kind, text), settings)

    for benign_object, hostile_object in zip(benign.objects, hostile.objects, strict=True):
        assert env_blind(key_paths(hostile_object)) == env_blind(key_paths(benign_object))
    # A YAML round trip of the whole output (as kubectl would do) changes nothing either.
    assert yaml.safe_load(yaml.safe_dump(list(hostile.objects))) == list(hostile.objects)
    validate_pod_templates(hostile)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:24]))
def test_runtime_env_yaml_round_trips_hostile_text(settings: WorkloadSettings, text: str) -> None:
    benign = driver_env(render(free_text_spec(WorkloadKind.RAY_JOB, "plain-text"), settings))
    hostile_rendered = render(free_text_spec(WorkloadKind.RAY_JOB, text), settings)
    hostile = driver_env(hostile_rendered)

    assert sorted(hostile) == sorted(benign)
    assert all(isinstance(value, str) for value in runtime_env(hostile_rendered).values())
    assert {name: hostile[name] for name in TEXT_ENV_VARS} == dict.fromkeys(TEXT_ENV_VARS, text)
    assert hostile["STORAGE_PATH"] == settings.results_mount_path
    assert hostile_rendered.workload["spec"]["entrypoint"] == text


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:24]))
def test_container_env_and_command_carry_hostile_text_verbatim(
    kind: WorkloadKind, settings: WorkloadSettings, text: str
) -> None:
    workload = render(free_text_spec(kind, text), settings).workload

    # Verbatim as the container's process sees it, after the kubelet's `$(VAR)` expansion.
    for container in containers(workload):
        assert container["image"] == text
        env = kubelet.container_env(container)
        if kind is not WorkloadKind.RAY_JOB:
            assert {name: env[name] for name in TEXT_ENV_VARS} == (
                dict.fromkeys(TEXT_ENV_VARS, text)
            )
        if "command" in container:
            shell, flag, command = container["command"]
            assert (shell, flag, kubelet.expand(command, env)) == ("/bin/sh", "-c", text)


def test_file_uri_with_hostile_path_is_only_a_value(settings: WorkloadSettings) -> None:
    text = HOSTILE[0]
    spec = free_text_spec(WorkloadKind.RAY_JOB, "plain-text")

    rendered = render(dataclasses.replace(spec, artifact_uri="file://" + text), settings)

    assert runtime_env(rendered)["STORAGE_PATH"] == text


# Stubs on an otherwise empty PATH: `ray` records its arguments (`ray job status` fails, as
# for a job not yet submitted); any other command the free text might run only records that
# it ran. Nothing real can execute, whatever the product renders.
STUB = """#!{python}
import json, os, sys
with open(os.environ["CALLS"], "a") as calls:
    calls.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
sys.exit(1 if sys.argv[1:3] == ["job", "status"] else 0)
"""
STUBBED = ("ray", "rm", "id", "ls", "touch", "sh", "bash", "python", "python3", "env")


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:24]))
def test_kuberay_submitter_script_runs_no_user_text(
    settings: WorkloadSettings, text: str, tmp_path: Path
) -> None:
    # KubeRay splices the runtime env into a `bash -ce` script; run that script as KubeRay
    # builds it: nothing in the free text may run, and Ray must get every runtime env var
    # back as the string that was sent. The entrypoint is the user's own shell command by
    # design (KubeRay splices it raw), so it is benign here.
    spec = dataclasses.replace(free_text_spec(WorkloadKind.RAY_JOB, text), entrypoint="python t.py")
    rendered = render(spec, settings)
    script = kuberay.submitter_script(
        rendered.workload["spec"], address="http://head:8265", job_id="job-1"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in STUBBED:
        (bin_dir / name).write_text(STUB.format(python=sys.executable))
        (bin_dir / name).chmod(0o755)
    calls_file = tmp_path / "calls"
    result = subprocess.run(
        ["/bin/bash", *kuberay.SUBMITTER_COMMAND[1:], script],
        cwd=tmp_path,
        env={"PATH": str(bin_dir), "CALLS": str(calls_file), "HOME": "/h"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    calls = [json.loads(line) for line in calls_file.read_text().splitlines()]
    assert [call[:3] for call in calls] == [
        ["ray", "job", "status"],
        ["ray", "job", "submit"],
        ["ray", "job", "logs"],
    ]
    submit = calls[1]
    sent = json.loads(submit[submit.index("--runtime-env-json") + 1])
    assert sent == {"env_vars": runtime_env(rendered)}
    assert submit[submit.index("--") + 1 :] == ["python", "t.py"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bin", "calls"]
