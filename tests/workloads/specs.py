"""Specs built from the UI's reference request (ui-contract.md) and its variants."""

from __future__ import annotations

import dataclasses
from typing import Any

from ml_platform.workloads import InputChannel, WorkloadKind, WorkloadSpec
from tests_support import UI_XGBOOST_ENVIRONMENT as XGBOOST_HYPERPARAMETER_ENV

# One algorithm id per workload kind, as the catalogue assigns them.
ALGORITHM_OF_KIND = {
    WorkloadKind.RAY_JOB: "xgboost",
    WorkloadKind.PYTORCH_JOB: "pytorch",
    WorkloadKind.TF_JOB: "tensorflow-cnn",
    WorkloadKind.MPI_JOB: "horovod-mpi",
    WorkloadKind.JOB: "jax-pjit",
}


def reference_spec() -> WorkloadSpec:
    """The spec the service derives from the ui-contract.md request."""
    return WorkloadSpec(
        job_id="iris-xgb-1a2b3c4d",
        job_name="iris-xgb",
        namespace="default",
        algorithm="xgboost",
        kind=WorkloadKind.RAY_JOB,
        cpu_cores=4,
        memory_gib=8,
        gpu_count=0,
        instance_count=2,
        volume_size_gb=50,
        max_runtime_seconds=14400,
        input_channels=(
            InputChannel(
                channel_name="train",
                endpoint="http://minio:9000",
                bucket="datasets",
                prefix="iris/train.csv",
                storage_provider="minio",
                source_type="object-storage",
            ),
            InputChannel(
                channel_name="validation",
                endpoint="http://minio:9000",
                bucket="datasets",
                prefix="iris/val.csv",
                storage_provider="minio",
                source_type="object-storage",
            ),
        ),
        artifact_uri="storage://output/artifacts/",
        hyperparameter_env=dict(XGBOOST_HYPERPARAMETER_ENV),
        custom_hyperparameters={},
        target_clusters=("member1",),
        priority=100,
    )


def spec_for(kind: WorkloadKind, **changes: Any) -> WorkloadSpec:
    """The reference spec turned into `kind` with its usual algorithm, plus `changes`."""
    base = dataclasses.replace(reference_spec(), kind=kind, algorithm=ALGORITHM_OF_KIND[kind])
    return dataclasses.replace(base, **changes)
