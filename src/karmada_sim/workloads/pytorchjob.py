"""Kubeflow training jobs as the training-operator (and mpi-operator) run them: PyTorchJob,
TFJob (kubeflow.org/v1) and MPIJob (kubeflow.org/v2beta1).

Conditions Created -> Running -> Succeeded/Failed with `<Kind>Created/Running/...` reasons,
replicaStatuses per replica type, startTime/completionTime, pods `<job>-<type>-<index>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog

from .. import resources
from ..resources import Resource
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

log = structlog.get_logger()


@dataclass(frozen=True)
class Flavor:
    """What differs between the Kubeflow job kinds."""

    resource: Resource
    replica_specs_field: str
    replica_order: tuple[str, ...]
    """Replica types in the order the operator creates them; the first one leads."""
    container: str
    operator: str
    restart_policy: str = "Never"
    """The operator's default restartPolicy for replicas that set none."""
    launcher_is_job: bool = False
    """MPIJob v2beta1 runs its launcher through a batch Job: pod `<job>-launcher-<5>`."""


PYTORCH = Flavor(
    resources.PYTORCHJOB,
    "pytorchReplicaSpecs",
    ("Master", "Worker"),
    "pytorch",
    "pytorchjob-controller",
    restart_policy="OnFailure",
)
TENSORFLOW = Flavor(
    resources.TFJOB,
    "tfReplicaSpecs",
    ("Chief", "Master", "PS", "Worker", "Evaluator"),
    "tensorflow",
    "tfjob-controller",
)
MPI = Flavor(
    resources.MPIJOB,
    "mpiReplicaSpecs",
    ("Launcher", "Worker"),
    "mpi",
    "mpi-operator",
    launcher_is_job=True,
)

_LEADERS = ("Master", "Chief", "Launcher")
# The kubelet's first crash-loop back-off before a failed container runs again.
RESTART_BACKOFF_SECONDS = 10.0


@dataclass
class _Run:
    uid: str
    plan: Plan
    created: float
    running_at: float
    end_at: float
    pods: list[tuple[str, str, str]] = field(default_factory=list)
    """(replica type, pod name, pod IP)."""
    restarts: int = 0
    held: bool = False
    """Its pods waited for a missing claim, Secret or ConfigMap."""


