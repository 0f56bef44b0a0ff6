"""Map Karmada and member-cluster workload status to ml-platform job phases.

Pure functions over the documents the monitor reads (workload ``.status``, ResourceBinding,
Cluster readiness); no I/O. Each workload kind has one declarative table; ``observe`` combines
the per-cluster results of a ResourceBinding into one ``Observation`` of the job.

Decisions (the tables below are the reference):
- "Running" means the workload's pods run. A RayJob whose Ray cluster is up is Running even
  while the Ray job itself is still PENDING (the message says so); KubeRay's ``Waiting``
  (interactive mode, cluster up) is Running too.
- A RayJob in ``Retrying`` is Pending: KubeRay deletes the Ray cluster and starts over.
- KubeRay's ``jobDeploymentStatus`` decides whether a RayJob is finished; a terminal
  ``jobStatus`` under ``Running`` stays Running until KubeRay moves on (it may still retry).
  ``Complete`` without a final ``jobStatus`` is Failed (reason UnknownOutcome): an unproven
  success must not be reported as one.
- Kubernetes' early Job signals (``SuccessCriteriaMet``, ``FailureTarget``) already decide the
  outcome, so they map to Succeeded/Failed while the pods terminate.
- A failed apply to a member cluster keeps the job Pending with Karmada's message; the monitor
  owns timeouts.
- A cluster whose Ready condition is False leaves the phase alone and is named in the message.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from ml_platform.karmada.status_fields import (
    as_mapping,
    condition,
    count,
    mappings,
    text,
    timestamp,
    true_conditions,
)


class JobPhase(StrEnum):
    """The job phases an observation of the clusters can yield."""

    PENDING = "Pending"
    SUBMITTED = "Submitted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    STOPPED = "Stopped"

    @property
    def terminal(self) -> bool:
        """True when the workload will not change phase any more."""
        return self in _TERMINAL


_TERMINAL = frozenset({JobPhase.SUCCEEDED, JobPhase.FAILED, JobPhase.STOPPED})


@dataclass(frozen=True)
class ClusterObservation:
    """One member cluster's view of the workload."""

    cluster: str
    phase: JobPhase
    reason: str | None
    message: str | None
    active: int
    succeeded: int
    failed: int
    start_time: datetime | None
    completion_time: datetime | None
    applied: bool
    health: str | None


@dataclass(frozen=True)
class Observation:
    """The whole job as seen through Karmada; ``clusters`` is sorted by cluster name."""

    phase: JobPhase
    reason: str | None
    message: str | None
    active: int
    succeeded: int
    failed: int
    start_time: datetime | None
    completion_time: datetime | None
    clusters: tuple[ClusterObservation, ...]

    def cluster_distribution(self) -> dict[str, int]:
        """Return ``{cluster: active pods/replicas}`` for every cluster the job is placed on."""
        return {c.cluster: c.active for c in self.clusters}


@dataclass(frozen=True)
class Rule:
    """What a workload state means for us.

    ``reason`` is a default the workload's own reason overrides; ``message`` is our
    explanation, followed by the workload's message unless ``member_text`` is False (for
    states where the workload's text is boilerplate or stale).
    """

    phase: JobPhase
    message: str | None = None
    reason: str | None = None
    member_text: bool = True


_P = JobPhase
ANY = "*"

