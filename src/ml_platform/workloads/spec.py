"""What a renderer needs to know about one training job, already validated upstream."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# KubeRay rejects RayJob names longer than this (the RayCluster name gets a suffix).
MAX_OBJECT_NAME_LENGTH = 47

_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


class WorkloadSpecError(ValueError):
    """A spec that no renderer can turn into valid Kubernetes objects."""


class WorkloadKind(StrEnum):
    """The Kubernetes workload kinds a training job can become."""

    RAY_JOB = "RayJob"
    PYTORCH_JOB = "PyTorchJob"
    TF_JOB = "TFJob"
    MPI_JOB = "MPIJob"
    JOB = "Job"


@dataclass(frozen=True, slots=True)
class InputChannel:
    """One data channel of the request (`inputDataConfig[]`)."""

    channel_name: str
    endpoint: str
    bucket: str
    prefix: str
    storage_provider: str = ""
    source_type: str = ""


@dataclass(frozen=True, slots=True)
class SecretEnvRef:
    """An environment variable read from a key of a Secret in the job's namespace."""

    name: str
    secret_name: str
    key: str


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """Everything the renderers read about a job; every field is plain data.

    `job_id` is also the name of every object rendered for the job. `label_column` set here
    wins; when it is None the renderers use the custom hyperparameter `label_column`, then
    `WorkloadSettings.default_label_column`.
    """

    job_id: str
    job_name: str
    namespace: str
    algorithm: str
    kind: WorkloadKind
    cpu_cores: int
    memory_gib: int
    gpu_count: int
    instance_count: int
    max_runtime_seconds: int
    image: str | None = None
    entrypoint: str | None = None
    head_image: str | None = None
    worker_image: str | None = None
    volume_size_gb: int = 0
    pvc_name: str | None = None
    input_channels: tuple[InputChannel, ...] = ()
    artifact_uri: str | None = None
    hyperparameter_env: Mapping[str, str] = field(default_factory=dict)
    custom_hyperparameters: Mapping[str, str | int | float | bool | None] = field(
        default_factory=dict
    )
    label_column: str | None = None
    secret_env: tuple[SecretEnvRef, ...] = ()
    target_clusters: tuple[str, ...] = ()
    priority: int = 0

    def __post_init__(self) -> None:
        # Names and counts end up in object names and Kubernetes fields, so they are checked
        # again here even though the API layer validated them.
        _check_name(self.job_id, _DNS1035_LABEL, MAX_OBJECT_NAME_LENGTH, "job_id")
        _check_name(self.namespace, _DNS1123_LABEL, 63, "namespace")
        if self.pvc_name is not None:
            _check_name(self.pvc_name, _DNS1123_SUBDOMAIN, 253, "pvc_name")
        for ref in self.secret_env:
            _check_name(ref.secret_name, _DNS1123_SUBDOMAIN, 253, "secret name")
        for cluster in self.target_clusters:
            _check_name(cluster, _DNS1123_SUBDOMAIN, 253, "target cluster")
        _check_at_least(self.cpu_cores, 1, "cpu_cores")
        _check_at_least(self.memory_gib, 1, "memory_gib")
        _check_at_least(self.gpu_count, 0, "gpu_count")
        _check_at_least(self.instance_count, 1, "instance_count")
        _check_at_least(self.volume_size_gb, 0, "volume_size_gb")
        _check_at_least(self.max_runtime_seconds, 1, "max_runtime_seconds")
        try:
            # Accepts the catalogue's own kind enum or a plain string with the same value.
            object.__setattr__(self, "kind", WorkloadKind(self.kind))
        except ValueError:
            raise WorkloadSpecError(f"unknown workload kind {self.kind!r}") from None


def _check_name(value: str, pattern: re.Pattern[str], max_length: int, what: str) -> None:
    if len(value) > max_length or not pattern.fullmatch(value):
        raise WorkloadSpecError(f"{what} {value[:80]!r} is not a valid Kubernetes name")


def _check_at_least(value: int, minimum: int, what: str) -> None:
    # bool is an int subclass; a True cpu count is a caller bug, not 1 core.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkloadSpecError(f"{what} must be an integer >= {minimum}, got {value!r}")
