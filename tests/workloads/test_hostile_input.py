"""Free text from the request stays plain values: it never adds keys or Kubernetes fields."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

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


def runtime_env(rendered: RenderedJob) -> dict[str, str]:
    env_vars: dict[str, str] = yaml.safe_load(rendered.workload["spec"]["runtimeEnvYAML"])[
        "env_vars"
    ]
    return env_vars


def plain_env(container: dict[str, Any]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in container["env"] if "value" in entry}


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
        assert key_paths(hostile_object) == key_paths(benign_object)
    # A YAML round trip of the whole output (as kubectl would do) changes nothing either.
    assert yaml.safe_load(yaml.safe_dump(list(hostile.objects))) == list(hostile.objects)
    validate_pod_templates(hostile)


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:24]))
def test_runtime_env_yaml_round_trips_hostile_text(settings: WorkloadSettings, text: str) -> None:
    benign = runtime_env(render(free_text_spec(WorkloadKind.RAY_JOB, "plain-text"), settings))
    hostile_rendered = render(free_text_spec(WorkloadKind.RAY_JOB, text), settings)
    hostile = runtime_env(hostile_rendered)

    assert list(hostile) == list(benign)
    assert all(isinstance(value, str) for value in hostile.values())
    assert {name: hostile[name] for name in TEXT_ENV_VARS} == dict.fromkeys(TEXT_ENV_VARS, text)
    assert hostile["STORAGE_PATH"] == settings.results_mount_path
    assert hostile_rendered.workload["spec"]["entrypoint"] == text


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:24]))
def test_container_env_and_command_carry_hostile_text_verbatim(
    kind: WorkloadKind, settings: WorkloadSettings, text: str
) -> None:
    workload = render(free_text_spec(kind, text), settings).workload

    for container in containers(workload):
        assert container["image"] == text
        if kind is not WorkloadKind.RAY_JOB:
            assert {name: plain_env(container)[name] for name in TEXT_ENV_VARS} == (
                dict.fromkeys(TEXT_ENV_VARS, text)
            )
        if "command" in container:
            assert container["command"] == ["/bin/sh", "-c", text]


def test_file_uri_with_hostile_path_is_only_a_value(settings: WorkloadSettings) -> None:
    text = HOSTILE[0]
    spec = free_text_spec(WorkloadKind.RAY_JOB, "plain-text")

    rendered = render(dataclasses.replace(spec, artifact_uri="file://" + text), settings)

    assert runtime_env(rendered)["STORAGE_PATH"] == text
