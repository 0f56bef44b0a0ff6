"""KubeRay's RayJob controller as a member cluster runs it (ray.io/v1, K8sJobMode).

New -> Initializing (RayCluster pods) -> Running (submitter Job, PENDING -> RUNNING) ->
Complete/SUCCEEDED or Failed/FAILED (AppFailed); plus DeadlineExceeded, backoffLimit retries,
suspend, validation and shutdownAfterJobFinishes + ttlSecondsAfterFinished.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import structlog
import yaml

from .. import kuberay, resources
from .batchjob import BACKOFF_EXCEEDED, COMPLETED, pod_labels
from .common import (
    MemberContext,
    Plan,
    earliest,
    from_epoch,
    owner_reference,
    plan_for,
    rfc3339,
    write_status,
)
from .logs import LogScript
from .pods import blocked, create_pod, delete_pod, finish_pod, postpone, start_pod

log = structlog.get_logger()

FINALIZER = "ray.io/rayjob-finalizer"
MAX_NAME_LENGTH = 47
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)
TERMINAL_JOB_STATUSES = ("SUCCEEDED", "FAILED", "STOPPED")


@dataclass
class _Attempt:
    """One run of a RayJob: its RayCluster, submitter and planned times (epoch seconds)."""

    uid: str
    plan: Plan
    started: float
    ready_at: float
    cluster: str
    job_id: str
    head_pod: str
    head_ip: str
    worker_pods: list[tuple[str, str]] = field(default_factory=list)
    running_at: float = 0.0
    end_at: float = 0.0
    submitter_pod: str | None = None
    submitter_ip: str = ""
    cluster_deleted: bool = False
    held: bool = False
    """Its pods waited for a missing claim, Secret or ConfigMap."""
    # Why `ray job submit` refuses this job (Ray's runtime-env check), if it does.
    submit_error: str | None = None


def validate(obj: dict[str, Any]) -> str | None:
    """KubeRay's spec validation; the message it writes to status, or None when valid."""
    name = obj["metadata"]["name"]
    spec = obj.get("spec") or {}
    if len(name) > MAX_NAME_LENGTH:
        return f"RayJob name should be no more than {MAX_NAME_LENGTH} characters"
    if not _DNS1035.match(name):
        return f"RayJob name should be a valid DNS1035 label: [{_DNS1035_MESSAGE}]"
    if spec.get("suspend") and not spec.get("shutdownAfterJobFinishes"):
        return "a RayJob with shutdownAfterJobFinishes set to false is not allowed to be suspended"
    if not spec.get("rayClusterSpec") and not spec.get("clusterSelector"):
        return "one of RayClusterSpec or ClusterSelector must be set"
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and int(deadline) <= 0:
        return f"activeDeadlineSeconds must be a positive integer, got {deadline}"
    if int(spec.get("backoffLimit") or 0) < 0:
        return "backoffLimit must be a positive integer"
    return None


