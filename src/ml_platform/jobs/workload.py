"""From a stored job to the Kubernetes objects that run it (pure: no I/O)."""

from __future__ import annotations

from ml_platform.algorithms import hyperparameter_environment
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.schemas import MAX_RUNTIME_SECONDS, TrainingJobRequest
from ml_platform.workloads import (
    InputChannel,
    RenderedJob,
    SecretEnvRef,
    WorkloadKind,
    WorkloadSettings,
    WorkloadSpec,
    render,
)


def workload_spec(job: TrainingJob) -> WorkloadSpec:
    """The renderer's view of a job, from the request stored with it."""
    return request_spec(
        TrainingJobRequest.model_validate(job.request),
        job_id=job.id,
        algorithm=job.algorithm,
        workload_kind=job.workload_kind,
    )


def request_spec(
    request: TrainingJobRequest, *, job_id: str, algorithm: str, workload_kind: str
) -> WorkloadSpec:
    """The renderer's view of a request that may not be stored (a dry run) under ``job_id``."""
    instance = request.resources.instance_resources
    stopping = request.stopping_condition
    return WorkloadSpec(
        job_id=job_id,
        job_name=request.job_name,
        namespace=request.namespace,
        algorithm=algorithm,
        kind=WorkloadKind(workload_kind),
        cpu_cores=instance.cpu_cores,
        memory_gib=instance.memory_gi_b,
        gpu_count=instance.gpu_count,
        instance_count=request.resources.instance_count,
        # Without a stopping condition the job still gets the longest runtime the API accepts.
        max_runtime_seconds=stopping.max_runtime_seconds if stopping else MAX_RUNTIME_SECONDS,
        image=request.algorithm.image_uri,
        entrypoint=request.entrypoint,
        head_image=request.head_image,
        worker_image=request.worker_image,
        volume_size_gb=request.resources.volume_size_gb,
        pvc_name=request.pvc_name,
        input_channels=tuple(
            InputChannel(
                channel_name=channel.channel_name,
                endpoint=channel.endpoint or "",
                bucket=channel.bucket or "",
                prefix=channel.prefix or "",
                storage_provider=channel.storage_provider or "",
                source_type=channel.source_type or "",
            )
            for channel in request.input_data_config
        ),
        artifact_uri=request.output_data_config.artifact_uri
        if request.output_data_config
        else None,
        hyperparameter_env=hyperparameter_environment(
            algorithm, request.hyperparameters.get(algorithm) or {}
        ),
        custom_hyperparameters=dict(request.custom_hyperparameters),
        secret_env=tuple(
            SecretEnvRef(name=ref.name, secret_name=ref.secret_name, key=ref.key)
            for ref in request.secret_env
        ),
        target_clusters=tuple(request.target_clusters),
        priority=request.priority,
    )


def render_job(job: TrainingJob, settings: WorkloadSettings) -> RenderedJob:
    """Every object of the job, in creation order (see ``RenderedJob.objects``)."""
    return render(workload_spec(job), settings)
