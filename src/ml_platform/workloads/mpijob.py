"""MPIJob (kubeflow.org/v2beta1, mpi-operator) for horovod-mpi and torch-mpi."""

from __future__ import annotations

from ml_platform.workloads.common import Manifest, object_meta, resource_requirements
from ml_platform.workloads.kinds import WORKLOAD_APIS
from ml_platform.workloads.kubeflow import replica_driver, replica_spec, run_policy
from ml_platform.workloads.pods import (
    container,
    container_env,
    instance_resources,
    pod_template,
    resolved_entrypoint,
)
from ml_platform.workloads.rendered import DriverLocator
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec

LAUNCHER = "Launcher"
# The MPI algorithms' `slots_per_worker` hyperparameter, as its environment variable.
SLOTS_PER_WORKER_ENV = "SLOTS_PER_WORKER"
LAUNCHER_CONTAINER = "mpi-launcher"
WORKER_CONTAINER = "mpi-worker"


def render_mpijob(spec: WorkloadSpec, settings: WorkloadSettings) -> Manifest:
    """A small Launcher running the entrypoint (mpirun) plus `instance_count` Workers.

    Every instance of the request is a Worker with the instance size; the launcher only
    coordinates. Workers keep their image's own command (it must run sshd for OpenMPI).
    MPI slots per worker: the `slots_per_worker` hyperparameter (what mpirun is told), else
    one per GPU, or one on CPU.
    """
    api = WORKLOAD_APIS[WorkloadKind.MPI_JOB]
    image = spec.image or settings.mpi_image
    launcher = container(
        name=LAUNCHER_CONTAINER,
        image=image,
        env=container_env(spec, settings),
        resources=resource_requirements(
            cpu_cores=settings.mpi_launcher_cpu_cores,
            memory_gib=settings.mpi_launcher_memory_gib,
            gpu_count=0,
        ),
        settings=settings,
        entrypoint=resolved_entrypoint(spec, settings),
    )
    worker = container(
        name=WORKER_CONTAINER,
        image=image,
        env=container_env(spec, settings),
        resources=instance_resources(spec),
        settings=settings,
    )
    return {
        "apiVersion": api.api_version,
        "kind": api.kind,
        "metadata": object_meta(spec, spec.job_id),
        "spec": {
            "slotsPerWorker": slots_per_worker(spec),
            "mpiImplementation": "OpenMPI",
            "runPolicy": run_policy(spec, settings),
            "mpiReplicaSpecs": {
                LAUNCHER: replica_spec(1, pod_template(spec, [launcher])),
                "Worker": replica_spec(spec.instance_count, pod_template(spec, [worker])),
            },
        },
    }


def slots_per_worker(spec: WorkloadSpec) -> int:
    """The MPIJob's slotsPerWorker: the hyperparameter when the algorithm has it, so the
    operator's hostfile matches the processes mpirun starts."""
    declared = spec.hyperparameter_env.get(SLOTS_PER_WORKER_ENV)
    return int(declared) if declared else max(spec.gpu_count, 1)


def mpijob_driver(spec: WorkloadSpec) -> DriverLocator:
    """mpirun's output (every rank's stdout) is in the launcher pod."""
    return replica_driver(spec, replica_type=LAUNCHER, container=LAUNCHER_CONTAINER)