class RayJobController:
    """Drives RayJobs of one member cluster through KubeRay's deployment states."""

    resource = resources.RAYJOB

    def __init__(self, ctx: MemberContext) -> None:
        self.ctx = ctx
        self._attempts: dict[tuple[str, str], _Attempt] = {}

    def reconcile(self, namespace: str, name: str) -> float | None:
        """One reconcile of one RayJob; returns when it next needs attention (epoch s)."""
        ctx = self.ctx
        key = (namespace, name)
        obj = ctx.store.find(self.resource, namespace, name)
        attempt = self._attempts.get(key)
        if obj is None:
            if attempt is not None:
                self._teardown(namespace, name, attempt, ctx.now())
                del self._attempts[key]
            return None
        if attempt is not None and attempt.uid != obj["metadata"]["uid"]:
            self._teardown(namespace, name, attempt, ctx.now())
            attempt = None
            del self._attempts[key]
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        status = dict(obj.get("status") or {})
        deployment = status.get("jobDeploymentStatus") or ""

        if meta.get("deletionTimestamp"):
            if attempt is not None:
                self._teardown(namespace, name, attempt, ctx.now())
                del self._attempts[key]
            if FINALIZER in (meta.get("finalizers") or []):
                ctx.store.remove_finalizer(self.resource, namespace, name, FINALIZER)
            return None

        problem = validate(obj)
        if problem is not None:
            if deployment != "ValidationFailed":
                status.update(
                    jobDeploymentStatus="ValidationFailed",
                    reason="ValidationFailed",
                    message=problem,
                    observedGeneration=meta.get("generation", 1),
                )
                self._write(obj, status)
            return None

        suspend = bool(spec.get("suspend"))
        if deployment == "":
            if suspend:
                return self._write(obj, {**status, "jobDeploymentStatus": "Suspended"})
            return self._start(obj, status)
        if deployment in ("Initializing", "Waiting", "Running"):
            if attempt is None:
                # The controller lost its memory of this run (object edited from outside):
                # restart it the way KubeRay would after losing its RayCluster.
                return self._write(obj, _reset(status, "Retrying"))
            if suspend:
                return self._write(obj, {**status, "jobDeploymentStatus": "Suspending"})
            deadline = self._deadline(spec, attempt)
            if deadline is not None and ctx.now() >= deadline:
                return self._deadline_exceeded(obj, status, attempt, deadline)
            if deployment == "Initializing":
                due = self._initializing(obj, status, attempt)
            elif deployment == "Waiting":
                due = self._waiting(obj, status, attempt)
            else:
                due = self._running(obj, status, attempt)
            return earliest(due, deadline)
        if deployment in ("Suspending", "Retrying"):
            if attempt is not None:
                self._teardown(namespace, name, attempt, ctx.now())
                del self._attempts[key]
            target = "Suspended" if deployment == "Suspending" else ""
            return self._write(obj, _reset(status, target))
        if deployment == "Suspended":
            if not suspend:
                return self._write(obj, {**status, "jobDeploymentStatus": ""})
            return None
        if deployment in ("Complete", "Failed"):
            return self._finished(obj, status, attempt)
        return None

    # -- phases ---------------------------------------------------------------------------

    def _start(self, obj: dict[str, Any], status: dict[str, Any]) -> float | None:
        ctx = self.ctx
        meta, spec = obj["metadata"], obj.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        if FINALIZER not in (meta.get("finalizers") or []):
            finalizers = [*(meta.get("finalizers") or []), FINALIZER]
            ctx.store.patch(
                self.resource,
                namespace,
                name,
                {"metadata": {"finalizers": finalizers}},
                patch_type="merge",
            )
            obj = ctx.store.get(self.resource, namespace, name)
        now = ctx.now()
        plan = plan_for(obj, ctx.timings)
        cluster = f"{name}-{ctx.kuberay_suffix()}"
        attempt = _Attempt(
            uid=meta["uid"],
            plan=plan,
            started=now,
            ready_at=now + plan.init_seconds,
            cluster=cluster,
            job_id=spec.get("jobId") or f"{name}-{ctx.kuberay_suffix()}",
            head_pod=f"{cluster}-head-{ctx.pod_suffix()}",
            head_ip="",
            submit_error=_submit_error(spec),
        )
        cluster_spec = spec.get("rayClusterSpec") or {}
        raycluster = ctx.store.create(
            resources.RAYCLUSTER,
            {
                "apiVersion": "ray.io/v1",
                "kind": "RayCluster",
                "metadata": {
                    "name": cluster,
                    "namespace": namespace,
                    "labels": {
                        "ray.io/originated-from-crd": "RayJob",
                        "ray.io/originated-from-cr-name": name,
                    },
                    "ownerReferences": [owner_reference(obj)],
                },
                "spec": cluster_spec,
            },
            namespace=namespace,
        )
        head_template = (cluster_spec.get("headGroupSpec") or {}).get("template")
        attempt.head_ip = create_pod(
            ctx,
            name=attempt.head_pod,
            generate_name=f"{cluster}-head-",
            namespace=namespace,
            labels=_ray_labels(cluster, name, "head", "headgroup"),
            owner=raycluster,
            template=head_template,
            default_container="ray-head",
            script=LogScript(
                role="ray-head",
                title=attempt.job_id,
                started=attempt.ready_at,
                run_start=attempt.ready_at,
                end=None,
            ),
        )
        for group in cluster_spec.get("workerGroupSpecs") or []:
            group_name = group.get("groupName") or "workergroup"
            for _ in range(int(group.get("replicas", group.get("minReplicas", 1)) or 0)):
                pod = f"{cluster}-{group_name}-worker-{ctx.pod_suffix()}"
                ip = create_pod(
                    ctx,
                    name=pod,
                    generate_name=f"{cluster}-{group_name}-worker-",
                    namespace=namespace,
                    labels=_ray_labels(cluster, name, "worker", group_name),
                    owner=raycluster,
                    template=group.get("template"),
                    default_container="ray-worker",
                    script=LogScript(
                        role="ray-worker",
                        title=attempt.job_id,
                        started=attempt.ready_at,
                        run_start=attempt.ready_at,
                        end=None,
                    ),
                )
                attempt.worker_pods.append((pod, ip))
        self._attempts[(namespace, name)] = attempt
        status = {
            **status,
            "jobDeploymentStatus": "Initializing",
            "jobId": attempt.job_id,
            "rayClusterName": cluster,
            "startTime": rfc3339(from_epoch(now)),
            "observedGeneration": meta.get("generation", 1),
            "rayClusterStatus": {"desiredWorkerReplicas": len(attempt.worker_pods)},
        }
        for stale in ("endTime", "dashboardURL", "reason", "message", "jobStatus", "rayJobInfo"):
            status.pop(stale, None)
        self._write(obj, status)
        log.debug("sim.rayjob.initializing", cluster=ctx.cluster, rayjob=name, raycluster=cluster)
        return attempt.ready_at

    def _initializing(
        self, obj: dict[str, Any], status: dict[str, Any], attempt: _Attempt
    ) -> float | None:
        ctx = self.ctx
        if ctx.now() < attempt.ready_at:
            return attempt.ready_at
        namespace, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
        names = [attempt.head_pod, *(pod for pod, _ in attempt.worker_pods)]
        if blocked(ctx, namespace, names):
            # The RayCluster is not ready while its pods wait: the RayJob stays Initializing.
            attempt.held = True
            return None
        if attempt.held:
            waited = ctx.now() - attempt.ready_at
            attempt.ready_at += waited
            attempt.held = False
            postpone(ctx, namespace, names, waited)
        spec = obj.get("spec") or {}
        start_pod(ctx, namespace, attempt.head_pod, at=attempt.ready_at, ip=attempt.head_ip)
        for pod, ip in attempt.worker_pods:
            start_pod(ctx, namespace, pod, at=attempt.ready_at, ip=ip)
        service = f"{attempt.cluster}-head-svc"
        dashboard = f"{service}.{namespace}.svc.cluster.local:8265"
        attempt.running_at = attempt.ready_at + ctx.timings.pending_seconds
        attempt.end_at = attempt.running_at + attempt.plan.run_seconds
        if (spec.get("submissionMode") or "K8sJobMode") == "K8sJobMode":
            self._create_submitter(obj, attempt, dashboard)
        workers = len(attempt.worker_pods)
        cluster_status = {
            "state": "ready",
            "desiredWorkerReplicas": workers,
            "availableWorkerReplicas": workers,
            "readyWorkerReplicas": workers,
            "endpoints": {
                "client": "10001",
                "dashboard": "8265",
                "gcs-server": "6379",
                "metrics": "8080",
            },
            "head": {"podName": attempt.head_pod, "podIP": attempt.head_ip, "serviceName": service},
            "lastUpdateTime": rfc3339(from_epoch(attempt.ready_at)),
            "observedGeneration": 1,
        }
        if ctx.store.find(resources.RAYCLUSTER, namespace, attempt.cluster) is not None:
            ctx.store.update_status(
                resources.RAYCLUSTER, namespace, attempt.cluster, cluster_status
            )
        status.update(
            jobDeploymentStatus="Running",
            jobStatus="PENDING",
            dashboardURL=dashboard,
            rayClusterStatus=cluster_status,
        )
        if spec.get("submissionMode") == "InteractiveMode":
            # The cluster waits for the user to submit a job and set spec.jobId.
            status.update(jobDeploymentStatus="Waiting")
            status.pop("jobStatus", None)
            self._write(obj, status)
            return None
        self._write(obj, status)
        log.debug("sim.rayjob.running", cluster=ctx.cluster, rayjob=name)
        return attempt.running_at

    def _waiting(
        self, obj: dict[str, Any], status: dict[str, Any], attempt: _Attempt
    ) -> float | None:
        job_id = (obj.get("spec") or {}).get("jobId")
        if not job_id:
            return None
        now = self.ctx.now()
        attempt.running_at = now + self.ctx.timings.pending_seconds
        attempt.end_at = attempt.running_at + attempt.plan.run_seconds
        attempt.job_id = job_id
        status.update(jobDeploymentStatus="Running", jobStatus="PENDING", jobId=job_id)
        self._write(obj, status)
        return attempt.running_at

    def _create_submitter(self, obj: dict[str, Any], attempt: _Attempt, dashboard: str) -> None:
        ctx = self.ctx
        meta, spec = obj["metadata"], obj.get("spec") or {}
        namespace, name = meta["namespace"], meta["name"]
        job_labels = {
            "app.kubernetes.io/created-by": "kuberay-operator",
            "ray.io/originated-from-crd": "RayJob",
            "ray.io/originated-from-cr-name": name,
        }
        if ctx.store.find(resources.JOB, namespace, name) is not None:
            ctx.store.delete(resources.JOB, namespace, name, propagation_policy="Background")
        template = copy.deepcopy(
            spec.get("submitterPodTemplate")
            or {"spec": {"containers": [{"name": "ray-job-submitter", "image": "rayproject/ray"}]}}
        )
        submitter = template["spec"]["containers"][0]
        if not submitter.get("command"):
            # KubeRay fills in its script only where the template has no command of its own.
            submitter["command"] = list(kuberay.SUBMITTER_COMMAND)
            submitter["args"] = [
                kuberay.submitter_script(spec, address=f"http://{dashboard}", job_id=attempt.job_id)
            ]
        job = ctx.store.create(
            resources.JOB,
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": job_labels,
                    "ownerReferences": [owner_reference(obj)],
                },
                "spec": {
                    "backoffLimit": 2,
                    "completions": 1,
                    "parallelism": 1,
                    "template": template,
                },
            },
            namespace=namespace,
        )
        uid = job["metadata"]["uid"]
        ctx.store.update_status(
            resources.JOB,
            namespace,
            name,
            {"active": 1, "ready": 1, "startTime": rfc3339(from_epoch(attempt.ready_at))},
        )
        attempt.submitter_pod = f"{name}-{ctx.pod_suffix()}"
        attempt.submitter_ip = create_pod(
            ctx,
            name=attempt.submitter_pod,
            generate_name=f"{name}-",
            namespace=namespace,
            labels=pod_labels(name, uid),
            owner=job,
            template=template,
            default_container="ray-job-submitter",
            script=LogScript(
                role="ray-driver",
                title=attempt.job_id,
                started=attempt.ready_at,
                run_start=attempt.running_at,
                end=attempt.end_at,
                succeed=attempt.plan.succeed,
                interval=ctx.timings.log_interval_seconds,
                extra={"dashboard": dashboard},
            ),
        )
        start_pod(
            ctx, namespace, attempt.submitter_pod, at=attempt.ready_at, ip=attempt.submitter_ip
        )

    def _running(
        self, obj: dict[str, Any], status: dict[str, Any], attempt: _Attempt
    ) -> float | None:
        ctx = self.ctx
        now = ctx.now()
        if now < attempt.running_at:
            return attempt.running_at
        if now < attempt.end_at:
            if status.get("jobStatus") != "RUNNING":
                status["jobStatus"] = "RUNNING"
                status["rayJobInfo"] = {"startTime": rfc3339(from_epoch(attempt.running_at))}
                self._write(obj, status)
            return attempt.end_at
        namespace = obj["metadata"]["namespace"]
        if attempt.submit_error is not None:
            return self._submission_failed(obj, status, attempt)
        succeeded = attempt.plan.succeed
        end = rfc3339(from_epoch(attempt.end_at))
        status.update(
            jobStatus="SUCCEEDED" if succeeded else "FAILED",
            jobDeploymentStatus="Complete" if succeeded else "Failed",
            endTime=end,
            rayJobInfo={"startTime": rfc3339(from_epoch(attempt.running_at)), "endTime": end},
        )
        if succeeded:
            status["succeeded"] = int(status.get("succeeded") or 0) + 1
            status.pop("reason", None)
            status["message"] = "Job finished successfully."
        else:
            status["failed"] = int(status.get("failed") or 0) + 1
            status["reason"] = "AppFailed"
            status["message"] = "Job entrypoint command failed with exit code 1"
        self._finish_submitter(namespace, obj["metadata"]["name"], attempt, succeeded)
        self._write(obj, status)
        log.debug(
            "sim.rayjob.finished",
            cluster=ctx.cluster,
            rayjob=obj["metadata"]["name"],
            succeeded=succeeded,
        )
        return ctx.now()

    def _submission_failed(
        self, obj: dict[str, Any], status: dict[str, Any], attempt: _Attempt
    ) -> float | None:
        """`ray job submit` exits 1 on every try: the submitter Job fails, and so does the
        RayJob (KubeRay: SubmissionFailed), without the Ray job ever running."""
        name = obj["metadata"]["name"]
        log.debug("sim.rayjob.submit_refused", rayjob=name, error=attempt.submit_error)
        self._finish_submitter(obj["metadata"]["namespace"], name, attempt, False)
        status.update(
            jobDeploymentStatus="Failed",
            reason="SubmissionFailed",
            message="Job submission has failed. Reason: Job has reached the specified backoff "
            f"limit (ray job submit: TypeError: {attempt.submit_error})",
            endTime=rfc3339(from_epoch(attempt.running_at)),
            failed=int(status.get("failed") or 0) + 1,
        )
        status.pop("jobStatus", None)
        self._write(obj, status)
        return self.ctx.now()

    def _finish_submitter(
        self, namespace: str, name: str, attempt: _Attempt, succeeded: bool
    ) -> None:
        ctx = self.ctx
        if attempt.submitter_pod is None:
            return
        finish_pod(ctx, namespace, attempt.submitter_pod, at=attempt.end_at, succeeded=succeeded)
        job = ctx.store.find(resources.JOB, namespace, name)
        if job is None:
            return
        at = rfc3339(from_epoch(attempt.end_at))
        kind, (reason, message) = (
            ("Complete", COMPLETED) if succeeded else ("Failed", BACKOFF_EXCEEDED)
        )
        first = "SuccessCriteriaMet" if succeeded else "FailureTarget"
        conditions = [
            {
                "type": t,
                "status": "True",
                "reason": reason,
                "message": message,
                "lastProbeTime": at,
                "lastTransitionTime": at,
            }
            for t in (first, kind)
        ]
        job_status = {
            "startTime": job.get("status", {}).get("startTime", at),
            "active": 0,
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "succeeded": 1 if succeeded else 0,
            "failed": 0 if succeeded else 1,
            "conditions": conditions,
        }
        if succeeded:
            job_status["completionTime"] = at
        ctx.store.update_status(resources.JOB, namespace, name, job_status)

    def _deadline(self, spec: dict[str, Any], attempt: _Attempt) -> float | None:
        seconds = spec.get("activeDeadlineSeconds")
        return None if seconds is None else attempt.started + float(seconds)

    def _deadline_exceeded(
        self, obj: dict[str, Any], status: dict[str, Any], attempt: _Attempt, deadline: float
    ) -> float | None:
        spec = obj.get("spec") or {}
        status.update(
            jobDeploymentStatus="Failed",
            reason="DeadlineExceeded",
            message=(
                f"The RayJob has passed the activeDeadlineSeconds. StartTime: "
                f"{status.get('startTime')}. ActiveDeadlineSeconds: "
                f"{spec.get('activeDeadlineSeconds')}"
            ),
            endTime=rfc3339(from_epoch(deadline)),
            failed=int(status.get("failed") or 0) + 1,
        )
        attempt.end_at = deadline
        self._finish_submitter(
            obj["metadata"]["namespace"], obj["metadata"]["name"], attempt, False
        )
        return self._write(obj, status)

    def _finished(
        self, obj: dict[str, Any], status: dict[str, Any], attempt: _Attempt | None
    ) -> float | None:
        spec = obj.get("spec") or {}
        namespace = obj["metadata"]["namespace"]
        failed = int(status.get("failed") or 0)
        if (
            status.get("jobDeploymentStatus") == "Failed"
            and status.get("reason") != "DeadlineExceeded"
            and failed < int(spec.get("backoffLimit") or 0) + 1
        ):
            return self._write(obj, {**status, "jobDeploymentStatus": "Retrying"})
        if attempt is None or attempt.cluster_deleted or not spec.get("shutdownAfterJobFinishes"):
            return None
        shutdown_at = attempt.end_at + float(spec.get("ttlSecondsAfterFinished") or 0)
        if self.ctx.now() < shutdown_at:
            return shutdown_at
        # The RayCluster goes away with its pods; the submitter Job (driver logs) stays.
        self._delete_cluster(namespace, attempt, shutdown_at)
        return None

    # -- helpers --------------------------------------------------------------------------

    def _teardown(self, namespace: str, name: str, attempt: _Attempt, at: float) -> None:
        """Delete the RayCluster, its pods and the submitter Job (named after the RayJob)."""
        self._delete_cluster(namespace, attempt, at)
        if attempt.submitter_pod is not None:
            delete_pod(self.ctx, namespace, attempt.submitter_pod, at=at)
            if self.ctx.store.find(resources.JOB, namespace, name) is not None:
                self.ctx.store.delete(resources.JOB, namespace, name)

    def _delete_cluster(self, namespace: str, attempt: _Attempt, at: float) -> None:
        for pod in [attempt.head_pod, *(p for p, _ in attempt.worker_pods)]:
            delete_pod(self.ctx, namespace, pod, at=at)
        if self.ctx.store.find(resources.RAYCLUSTER, namespace, attempt.cluster) is not None:
            self.ctx.store.delete(resources.RAYCLUSTER, namespace, attempt.cluster)
        attempt.cluster_deleted = True

    def _write(self, obj: dict[str, Any], status: dict[str, Any]) -> float | None:
        """Store `status` when it differs; ask to be reconciled again right away."""
        if status.get("jobDeploymentStatus"):
            status = {**status, "observedGeneration": obj["metadata"].get("generation", 1)}
        return write_status(self.ctx, self.resource, obj, status)


