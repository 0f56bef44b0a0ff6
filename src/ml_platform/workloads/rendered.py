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

    `objects` is the creation order: the PropagationPolicies first, so the workload and its
    PVC are claimed by this job's policies the moment they exist (never by a broader policy
    created meanwhile, and a crash between steps leaves at most an unused policy); then the
    PVC, so it exists before any pod needs it; the workload last. Delete in the reverse order.
    """

    workload: Manifest
    policy: Manifest
    volume_claim: Manifest | None
    driver: DriverLocator
    claim_policy: Manifest | None = None
    """The created PVC's own policy, for a kind whose PVC cannot follow it as a dependency."""

    @property
    def objects(self) -> tuple[Manifest, ...]:
        """Every object in creation order (policies, PVC when any, workload)."""
        policies = (self.policy,) if self.claim_policy is None else (self.policy, self.claim_policy)
        claims = () if self.volume_claim is None else (self.volume_claim,)
        return (*policies, *claims, self.workload)
