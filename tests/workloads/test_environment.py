"""The environment contract of the training images (ui-contract.md)."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from ml_platform.workloads import (
    WorkloadKind,
    WorkloadSettings,
    WorkloadSpec,
    WorkloadSpecError,
    render,
    reserved_env_names,
    training_environment,
)
from tests_support import UI_XGBOOST_ENVIRONMENT

from .manifests import containers
from .specs import spec_for

EXPECTED_REFERENCE_ENV = {
    "NUM_WORKER": "2",
    "USE_GPU": "false",
    "LABEL_COLUMN": "target",
    "RUN_NAME": "iris-xgb",
    "STORAGE_PATH": "/home/ray/result-storage",
    "S3_ENDPOINT": "http://minio:9000",
    "S3_REGION": "us-east-1",
    "S3_BUCKET": "datasets",
    "S3_TRAIN_KEY": "iris/train.csv",
    "S3_VAL_KEY": "iris/val.csv",
    **UI_XGBOOST_ENVIRONMENT,
}


def runtime_env(spec: WorkloadSpec, settings: WorkloadSettings) -> dict[str, str]:
    env_vars: dict[str, str] = yaml.safe_load(
        render(spec, settings).workload["spec"]["runtimeEnvYAML"]
    )["env_vars"]
    return env_vars


def test_reference_request_env_vars_are_exactly_the_contract(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    env_vars = runtime_env(spec, settings)

    assert env_vars == EXPECTED_REFERENCE_ENV
    # Contract variables come first, in the documented order.
    assert list(env_vars)[:10] == list(EXPECTED_REFERENCE_ENV)[:10]


def test_runtime_env_yaml_has_only_env_vars_and_every_value_is_a_string(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    document = yaml.safe_load(render(spec, settings).workload["spec"]["runtimeEnvYAML"])

    assert list(document) == ["env_vars"]
    assert all(isinstance(value, str) for value in document["env_vars"].values())


def test_gpu_request_sets_use_gpu(spec: WorkloadSpec, settings: WorkloadSettings) -> None:
    env = training_environment(dataclasses.replace(spec, gpu_count=2), settings)

    assert env["USE_GPU"] == "true"


@pytest.mark.parametrize(
    ("artifact_uri", "expected"),
    [
        ("file:///mnt/models/run-1", "/mnt/models/run-1"),
        ("file://", "/home/ray/result-storage"),
        ("s3://bucket/out/", "/home/ray/result-storage"),
        (None, "/home/ray/result-storage"),
    ],
)
def test_storage_path_follows_file_uris_else_the_mount(
    spec: WorkloadSpec, settings: WorkloadSettings, artifact_uri: str | None, expected: str
) -> None:
    env = training_environment(dataclasses.replace(spec, artifact_uri=artifact_uri), settings)

    assert env["STORAGE_PATH"] == expected


def test_channels_missing_give_empty_storage_variables(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    one_channel = training_environment(
        dataclasses.replace(spec, input_channels=spec.input_channels[:1]), settings
    )
    no_channel = training_environment(dataclasses.replace(spec, input_channels=()), settings)

    assert one_channel["S3_TRAIN_KEY"] == "iris/train.csv"
    assert one_channel["S3_VAL_KEY"] == ""
    assert {no_channel[name] for name in ("S3_ENDPOINT", "S3_BUCKET", "S3_TRAIN_KEY")} == {""}


def test_label_column_precedence(spec: WorkloadSpec) -> None:
    settings = WorkloadSettings(default_label_column="species")
    from_custom = dataclasses.replace(spec, custom_hyperparameters={"label_column": "petal"})
    from_spec = dataclasses.replace(from_custom, label_column="sepal")

    assert training_environment(spec, settings)["LABEL_COLUMN"] == "species"
    assert training_environment(from_custom, settings)["LABEL_COLUMN"] == "petal"
    assert training_environment(from_spec, settings)["LABEL_COLUMN"] == "sepal"


def test_custom_hyperparameters_are_upper_cased_strings(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    custom = {"learning_rate": 0.01, "epochs": 3, "shuffle": True, "note": None, "Tag": "a b"}
    env = training_environment(dataclasses.replace(spec, custom_hyperparameters=custom), settings)

    assert {k: env[k] for k in ("LEARNING_RATE", "EPOCHS", "SHUFFLE", "NOTE", "TAG")} == {
        "LEARNING_RATE": "0.01",
        "EPOCHS": "3",
        "SHUFFLE": "true",
        "NOTE": "",
        "TAG": "a b",
    }


def test_contract_variables_win_over_hyperparameters(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    clashing = dataclasses.replace(
        spec,
        hyperparameter_env={**spec.hyperparameter_env, "NUM_WORKER": "99"},
        custom_hyperparameters={"run_name": "other", "s3_bucket": "elsewhere"},
    )

    env = training_environment(clashing, settings)

    assert (env["NUM_WORKER"], env["RUN_NAME"], env["S3_BUCKET"]) == ("2", "iris-xgb", "datasets")


def test_custom_hyperparameter_overrides_algorithm_hyperparameter(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    env = training_environment(
        dataclasses.replace(spec, custom_hyperparameters={"max_depth": 12}), settings
    )

    assert env["MAX_DEPTH"] == "12"


def test_credential_names_cannot_be_set_by_hyperparameters(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    sneaky = dataclasses.replace(
        spec,
        hyperparameter_env={"AWS_ACCESS_KEY_ID": "inline-id"},
        custom_hyperparameters={"aws_secret_access_key": "inline-secret"},
    )

    env = training_environment(sneaky, settings)

    assert "AWS_ACCESS_KEY_ID" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "NUM_WORKER"} <= reserved_env_names(
        settings
    )


@pytest.mark.parametrize("name", ["bad-name", "1abc", "a b", "x\ny", "ä", ""])
def test_invalid_custom_hyperparameter_names_are_refused(
    spec: WorkloadSpec, settings: WorkloadSettings, name: str
) -> None:
    with pytest.raises(WorkloadSpecError, match="environment variable name"):
        training_environment(dataclasses.replace(spec, custom_hyperparameters={name: 1}), settings)


def test_invalid_algorithm_env_names_are_refused(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    with pytest.raises(WorkloadSpecError, match="environment variable name"):
        training_environment(
            dataclasses.replace(spec, hyperparameter_env={"A:\n  B": "1"}), settings
        )


def test_non_scalar_custom_values_are_refused(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    with pytest.raises(WorkloadSpecError, match="not a scalar"):
        training_environment(
            dataclasses.replace(spec, custom_hyperparameters={"x": ["a"]}),  # type: ignore[dict-item]
            settings,
        )


# RayJob carries the environment in runtimeEnvYAML instead (tested above).
@pytest.mark.parametrize(
    "kind", [k for k in WorkloadKind if k is not WorkloadKind.RAY_JOB], ids=str
)
def test_every_other_kind_passes_the_environment_to_every_container(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    spec = spec_for(kind, custom_hyperparameters={"lr": 0.1})
    expected = training_environment(spec, settings)

    for container in containers(render(spec, settings).workload):
        plain = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        assert plain == expected
        assert plain["LR"] == "0.1"