class KubeflowJobController:
    """Drives one Kubeflow job kind in one member cluster."""

    def __init__(self, ctx: MemberContext, flavor: Flavor) -> None:
        self.ctx = ctx
        self.flavor = flavor
        self.resource = flavor.resource
        self._runs: dict[tuple[str, str], _Run] = {}

    @property
    def kind(self) -> str:
        """The Kind, e.g. `PyTorchJob`; condition reasons start with it."""
        return self.resource.kind

    def reconcile(self, namespace: str, name: str) -> float | None:
        """One reconcile of one job; returns when it next needs attention (epoch s)."""
        ctx = self.ctx
        key = (namespace, name)
        obj = ctx.store.find(self.resource, namespace, name)
        run = self._runs.get(key)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            if run is not None:
                self._delete_pods(namespace, run)
                del self._runs[key]
            return None
        if run is not None and run.uid != obj["metadata"]["uid"]:
            self._delete_pods(namespace, run)
            del self._runs[key]
            run = None
        status = dict(obj.get("status") or {})
        if condition_true(status, "Succeeded") or condition_true(status, "Failed"):
            return None
        run_policy = _run_policy(obj)
        if run_policy.get("suspend"):
            return self._suspend(obj, status, run)
        if condition_true(status, "Suspended"):
            status["conditions"] = set_condition(
                status.get("conditions") or [],
                type_="Suspended",
                status="False",
                reason=f"{self.kind}Resumed",
                message=f"{self.kind} {name} is resumed.",
                now=self._ts(),
            )
            return self._write(obj, status)
        if run is None:
            return self._create(obj, status)
        now = ctx.now()
        deadline = run_policy.get("activeDeadlineSeconds")
        deadline_at = None if deadline is None else run.created + float(deadline)
        if deadline_at is not None and now >= deadline_at:
            return self._finish(obj, status, run, succeeded=False, at=deadline_at, deadline=True)
        if now < run.running_at:
            return earliest(run.running_at, deadline_at)
        if not condition_true(status, "Running"):
            names = [pod for _, pod, _ in run.pods]
            if blocked(ctx, namespace, names):
                # The job stays Created while its pods wait for the missing object.
                run.held = True
                return deadline_at
            if run.held:
                waited = now - run.running_at
                run.running_at += waited
                run.end_at += waited
                run.held = False
                postpone(ctx, namespace, names, waited)
        if now < run.end_at:
            if not condition_true(status, "Running"):
                self._start(obj, status, run)
            return earliest(run.end_at, deadline_at)
        if not condition_true(status, "Running"):
            self._start(obj, status, run)
            return ctx.now()
        if not run.plan.succeed and self._may_restart(obj, run):
            return self._restart(obj, status, run)
        return self._finish(obj, status, run, succeeded=run.plan.succeed, at=run.end_at)

    def _create(self, obj: dict[str, Any], status: dict[str, Any]) -> float | None:
        ctx = self.ctx
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        plan = plan_for(obj, ctx.timings)
        now = ctx.now()
        run = _Run(
            uid=meta["uid"],
            plan=plan,
            created=now,
            running_at=now + plan.init_seconds,
            end_at=now + plan.init_seconds + plan.run_seconds,
        )
        specs = (obj.get("spec") or {}).get(self.flavor.replica_specs_field) or {}
        for replica_type in self._replica_types(specs):
            spec = specs[replica_type] or {}
            for index in range(int(spec.get("replicas", 1) or 0)):
                pod = self._pod_name(name, replica_type, index)
                launcher = self.flavor.launcher_is_job and replica_type == "Launcher"
                ip = create_pod(
                    ctx,
                    name=pod,
                    generate_name=f"{name}-launcher-" if launcher else None,
                    namespace=namespace,
                    labels=self._labels(name, replica_type, index),
                    owner=obj,
                    template=spec.get("template"),
                    default_container=self.flavor.container,
                    script=LogScript(
                        role="trainer",
                        title=f"{self.kind} {name} {replica_type.lower()}-{index}",
                        started=run.running_at,
                        run_start=run.running_at,
                        end=run.end_at,
                        succeed=plan.succeed,
                        interval=ctx.timings.log_interval_seconds,
                    ),
                )
                run.pods.append((replica_type, pod, ip))
        self._runs[(namespace, name)] = run
        status["conditions"] = set_condition(
            status.get("conditions") or [],
            type_="Created",
            status="True",
            reason=f"{self.kind}Created",
            message=f"{self.kind} {name} is created.",
            now=self._ts(),
        )
        status["replicaStatuses"] = {t: {} for t in self._replica_types(specs)}
        status["startTime"] = rfc3339(from_epoch(now))
        self._write(obj, status)
        return run.running_at

    def _start(self, obj: dict[str, Any], status: dict[str, Any], run: _Run) -> None:
        meta = obj["metadata"]
        for _, pod, ip in run.pods:
            start_pod(
                self.ctx, meta["namespace"], pod, at=run.running_at, ip=ip, restarts=run.restarts
            )
        now = rfc3339(from_epoch(run.running_at))
        conditions = status.get("conditions") or []
        if condition_true(status, "Restarting"):
            conditions = set_condition(
                conditions,
                type_="Restarting",
                status="False",
                reason=f"{self.kind}Running",
                message=f"{self.kind} {meta['name']} is running again.",
                now=now,
            )
        status["conditions"] = set_condition(
            conditions,
            type_="Running",
            status="True",
            reason=f"{self.kind}Running",
            message=f"{self.kind} {meta['namespace']}/{meta['name']} is running.",
            now=now,
        )
        status["replicaStatuses"] = self._replica_statuses(run, "active")
        self._write(obj, status)
        log.debug(
            "sim.kubeflow.running", cluster=self.ctx.cluster, kind=self.kind, name=meta["name"]
        )

    def _finish(
        self,
        obj: dict[str, Any],
        status: dict[str, Any],
        run: _Run,
        *,
        succeeded: bool,
        at: float,
        deadline: bool = False,
    ) -> float | None:
        meta = obj["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        for _, pod, _ip in run.pods:
            finish_pod(self.ctx, namespace, pod, at=at, succeeded=succeeded)
        now = rfc3339(from_epoch(at))
        conditions = [
            {**c, "status": "False", "lastTransitionTime": now, "lastUpdateTime": now}
            if c.get("type") == "Running" and c.get("status") == "True"
            else c
            for c in status.get("conditions") or []
        ]
        leader = _leader(run) or "Master"
        if succeeded:
            conditions = set_condition(
                conditions,
                type_="Succeeded",
                status="True",
                reason=f"{self.kind}Succeeded",
                message=f"{self.kind} {namespace}/{name} successfully completed.",
                now=now,
            )
        else:
            if deadline:
                why = "it has reached the specified active deadline"
            elif run.restarts:
                why = "it has reached the specified backoff limit"
            else:
                why = f"1 {leader} replica(s) failed"
            conditions = set_condition(
                conditions,
                type_="Failed",
                status="True",
                reason=f"{self.kind}Failed",
                message=f"{self.kind} {namespace}/{name} has failed because {why}.",
                now=now,
            )
        status["conditions"] = conditions
        status["completionTime"] = now
        status["replicaStatuses"] = self._replica_statuses(
            run, "succeeded" if succeeded else "failed"
        )
        if deadline:
            # The operator deletes every pod of a job past its limits before it marks it
            # Failed, so cleanPodPolicy (read only for finished jobs) does not apply.
            self._delete_pods(namespace, run)
        else:
            self._clean_pods(namespace, run, _run_policy(obj).get("cleanPodPolicy") or "None")
        self._write(obj, status)
        log.debug(
            "sim.kubeflow.finished",
            cluster=self.ctx.cluster,
            kind=self.kind,
            name=name,
            succeeded=succeeded,
        )
        return None

    def _may_restart(self, obj: dict[str, Any], run: _Run) -> bool:
        """Whether failed replicas are restarted in place: restartPolicy OnFailure/Always,
        below runPolicy.backoffLimit (no limit set: restarts go on, as in the operator)."""
        specs = (obj.get("spec") or {}).get(self.flavor.replica_specs_field) or {}
        leader = _leader(run)
        policy = (specs.get(leader) or {}).get("restartPolicy", self.flavor.restart_policy)
        if policy not in ("OnFailure", "Always"):
            return False
        limit = _run_policy(obj).get("backoffLimit")
        return limit is None or run.restarts < int(limit)

    def _restart(self, obj: dict[str, Any], status: dict[str, Any], run: _Run) -> float | None:
        """The kubelet restarts the failed containers in place; the job shows Restarting."""
        meta = obj["metadata"]
        run.restarts += 1
        # The kubelet waits out its crash back-off before starting the containers again.
        at = run.end_at + RESTART_BACKOFF_SECONDS
        run.running_at = at
        run.end_at = at + run.plan.run_seconds
        for replica_type, pod, _ip in run.pods:
            script = LogScript(
                role="trainer",
                title=f"{self.kind} {meta['name']} {replica_type.lower()} (restart {run.restarts})",
                started=at,
                run_start=at,
                end=run.end_at,
                succeed=run.plan.succeed,
                interval=self.ctx.timings.log_interval_seconds,
            )
            self.ctx.logs.add(
                meta["namespace"], pod, {self._first_container(meta["namespace"], pod): script}
            )
        now = rfc3339(from_epoch(at - RESTART_BACKOFF_SECONDS))
        leader = _leader(run) or "Master"
        conditions = set_condition(
            status.get("conditions") or [],
            type_="Running",
            status="False",
            reason=f"{self.kind}Restarting",
            message=f"{self.kind} {meta['name']} is restarting.",
            now=now,
        )
        status["conditions"] = set_condition(
            conditions,
            type_="Restarting",
            status="True",
            reason=f"{self.kind}Restarting",
            message=(
                f"{self.kind} {meta['name']} is restarting because 1 {leader} replica(s) failed."
            ),
            now=now,
        )
        self._write(obj, status)
        return run.running_at

    def _first_container(self, namespace: str, pod: str) -> str:
        obj = self.ctx.store.find(resources.POD, namespace, pod)
        containers = ((obj or {}).get("spec") or {}).get("containers") or [{}]
        return str(containers[0].get("name", self.flavor.container))

    def _suspend(
        self, obj: dict[str, Any], status: dict[str, Any], run: _Run | None
    ) -> float | None:
        meta = obj["metadata"]
        if run is not None:
            self._delete_pods(meta["namespace"], run)
            del self._runs[(meta["namespace"], meta["name"])]
        now = self._ts()
        conditions = set_condition(
            status.get("conditions") or [],
            type_="Suspended",
            status="True",
            reason=f"{self.kind}Suspended",
            message=f"{self.kind} {meta['name']} is suspended.",
            now=now,
        )
        if condition_true(status, "Running"):
            conditions = set_condition(
                conditions,
                type_="Running",
                status="False",
                reason=f"{self.kind}Suspended",
                message=f"{self.kind} {meta['name']} is suspended.",
                now=now,
            )
        status["conditions"] = conditions
        status.pop("startTime", None)
        status["replicaStatuses"] = {t: {} for t in status.get("replicaStatuses") or {}}
        self._write(obj, status)
        return None

    # -- helpers --------------------------------------------------------------------------

    def _replica_types(self, specs: dict[str, Any]) -> list[str]:
        known = [t for t in self.flavor.replica_order if t in specs]
        return known + sorted(t for t in specs if t not in self.flavor.replica_order)

    def _pod_name(self, job: str, replica_type: str, index: int) -> str:
        if self.flavor.launcher_is_job and replica_type == "Launcher":
            return f"{job}-launcher-{self.ctx.pod_suffix()}"
        return f"{job}-{replica_type.lower()}-{index}"

    def _labels(self, job: str, replica_type: str, index: int) -> dict[str, str]:
        labels = {
            "training.kubeflow.org/job-name": job,
            "training.kubeflow.org/operator-name": self.flavor.operator,
            "training.kubeflow.org/replica-type": replica_type.lower(),
            "training.kubeflow.org/replica-index": str(index),
        }
        if replica_type in _LEADERS:
            labels["training.kubeflow.org/job-role"] = "master"
        return labels

    def _replica_statuses(self, run: _Run, counter: str) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = {}
        for replica_type, _, _ in run.pods:
            entry = result.setdefault(replica_type, {})
            entry[counter] = entry.get(counter, 0) + 1
        return result

    def _clean_pods(self, namespace: str, run: _Run, policy: str) -> None:
        """runPolicy.cleanPodPolicy of a finished job (training-operator
        `DeletePodsAndServices`, mpi-operator `deleteWorkerPods`): None keeps every pod,
        Running deletes the pods still Pending or Running, All deletes them all. The
        MPIJob launcher pod belongs to its batch Job and is never cleaned."""
        if policy not in ("Running", "All"):
            return
        for replica_type, pod, _ip in run.pods:
            if self.flavor.launcher_is_job and replica_type == "Launcher":
                continue
            if policy == "Running":
                phase = (
                    (self.ctx.store.find(resources.POD, namespace, pod) or {}).get("status") or {}
                ).get("phase")
                if phase not in ("Pending", "Running"):
                    continue
            delete_pod(self.ctx, namespace, pod, at=self.ctx.now())

    def _delete_pods(self, namespace: str, run: _Run) -> None:
        for _, pod, _ip in run.pods:
            delete_pod(self.ctx, namespace, pod, at=self.ctx.now())

    def _write(self, obj: dict[str, Any], status: dict[str, Any]) -> float | None:
        return write_status(self.ctx, self.resource, obj, status)

    def _ts(self) -> str:
        return rfc3339(self.ctx.clock.now())


def _run_policy(obj: dict[str, Any]) -> dict[str, Any]:
    policy: dict[str, Any] = (obj.get("spec") or {}).get("runPolicy") or {}
    return policy


def _leader(run: _Run) -> str | None:
    """The replica type that leads the job (Master, Chief or Launcher), if any."""
    return next((t for t, _, _ in run.pods if t in _LEADERS), None)
