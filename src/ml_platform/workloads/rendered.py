"""What rendering a job produces."""

from __future__ import annotations

from dataclasses import dataclass

from ml_platform.workloads.common import Manifest


@dataclass(frozen=True, slots=True)
class DriverLocator:
    """How to find the pod and container whose log is the job's main output."""

    label_selector: str
    container: str


@dataclass(frozen=True, slots=True)
class RenderedJob:
    """The Kubernetes objects of one job.

    `objects` is the creation order: the PropagationPolicy first, so the workload and its PVC
    are claimed by this job's policy the moment they exist (never by a broader policy created
    meanwhile, and a crash between steps leaves at most an unused policy); then the PVC, so it
    exists before any pod needs it; the workload last. Delete in the reverse order.
    """

    workload: Manifest
    policy: Manifest
    volume_claim: Manifest | None
    driver: DriverLocator

    @property
    def objects(self) -> tuple[Manifest, ...]:
        """Every object in creation order (policy, PVC when any, workload)."""
        if self.volume_claim is None:
            return (self.policy, self.workload)
        return (self.policy, self.volume_claim, self.workload)