# KubeRay RayJob: (jobDeploymentStatus, jobStatus) -> rule. Lookup falls back to
# (deployment, ANY), then (ANY, ANY).
RAYJOB_RULES: Mapping[tuple[str, str], Rule] = {
    ("", ANY): Rule(_P.SUBMITTED, "waiting for KubeRay to start the job", member_text=False),
    ("Initializing", ANY): Rule(_P.PENDING, "initializing Ray cluster"),
    ("Waiting", ANY): Rule(
        _P.RUNNING, "Ray cluster is up; waiting for a job to be submitted", member_text=False
    ),
    ("Running", ""): Rule(
        _P.RUNNING, "Ray cluster is up; submitting the Ray job", member_text=False
    ),
    ("Running", "PENDING"): Rule(
        _P.RUNNING, "Ray cluster is up; waiting for the Ray job to start", member_text=False
    ),
    ("Running", "RUNNING"): Rule(_P.RUNNING, member_text=False),
    ("Running", "SUCCEEDED"): Rule(
        _P.RUNNING, "Ray job succeeded; waiting for KubeRay to finish", member_text=False
    ),
    ("Running", "STOPPED"): Rule(
        _P.RUNNING, "Ray job stopped; waiting for KubeRay to finish", member_text=False
    ),
    ("Running", "FAILED"): Rule(
        _P.RUNNING, "Ray job failed; waiting for KubeRay to finish or retry", member_text=False
    ),
    ("Running", ANY): Rule(_P.RUNNING, member_text=False),
    ("Complete", "SUCCEEDED"): Rule(_P.SUCCEEDED),
    ("Complete", "STOPPED"): Rule(_P.STOPPED, "Ray job was stopped", reason="RayJobStopped"),
    ("Complete", "FAILED"): Rule(_P.FAILED, "Ray job failed", reason="AppFailed"),
    ("Complete", ANY): Rule(
        _P.FAILED, "KubeRay finished without a final Ray job status", reason="UnknownOutcome"
    ),
    ("Failed", ANY): Rule(_P.FAILED, "Ray job failed", reason="RayJobFailed"),
    ("ValidationFailed", ANY): Rule(
        _P.FAILED, "KubeRay rejected the RayJob", reason="ValidationFailed"
    ),
    ("Suspending", ANY): Rule(_P.STOPPED, "suspending", reason="Suspended"),
    ("Suspended", ANY): Rule(_P.STOPPED, "suspended", reason="Suspended"),
    ("Retrying", ANY): Rule(_P.PENDING, "retrying after a failed attempt"),
    (ANY, ANY): Rule(_P.SUBMITTED, "unrecognised KubeRay status"),
}

# Condition tables: tiers in precedence order; within a tier the last True condition wins.
KUBEFLOW_CONDITION_RULES: tuple[Mapping[str, Rule], ...] = (
    {"Succeeded": Rule(_P.SUCCEEDED), "Failed": Rule(_P.FAILED, reason="Failed")},
    {"Suspended": Rule(_P.STOPPED, "suspended", reason="Suspended")},
    {"Restarting": Rule(_P.RUNNING, "restarting failed replicas")},
    {"Running": Rule(_P.RUNNING)},
    {"Created": Rule(_P.PENDING, "waiting for workers", member_text=False)},
)
KUBEFLOW_NO_CONDITION = Rule(_P.PENDING, "waiting for workers")

BATCH_JOB_CONDITION_RULES: tuple[Mapping[str, Rule], ...] = (
    {"Complete": Rule(_P.SUCCEEDED), "Failed": Rule(_P.FAILED, reason="Failed")},
    {
        "SuccessCriteriaMet": Rule(_P.SUCCEEDED, "success criteria met; pods are terminating"),
        "FailureTarget": Rule(_P.FAILED, "failing; pods are terminating", reason="Failed"),
    },
    {"Suspended": Rule(_P.STOPPED, "suspended", reason="Suspended")},
)
BATCH_JOB_ACTIVE = Rule(_P.RUNNING)
BATCH_JOB_RETRYING = Rule(_P.PENDING, "waiting for failed pods to be replaced")
BATCH_JOB_WAITING = Rule(_P.PENDING, "waiting for pods to start")

NO_STATUS = Rule(_P.SUBMITTED, "waiting for the workload to report status")


@dataclass(frozen=True)
class _Member:
    """One workload ``.status`` read into our terms."""

    phase: JobPhase
    reason: str | None
    message: str | None
    active: int = 0
    succeeded: int = 0
    failed: int = 0
    start_time: datetime | None = None
    completion_time: datetime | None = None


def _apply(rule: Rule, *, reason: object = None, message: object = None) -> _Member:
    if not rule.member_text:
        return _Member(rule.phase, rule.reason, rule.message)
    return _Member(rule.phase, text(reason) or rule.reason, _join(": ", rule.message, message))


def _join(separator: str, *parts: object) -> str | None:
    present = [p for p in (text(part) for part in parts) if p]
    return separator.join(present) if present else None


def _by_conditions(
    status: Mapping[str, Any], tiers: tuple[Mapping[str, Rule], ...]
) -> tuple[Rule, Mapping[str, Any]] | None:
    true = [c for c in true_conditions(status) if isinstance(c.get("type"), str)]
    for tier in tiers:
        matching = [c for c in true if c["type"] in tier]
        if matching:
            return tier[matching[-1]["type"]], matching[-1]
    return None


def _finished_at(
    phase: JobPhase, status: Mapping[str, Any], decided_by: Mapping[str, Any] | None
) -> datetime | None:
    if not phase.terminal:
        return None
    # Failed Jobs have no completionTime; the deciding condition's transition time stands in.
    completion = timestamp(status.get("completionTime"))
    if completion is None and decided_by is not None:
        return timestamp(decided_by.get("lastTransitionTime"))
    return completion


