"""Entry point: one job spec in, every Kubernetes object of the job out."""

from __future__ import annotations

from collections.abc import Callable

from ml_platform.workloads.batchjob import batchjob_driver, render_batchjob
from ml_platform.workloads.common import Manifest
from ml_platform.workloads.mpijob import mpijob_driver, render_mpijob
from ml_platform.workloads.policy import render_claim_policy, render_policy
from ml_platform.workloads.pytorchjob import pytorchjob_driver, render_pytorchjob
from ml_platform.workloads.rayjob import rayjob_driver, render_rayjob
from ml_platform.workloads.rendered import DriverLocator, RenderedJob
from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import WorkloadKind, WorkloadSpec
from ml_platform.workloads.tfjob import render_tfjob, tfjob_driver
from ml_platform.workloads.volume import render_volume_claim

Renderer = Callable[[WorkloadSpec, WorkloadSettings], Manifest]
DriverFinder = Callable[[WorkloadSpec], DriverLocator]

_RENDERERS: dict[WorkloadKind, tuple[Renderer, DriverFinder]] = {
    WorkloadKind.RAY_JOB: (render_rayjob, rayjob_driver),
    WorkloadKind.PYTORCH_JOB: (render_pytorchjob, pytorchjob_driver),
    WorkloadKind.TF_JOB: (render_tfjob, tfjob_driver),
    WorkloadKind.MPI_JOB: (render_mpijob, mpijob_driver),
    WorkloadKind.JOB: (render_batchjob, batchjob_driver),
}


def render(spec: WorkloadSpec, settings: WorkloadSettings) -> RenderedJob:
    """Render the workload of `spec.kind`, its PVC when one is needed, and their policies.

    Pure: no I/O, same output for the same input. Raises WorkloadSpecError for specs that
    cannot become valid objects (e.g. a Ray algorithm without any entrypoint).
    """
    render_workload, find_driver = _RENDERERS[spec.kind]
    workload = render_workload(spec, settings)
    volume_claim = render_volume_claim(spec, settings)
    return RenderedJob(
        workload=workload,
        policy=render_policy(spec, workload=workload),
        volume_claim=volume_claim,
        claim_policy=render_claim_policy(spec, volume_claim=volume_claim),
        driver=find_driver(spec),
    )
