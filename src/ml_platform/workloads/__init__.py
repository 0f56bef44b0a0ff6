"""Workload renderers: pure functions from a job spec to Kubernetes manifests."""

from ml_platform.workloads.environment import reserved_env_names, training_environment
from ml_platform.workloads.kinds import (
    PROPAGATION_POLICY_API,
    VOLUME_CLAIM_API,
    WORKLOAD_APIS,
    WorkloadApi,
)
from ml_platform.workloads.render import render
from ml_platform.workloads.rendered import DriverLocator, RenderedJob
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import (
    InputChannel,
    WorkloadKind,
    WorkloadSpec,
    WorkloadSpecError,
)

__all__ = [
    "PROPAGATION_POLICY_API",
    "VOLUME_CLAIM_API",
    "WORKLOAD_APIS",
    "DriverLocator",
    "InputChannel",
    "RenderedJob",
    "WorkloadApi",
    "WorkloadKind",
    "WorkloadSettings",
    "WorkloadSpec",
    "WorkloadSpecError",
    "render",
    "reserved_env_names",
    "training_environment",
]