def _rayjob_active(status: Mapping[str, Any], phase: JobPhase) -> int:
    """Ray nodes up: the head plus ready workers while the job is live."""
    if phase not in (JobPhase.RUNNING, JobPhase.PENDING):
        return 0
    cluster = as_mapping(status.get("rayClusterStatus")) or {}
    head = as_mapping(cluster.get("head")) or {}
    workers = count(cluster.get("readyWorkerReplicas")) or count(
        cluster.get("availableWorkerReplicas")
    )
    nodes = (1 if text(head.get("podName")) or text(head.get("podIP")) else 0) + workers
    # Without a Ray cluster report, a running deployment still has at least its head.
    return nodes or (1 if phase is JobPhase.RUNNING else 0)


def _read_rayjob(status: Mapping[str, Any]) -> _Member:
    deployment = text(status.get("jobDeploymentStatus")) or ""
    job = text(status.get("jobStatus")) or ""
    rule = RAYJOB_RULES.get((deployment, job)) or RAYJOB_RULES.get((deployment, ANY))
    message: object
    if rule is None:
        # A KubeRay release newer than this table: say which state we did not recognise.
        rule, message = RAYJOB_RULES[(ANY, ANY)], f"jobDeploymentStatus {deployment!r}"
    else:
        message = status.get("message")
    member = _apply(rule, reason=status.get("reason"), message=message)
    return _Member(
        member.phase,
        member.reason,
        member.message,
        active=_rayjob_active(status, member.phase),
        succeeded=count(status.get("succeeded")),
        failed=count(status.get("failed")),
        start_time=timestamp(status.get("startTime")),
        completion_time=timestamp(status.get("endTime")) if member.phase.terminal else None,
    )


def _replica_totals(status: Mapping[str, Any]) -> tuple[int, int, int]:
    replicas = as_mapping(status.get("replicaStatuses")) or {}
    groups = [g for g in (as_mapping(v) for v in replicas.values()) if g is not None]
    return (
        sum(count(g.get("active")) for g in groups),
        sum(count(g.get("succeeded")) for g in groups),
        sum(count(g.get("failed")) for g in groups),
    )


def _decided_member(
    rule: Rule,
    decided_by: Mapping[str, Any] | None,
    status: Mapping[str, Any],
    counts: tuple[int, int, int],
) -> _Member:
    """A condition-driven member (Kubeflow kinds, batch Job): the rule's phase with the deciding
    condition's reason and message, the pod counters and the times."""
    cond = decided_by or {}
    member = _apply(rule, reason=cond.get("reason"), message=cond.get("message"))
    active, succeeded, failed = counts
    return _Member(
        member.phase,
        member.reason,
        member.message,
        active=active,
        succeeded=succeeded,
        failed=failed,
        start_time=timestamp(status.get("startTime")),
        completion_time=_finished_at(member.phase, status, decided_by),
    )


def _read_kubeflow(status: Mapping[str, Any]) -> _Member:
    decided = _by_conditions(status, KUBEFLOW_CONDITION_RULES)
    rule, decided_by = decided if decided else (KUBEFLOW_NO_CONDITION, None)
    return _decided_member(rule, decided_by, status, _replica_totals(status))


def _read_batch_job(status: Mapping[str, Any]) -> _Member:
    active, succeeded, failed = (count(status.get(k)) for k in ("active", "succeeded", "failed"))
    decided = _by_conditions(status, BATCH_JOB_CONDITION_RULES)
    if decided:
        rule, decided_by = decided
    elif active:
        rule, decided_by = BATCH_JOB_ACTIVE, None
    else:
        rule, decided_by = (BATCH_JOB_RETRYING if failed else BATCH_JOB_WAITING), None
    return _decided_member(rule, decided_by, status, (active, succeeded, failed))


_READERS: Mapping[str, Callable[[Mapping[str, Any]], _Member]] = {
    "RayJob": _read_rayjob,
    "PyTorchJob": _read_kubeflow,
    "TFJob": _read_kubeflow,
    "MPIJob": _read_kubeflow,
    "Job": _read_batch_job,
}
SUPPORTED_KINDS = frozenset(_READERS)


def _read_member(kind: str, status: object) -> _Member:
    reader = _READERS.get(kind)
    if reader is None:
        raise ValueError(f"unsupported workload kind {kind!r}; expected one of {sorted(_READERS)}")
    document = as_mapping(status)
    if not document:
        return _apply(NO_STATUS)
    return reader(document)


