"""The batch/v1 Job controller of a member cluster: pods in waves of `parallelism` until
`completions` succeed (NonIndexed or Indexed), `backoffLimit`, `activeDeadlineSeconds`, suspend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import resources
from .common import (
    MemberContext,
    Plan,
    condition_true,
    earliest,
    from_epoch,
    plan_for,
    rfc3339,
    set_condition,
    write_status,
)
from .logs import LogScript
from .pods import blocked, create_pod, delete_pod, finish_pod, postpone, start_pod

BACKOFF_BASE_SECONDS = 10.0
BACKOFF_MAX_SECONDS = 360.0
COMPLETED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
_DEADLINE = ("DeadlineExceeded", "Job was active longer than specified deadline")


@dataclass
class _Wave:
    running_at: float
    end_at: float
    pods: list[tuple[str, int | None, str]] = field(default_factory=list)
    """(pod name, completion index or None, pod IP)."""
    started: bool = False
    held: bool = False
    """Its pods waited for a missing claim, Secret or ConfigMap."""


@dataclass
class _JobRun:
    uid: str
    plan: Plan
    started: float
    wave: _Wave | None = None
    done_indexes: set[int] = field(default_factory=set)
    succeeded: int = 0
    failed: int = 0
    failures_in_row: int = 0
    next_wave_at: float = 0.0


class BatchJobController:
    """Runs batch/v1 Jobs of one member cluster (not the RayJob submitters: KubeRay's)."""

    resource = resources.JOB

    def __init__(self, ctx: MemberContext) -> None:
        self.ctx = ctx
        self._runs: dict[tuple[str, str], _JobRun] = {}

    def reconcile(self, namespace: str, name: str) -> float | None:
        """One reconcile of one Job; returns when it next needs attention (epoch s)."""
        ctx = self.ctx
        key = (namespace, name)
        obj = ctx.store.find(self.resource, namespace, name)
        run = self._runs.get(key)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            if run is not None:
                # Deleting a Job leaves its pods to the garbage collector / propagation policy.
                self._runs.pop(key)
            return None
        if any(ref.get("kind") == "RayJob" for ref in obj["metadata"].get("ownerReferences") or []):
            return None
        if run is not None and run.uid != obj["metadata"]["uid"]:
            self._runs.pop(key)
            run = None
        status = dict(obj.get("status") or {})
        if condition_true(status, "Complete") or condition_true(status, "Failed"):
            return None
        spec = obj.get("spec") or {}
        now = ctx.now()
        if spec.get("suspend"):
            return self._suspend(obj, status, run)
        if condition_true(status, "Suspended"):
            status["conditions"] = set_condition(
                status["conditions"],
                type_="Suspended",
                status="False",
                reason="JobResumed",
                message="Job resumed",
                now=rfc3339(from_epoch(now)),
                stamp="lastProbeTime",
            )
            status.pop("startTime", None)
            return self._write(obj, status)
        if run is None:
            run = _JobRun(uid=obj["metadata"]["uid"], plan=plan_for(obj, ctx.timings), started=now)
            run.succeeded = int(status.get("succeeded") or 0)
            run.failed = int(status.get("failed") or 0)
            self._runs[key] = run
            status.setdefault("startTime", rfc3339(from_epoch(now)))
        deadline = spec.get("activeDeadlineSeconds")
        deadline_at = None if deadline is None else run.started + float(deadline)
        if deadline_at is not None and now >= deadline_at:
            self._kill_wave(namespace, run, deadline_at)
            return self._finish(obj, status, run, deadline_at, _DEADLINE)
        if run.wave is None:
            if now < run.next_wave_at:
                self._write(obj, self._counters(status, run, spec))
                return earliest(run.next_wave_at, deadline_at)
            run.wave = self._new_wave(obj, run, max(now, run.next_wave_at))
        wave = run.wave
        if now >= wave.running_at and not wave.started:
            names = [pod for pod, _, _ in wave.pods]
            if blocked(ctx, namespace, names):
                # The Job stays active with its pods Pending until the object appears.
                wave.held = True
                self._write(obj, self._counters(status, run, spec))
                return deadline_at
            if wave.held:
                waited = now - wave.running_at
                wave.running_at += waited
                wave.end_at += waited
                postpone(ctx, namespace, names, waited)
            for pod, _, ip in wave.pods:
                start_pod(ctx, namespace, pod, at=wave.running_at, ip=ip)
            wave.started = True
        if now < wave.end_at:
            self._write(obj, self._counters(status, run, spec))
            return min(t for t in (wave.running_at, wave.end_at, deadline_at) if t and t > now)
        for pod, index, _ in wave.pods:
            finish_pod(ctx, namespace, pod, at=wave.end_at, succeeded=run.plan.succeed)
            if run.plan.succeed:
                run.succeeded += 1
                if index is not None:
                    run.done_indexes.add(index)
            else:
                run.failed += 1
        run.wave = None
        if run.failed > int(spec.get("backoffLimit", 6)):
            return self._finish(obj, status, run, wave.end_at, BACKOFF_EXCEEDED)
        if not run.plan.succeed:
            # Replacement pods wait out the controller's exponential back-off: 10 s, 20 s, ...
            delay = min(BACKOFF_BASE_SECONDS * 2 ** (run.failures_in_row), BACKOFF_MAX_SECONDS)
            run.failures_in_row += 1
            run.next_wave_at = wave.end_at + delay
        if run.succeeded >= _completions(spec):
            return self._finish(obj, status, run, wave.end_at)
        self._write(obj, self._counters(status, run, spec))
        return now

    # -- phases ---------------------------------------------------------------------------

    def _new_wave(self, obj: dict[str, Any], run: _JobRun, now: float) -> _Wave:
        ctx = self.ctx
        meta, spec = obj["metadata"], obj.get("spec") or {}
        namespace, name, uid = meta["namespace"], meta["name"], meta["uid"]
        wave = _Wave(
            running_at=now + run.plan.init_seconds,
            end_at=now + run.plan.init_seconds + run.plan.run_seconds,
        )
        parallelism = int(spec.get("parallelism", 1))
        indexed = spec.get("completionMode") == "Indexed"
        if indexed:
            todo = [i for i in range(_completions(spec)) if i not in run.done_indexes]
            slots: list[int | None] = list(todo[:parallelism])
        else:
            remaining = _completions(spec) - run.succeeded
            width = parallelism if spec.get("completions") is None else min(parallelism, remaining)
            slots = [None] * max(width, 1)
        template = spec.get("template") or {}
        for index in slots:
            labels = pod_labels(name, uid)
            annotations = None
            if index is None:
                prefix = f"{name}-"
            else:
                prefix = f"{name}-{index}-"
                labels["batch.kubernetes.io/job-completion-index"] = str(index)
                annotations = {"batch.kubernetes.io/job-completion-index": str(index)}
            pod = prefix + ctx.pod_suffix()
            ip = create_pod(
                ctx,
                name=pod,
                generate_name=prefix,
                namespace=namespace,
                labels=labels,
                owner=obj,
                template=template,
                default_container="main",
                annotations=annotations,
                script=LogScript(
                    role="trainer",
                    title=f"Job {name}" + ("" if index is None else f"[{index}]"),
                    started=wave.running_at,
                    run_start=wave.running_at,
                    end=wave.end_at,
                    succeed=run.plan.succeed,
                    interval=ctx.timings.log_interval_seconds,
                ),
            )
            wave.pods.append((pod, index, ip))
        return wave

    def _finish(
        self,
        obj: dict[str, Any],
        status: dict[str, Any],
        run: _JobRun,
        at: float,
        failure: tuple[str, str] | None = None,
    ) -> float | None:
        """End the Job: Complete, or Failed for `failure` (reason, message)."""
        if failure is None:
            types, (reason, message) = ("SuccessCriteriaMet", "Complete"), COMPLETED
        else:
            types, (reason, message) = ("FailureTarget", "Failed"), failure
        stamp = rfc3339(from_epoch(at))
        status = self._counters(status, run, obj.get("spec") or {})
        conditions = status.get("conditions") or []
        for type_ in types:
            conditions = set_condition(
                conditions,
                type_=type_,
                status="True",
                reason=reason,
                message=message,
                now=stamp,
                stamp="lastProbeTime",
            )
        status["conditions"] = conditions
        if failure is None:
            status["completionTime"] = stamp
        else:
            status.pop("active", None)
            status["ready"] = 0
        self._runs.pop((obj["metadata"]["namespace"], obj["metadata"]["name"]), None)
        self._write(obj, status)
        return None

    def _suspend(
        self, obj: dict[str, Any], status: dict[str, Any], run: _JobRun | None
    ) -> float | None:
        meta = obj["metadata"]
        now = self.ctx.now()
        if run is not None:
            self._kill_wave(meta["namespace"], run, now, delete=True)
            self._runs.pop((meta["namespace"], meta["name"]), None)
        status["conditions"] = set_condition(
            status.get("conditions") or [],
            type_="Suspended",
            status="True",
            reason="JobSuspended",
            message="Job suspended",
            now=rfc3339(from_epoch(now)),
            stamp="lastProbeTime",
        )
        status.pop("active", None)
        status["ready"] = 0
        self._write(obj, status)
        return None

    # -- helpers --------------------------------------------------------------------------

    def _kill_wave(self, namespace: str, run: _JobRun, at: float, *, delete: bool = False) -> None:
        if run.wave is None:
            return
        for pod, _, _ in run.wave.pods:
            if delete:
                delete_pod(self.ctx, namespace, pod, at=at)
            else:
                finish_pod(self.ctx, namespace, pod, at=at, succeeded=False)
                run.failed += 1
        run.wave = None

    def _counters(
        self, status: dict[str, Any], run: _JobRun, spec: dict[str, Any]
    ) -> dict[str, Any]:
        """`status` with the pod counters the Job controller maintains."""
        result = dict(status)
        active = 0 if run.wave is None else len(run.wave.pods)
        running = 0 if run.wave is None or not run.wave.started else active
        for field_name, value in (
            ("active", active),
            ("succeeded", run.succeeded),
            ("failed", run.failed),
        ):
            if value:
                result[field_name] = value
            else:
                result.pop(field_name, None)
        result["ready"] = running
        result["terminating"] = 0
        result["uncountedTerminatedPods"] = {}
        if spec.get("completionMode") == "Indexed" and run.done_indexes:
            result["completedIndexes"] = _ranges(sorted(run.done_indexes))
        return result

    def _write(self, obj: dict[str, Any], status: dict[str, Any]) -> float | None:
        return write_status(self.ctx, self.resource, obj, status)


def pod_labels(job: str, uid: str) -> dict[str, str]:
    """The labels the Job controller puts on the pods of Job `job`."""
    return {
        "job-name": job,
        "batch.kubernetes.io/job-name": job,
        "controller-uid": uid,
        "batch.kubernetes.io/controller-uid": uid,
    }


def _completions(spec: dict[str, Any]) -> int:
    completions = spec.get("completions")
    return 1 if completions is None else int(completions)


def _ranges(indexes: list[int]) -> str:
    """`[0, 1, 2, 5]` -> `"0-2,5"`, the Job's completedIndexes format."""
    parts: list[str] = []
    start = prev = indexes[0]
    for index in indexes[1:]:
        if index == prev + 1:
            prev = index
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = index
    parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(parts)
