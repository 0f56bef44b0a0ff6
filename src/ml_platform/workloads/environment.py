"""The environment contract of the training images: job fields and hyperparameters as env vars.

Precedence when names collide: the contract variables (NUM_WORKER, RUN_NAME, ...) and the
credential variables are reserved and always win, because the images rely on them and a
credential must never be replaced by an inline value; among hyperparameters, a custom
hyperparameter overrides an algorithm hyperparameter of the same upper-cased name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadSpec, WorkloadSpecError

CONTRACT_ENV_NAMES: tuple[str, ...] = (
    "NUM_WORKER",
    "USE_GPU",
    "LABEL_COLUMN",
    "RUN_NAME",
    "STORAGE_PATH",
    "S3_ENDPOINT",
    "S3_REGION",
    "S3_BUCKET",
    "S3_TRAIN_KEY",
    "S3_VAL_KEY",
)

# The custom hyperparameter that overrides the label column.
LABEL_COLUMN_HYPERPARAMETER = "label_column"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FILE_URI_PREFIX = "file://"

EnvValue = str | int | float | bool | None


def reserved_env_names(settings: WorkloadSettings) -> frozenset[str]:
    """Names hyperparameters cannot set (the API layer may reject them up front)."""
    return frozenset(
        (*CONTRACT_ENV_NAMES, settings.s3_access_key_id_env, settings.s3_secret_access_key_env)
    )


def env_value(value: EnvValue) -> str:
    """A hyperparameter value as an environment string (`true`/`false`, `""` for null)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise WorkloadSpecError(f"hyperparameter value of type {type(value).__name__} is not a scalar")


def training_environment(spec: WorkloadSpec, settings: WorkloadSettings) -> dict[str, str]:
    """Every plain (non-secret) variable of the job, contract first, then hyperparameters."""
    contract = _contract_environment(spec, settings)
    reserved = reserved_env_names(settings)
    hyperparameters = {**_checked(spec.hyperparameter_env), **_custom_environment(spec)}
    return contract | {k: v for k, v in hyperparameters.items() if k not in reserved}


def label_column(spec: WorkloadSpec, settings: WorkloadSettings) -> str:
    """LABEL_COLUMN: the spec's, else the custom hyperparameter's, else the settings default."""
    if spec.label_column is not None:
        return spec.label_column
    custom = spec.custom_hyperparameters.get(LABEL_COLUMN_HYPERPARAMETER)
    if custom is not None:
        return env_value(custom)
    return settings.default_label_column


def storage_path(spec: WorkloadSpec, settings: WorkloadSettings) -> str:
    """STORAGE_PATH: a `file://` artifact URI's path, else the mounted results volume."""
    uri = spec.artifact_uri or ""
    if uri.startswith(_FILE_URI_PREFIX) and len(uri) > len(_FILE_URI_PREFIX):
        return uri[len(_FILE_URI_PREFIX) :]
    return settings.results_mount_path


def _contract_environment(spec: WorkloadSpec, settings: WorkloadSettings) -> dict[str, str]:
    channels = spec.input_channels
    train = channels[0] if channels else None
    validation = channels[1] if len(channels) > 1 else None
    return {
        "NUM_WORKER": str(spec.instance_count),
        "USE_GPU": "true" if spec.gpu_count > 0 else "false",
        "LABEL_COLUMN": label_column(spec, settings),
        "RUN_NAME": spec.job_name,
        "STORAGE_PATH": storage_path(spec, settings),
        "S3_ENDPOINT": train.endpoint if train else "",
        "S3_REGION": settings.default_s3_region,
        "S3_BUCKET": train.bucket if train else "",
        "S3_TRAIN_KEY": train.prefix if train else "",
        "S3_VAL_KEY": validation.prefix if validation else "",
    }


def _custom_environment(spec: WorkloadSpec) -> dict[str, str]:
    return _checked(
        {name.upper(): env_value(value) for name, value in spec.custom_hyperparameters.items()}
    )


def _checked(env: Mapping[str, str]) -> dict[str, str]:
    # Names were validated upstream; checked again because they become Kubernetes fields.
    checked = dict(env)
    for name, value in checked.items():
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise WorkloadSpecError(f"{str(name)[:80]!r} is not a valid environment variable name")
        if not isinstance(value, str):
            raise WorkloadSpecError(f"environment variable {name} must have a string value")
    return checked