def member_phase(
    kind: str, status: Mapping[str, Any] | None
) -> tuple[JobPhase, str | None, str | None]:
    """Return (phase, reason, message) for one member cluster's workload ``.status``.

    ``kind`` is one of ``SUPPORTED_KINDS`` (ValueError otherwise); ``status`` may be anything a
    cluster wrote, and malformed parts count as absent.
    """
    member = _read_member(kind, status)
    return member.phase, member.reason, member.message


# Several clusters: the first phase in this order that any cluster has is the job's phase, so
# one failure fails the job, live work keeps it live, and Succeeded needs every cluster.
_COMBINE_ORDER = (
    JobPhase.FAILED,
    JobPhase.RUNNING,
    JobPhase.PENDING,
    JobPhase.SUBMITTED,
    JobPhase.STOPPED,
    JobPhase.SUCCEEDED,
)
WAITING_FOR_SCHEDULER = "waiting for Karmada to schedule"


def _as_cluster(
    name: str, member: _Member, *, applied: bool, health: str | None
) -> ClusterObservation:
    return ClusterObservation(
        cluster=name,
        phase=member.phase,
        reason=member.reason,
        message=member.message,
        active=member.active,
        succeeded=member.succeeded,
        failed=member.failed,
        start_time=member.start_time,
        completion_time=member.completion_time,
        applied=applied,
        health=health,
    )


def _observation(
    source: _Member | ClusterObservation, clusters: tuple[ClusterObservation, ...]
) -> Observation:
    """The job as one workload status describes it."""
    return Observation(
        phase=source.phase,
        reason=source.reason,
        message=source.message,
        active=source.active,
        succeeded=source.succeeded,
        failed=source.failed,
        start_time=source.start_time,
        completion_time=source.completion_time,
        clusters=clusters,
    )


def _observe_cluster(kind: str, entry: Mapping[str, Any]) -> ClusterObservation | None:
    """Read one ``aggregatedStatus`` entry; entries without a cluster name are ignored."""
    cluster = text(entry.get("clusterName"))
    if cluster is None:
        return None
    applied = entry.get("applied") is True
    apply_error = None if applied else text(entry.get("appliedMessage"))
    status = as_mapping(entry.get("status"))
    member = _read_member(kind, status)
    if not status and apply_error:
        member = replace(
            member,
            phase=JobPhase.PENDING,
            reason="ApplyFailed",
            message=f"apply failed: {apply_error}",
        )
    elif not status and not applied:
        member = replace(member, message="waiting for the workload to be applied")
    elif apply_error:
        member = replace(
            member, message=_join("; ", member.message, f"last apply failed: {apply_error}")
        )
    return _as_cluster(cluster, member, applied=applied, health=text(entry.get("health")))


def _combined_message(clusters: tuple[ClusterObservation, ...], phase: JobPhase) -> str | None:
    decider = next(c for c in clusters if c.phase is phase)
    summary = ", ".join(f"{c.cluster}: {c.phase}" for c in clusters)
    return _join(
        "; ",
        _join(": ", decider.cluster, decider.message or str(phase)),
        f"placed on {len(clusters)} clusters, expected 1 ({summary})",
    )


def _combine(clusters: tuple[ClusterObservation, ...]) -> Observation:
    if len(clusters) == 1:  # the normal case: the spread constraint picks one cluster
        return _observation(clusters[0], clusters)
    phases = {c.phase for c in clusters}
    phase = next(p for p in _COMBINE_ORDER if p in phases)
    decider = next(c for c in clusters if c.phase is phase)
    starts = [c.start_time for c in clusters if c.start_time]
    ends = [c.completion_time for c in clusters if c.completion_time]
    return Observation(
        phase=phase,
        reason=decider.reason,
        message=_combined_message(clusters, phase),
        active=sum(c.active for c in clusters),
        succeeded=sum(c.succeeded for c in clusters),
        failed=sum(c.failed for c in clusters),
        start_time=min(starts) if starts else None,
        completion_time=max(ends) if ends and phase.terminal else None,
        clusters=clusters,
    )


def _placed_clusters(spec: Mapping[str, Any]) -> tuple[str, ...]:
    names = (text(c.get("name")) for c in mappings(spec.get("clusters")))
    return tuple(sorted({n for n in names if n}))


def _from_template(
    kind: str, template_status: Mapping[str, Any], placed: tuple[str, ...], applied: bool
) -> Observation:
    """Use the status Karmada (v1.16+) wrote back to the template."""
    member = _read_member(kind, template_status)
    # With one cluster Karmada copies that member's status verbatim, so it can be attributed.
    if len(placed) == 1:
        return _combine((_as_cluster(placed[0], member, applied=applied, health=None),))
    return _observation(member, ())