def _submit_error(spec: dict[str, Any]) -> str | None:
    """Ray's refusal of the runtime env KubeRay passes on, or None."""
    text = spec.get("runtimeEnvYAML") or ""
    if not text:
        return None
    try:
        return kuberay.env_vars_problem(kuberay.load_runtime_env(text))
    except yaml.YAMLError as exc:
        return f"runtimeEnvYAML is not valid YAML: {exc}"


def _ray_labels(cluster: str, rayjob: str, node_type: str, group: str) -> dict[str, str]:
    return {
        "ray.io/cluster": cluster,
        "ray.io/node-type": node_type,
        "ray.io/group": group,
        "ray.io/is-ray-node": "yes",
        "ray.io/identifier": f"{cluster}-{node_type}",
        "app.kubernetes.io/name": "kuberay",
        "app.kubernetes.io/created-by": "kuberay-operator",
        "ray.io/originated-from-crd": "RayJob",
        "ray.io/originated-from-cr-name": rayjob,
    }


def _reset(status: dict[str, Any], deployment: str) -> dict[str, Any]:
    """Status after the RayCluster is gone: counters kept, the run's fields cleared."""
    kept: dict[str, Any] = {
        k: status[k] for k in ("succeeded", "failed", "observedGeneration") if k in status
    }
    return {**kept, "jobDeploymentStatus": deployment}
