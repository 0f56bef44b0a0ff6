"""Renderer options; the service's Settings root nests this as its `workloads` group."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def _default_entrypoints() -> dict[str, str]:
    return {
        "xgboost": "python /home/ray/xgboost_train.py",
        "lightgbm": "python /home/ray/lightgbm_train.py",
    }


class WorkloadSettings(BaseModel):
    """How training jobs become Kubernetes objects (env `ML_PLATFORM_WORKLOADS__<FIELD>`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ray_image: str = Field(
        default="rayproject/ray:2.46.0",
        description="Image of Ray head and workers when the request names none.",
    )
    ray_version: str = Field(
        default="2.46.0", description="rayClusterSpec.rayVersion; must match the Ray image."
    )
    pytorch_image: str = Field(
        default="pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime",
        description="Image of PyTorchJob replicas when the request names none.",
    )
    tensorflow_image: str = Field(
        default="tensorflow/tensorflow:2.18.0",
        description="Image of TFJob replicas when the request names none.",
    )
    mpi_image: str = Field(
        default="horovod/horovod:0.28.1",
        description="Image of MPIJob launcher and workers when the request names none.",
    )
    job_image: str = Field(
        default="python:3.11-slim",
        description="Image of batch Jobs (e.g. jax-pjit) when the request names none.",
    )
    default_entrypoints: dict[str, str] = Field(
        default_factory=_default_entrypoints,
        description=(
            "Command per algorithm id when the request has no `entrypoint`. Required for "
            "RayJob algorithms; other kinds fall back to the image's own command."
        ),
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        default="IfNotPresent", description="imagePullPolicy of every container."
    )
    ttl_seconds_after_finished: int = Field(
        default=300,
        ge=0,
        description=(
            "RayJob: seconds after the job ends before KubeRay deletes the Ray cluster "
            "(the RayJob object itself stays)."
        ),
    )
    workload_ttl_seconds_after_finished: int | None = Field(
        default=None,
        ge=0,
        description=(
            "Kubeflow jobs and batch Jobs: ttl after which the member cluster deletes the "
            "workload object itself. Off by default: the service removes objects on delete, "
            "and Karmada would re-create a member object deleted under it."
        ),
    )
    clean_pod_policy: Literal["None", "Running", "All"] = Field(
        default="Running",
        description=(
            "Kubeflow runPolicy.cleanPodPolicy: Running removes pods still running when the "
            "job ends and keeps finished ones for their logs."
        ),
    )
    mpi_launcher_cpu_cores: int = Field(
        default=1, ge=1, description="CPU of the MPIJob launcher (it only runs mpirun)."
    )
    mpi_launcher_memory_gib: int = Field(
        default=1, ge=1, description="Memory (GiB) of the MPIJob launcher."
    )
    s3_secret_name: str = Field(
        default="ml-platform-s3-credentials",
        description="Secret in the job's namespace holding the object-storage credentials.",
    )
    s3_access_key_id_key: str = Field(
        default="accessKeyId", description="Key of the access key id inside that Secret."
    )
    s3_secret_access_key_key: str = Field(
        default="secretAccessKey", description="Key of the secret access key inside that Secret."
    )
    s3_access_key_id_env: str = Field(
        default="AWS_ACCESS_KEY_ID",
        description="Environment variable the training code reads the access key id from.",
    )
    s3_secret_access_key_env: str = Field(
        default="AWS_SECRET_ACCESS_KEY",
        description="Environment variable the training code reads the secret key from.",
    )
    s3_secret_optional: bool = Field(
        default=True,
        description=(
            "Mark the Secret references optional so jobs on public buckets start without the "
            "Secret; a missing Secret then shows up as an S3 auth error, not a pod error."
        ),
    )
    default_s3_region: str = Field(
        default="us-east-1", description="S3_REGION (the request has no region field)."
    )
    default_label_column: str = Field(
        default="target",
        description=(
            "LABEL_COLUMN when neither the job nor its custom hyperparameter `label_column` "
            "sets one."
        ),
    )
    results_mount_path: str = Field(
        default="/home/ray/result-storage",
        description="Where the results volume is mounted in every training container.",
    )
    volume_storage_class: str | None = Field(
        default=None,
        description="storageClassName of PVCs the service creates (None: cluster default).",
    )
    volume_access_modes: tuple[
        Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod", "ReadOnlyMany"], ...
    ] = Field(
        default=("ReadWriteMany",),
        min_length=1,
        description=(
            "accessModes of created PVCs; every replica mounts the claim, so multi-node jobs "
            "need ReadWriteMany."
        ),
    )