def _awaiting_status(placed: tuple[str, ...], applied: bool) -> Observation:
    if not placed:
        return _waiting(JobPhase.SUBMITTED, None, "scheduled, waiting for status")
    message = f"scheduled to {', '.join(placed)}, waiting for status"
    waiting = _Member(JobPhase.SUBMITTED, None, message)
    clusters = tuple(_as_cluster(name, waiting, applied=applied, health=None) for name in placed)
    return replace(_waiting(JobPhase.SUBMITTED, None, message), clusters=clusters)


def _waiting(phase: JobPhase, reason: str | None, message: str) -> Observation:
    """An observation with nothing running yet."""
    return Observation(phase, reason, message, 0, 0, 0, None, None, ())


def _with_notes(observation: Observation, notes: Iterable[str]) -> Observation:
    # text() bounds the result: a binding may list many clusters, each with a long message.
    message = text(_join("; ", observation.message, *notes))
    return observation if message == observation.message else replace(observation, message=message)


def _unscheduled(scheduled: Mapping[str, Any]) -> Observation:
    """Pending with Karmada's scheduling verdict, or plain waiting when it has none yet."""
    if scheduled.get("status") != "False":
        return _waiting(JobPhase.PENDING, None, WAITING_FOR_SCHEDULER)
    reason = text(scheduled.get("reason"))
    why = text(scheduled.get("message")) or reason or "no cluster fits"
    return _waiting(JobPhase.PENDING, reason, f"not scheduled: {why}")


def _notes(
    scheduled: Mapping[str, Any], clusters: Iterable[str], cluster_ready: Mapping[str, bool]
) -> list[str]:
    notes: list[str] = []
    if scheduled.get("status") == "False":
        # Already placed, but the latest scheduling attempt failed (e.g. a cluster left).
        why = text(scheduled.get("message")) or text(scheduled.get("reason"))
        notes.append(f"Karmada cannot reschedule: {why}" if why else "Karmada cannot reschedule")
    notes.extend(
        f"cluster {name} is NotReady; status may be stale"
        for name in sorted(set(clusters))
        if cluster_ready.get(name) is False
    )
    return notes


def observe(
    kind: str,
    *,
    binding: Mapping[str, Any] | None,
    template_status: Mapping[str, Any] | None,
    cluster_ready: Mapping[str, bool],
) -> Observation:
    """Turn a job's ResourceBinding (and template status, cluster readiness) into our view.

    Order of evidence: member statuses in ``binding.status.aggregatedStatus`` (every Karmada
    version); else the template's ``.status`` (written back by Karmada v1.16+); else the
    scheduling result. An unscheduled job is Pending with Karmada's reason and message.
    Clusters whose ``cluster_ready`` entry is False are named in the message; the phase is
    unchanged. Never raises on malformed documents; ValueError only for an unsupported kind.
    """
    if kind not in SUPPORTED_KINDS:
        raise ValueError(f"unsupported workload kind {kind!r}")
    document = as_mapping(binding)
    if not document:
        return _waiting(JobPhase.PENDING, None, WAITING_FOR_SCHEDULER)
    spec = as_mapping(document.get("spec")) or {}
    status = as_mapping(document.get("status")) or {}
    scheduled = condition(status.get("conditions"), "Scheduled") or {}
    fully_applied = condition(status.get("conditions"), "FullyApplied") or {}
    applied = fully_applied.get("status") == "True"
    placed = _placed_clusters(spec)
    aggregated = mappings(status.get("aggregatedStatus"))
    # One entry per cluster; a malformed binding repeating a cluster keeps its first entry.
    by_cluster: dict[str, ClusterObservation] = {}
    for entry in aggregated:
        seen = _observe_cluster(kind, entry)
        if seen is not None:
            by_cluster.setdefault(seen.cluster, seen)
    clusters = tuple(by_cluster[name] for name in sorted(by_cluster))
    reported = any(as_mapping(entry.get("status")) for entry in aggregated)
    template = as_mapping(template_status)

    if clusters and (reported or not template):
        observation = _combine(clusters)
    elif template:
        observation = _from_template(kind, template, placed, applied)
    elif placed or scheduled.get("status") == "True":
        observation = _awaiting_status(placed, applied)
    else:
        return _unscheduled(scheduled)
    names = [c.cluster for c in observation.clusters] + list(placed)
    return _with_notes(observation, _notes(scheduled, names, cluster_ready))
