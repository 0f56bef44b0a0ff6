"""Status mapping: every RayJob state pair, kubeflow and batch Job conditions, and
ResourceBinding documents shaped like the ones Karmada writes."""

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ml_platform.karmada.status import (
    RAYJOB_RULES,
    SUPPORTED_KINDS,
    JobPhase,
    Observation,
    member_phase,
    observe,
)
from ml_platform.karmada.status_fields import MAX_TEXT_LENGTH, timestamp

P, S, R = JobPhase.PENDING, JobPhase.SUBMITTED, JobPhase.RUNNING
OK, F, X = JobPhase.SUCCEEDED, JobPhase.FAILED, JobPhase.STOPPED
T0 = "2026-11-26T05:00:00Z"
T1 = "2026-11-26T05:10:00Z"
T2 = "2026-11-26T05:20:00Z"


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- RayJob: every jobDeploymentStatus x jobStatus pair ------------------------------------

JOB_STATUSES = ("", "PENDING", "RUNNING", "STOPPED", "SUCCEEDED", "FAILED")
# One row per jobDeploymentStatus; columns follow JOB_STATUSES.
RAYJOB_MATRIX: dict[str, tuple[JobPhase, ...]] = {
    "": (S, S, S, S, S, S),
    "Initializing": (P, P, P, P, P, P),
    "Running": (R, R, R, R, R, R),
    "Complete": (F, F, F, X, OK, F),
    "Failed": (F, F, F, F, F, F),
    "ValidationFailed": (F, F, F, F, F, F),
    "Suspending": (X, X, X, X, X, X),
    "Suspended": (X, X, X, X, X, X),
    "Retrying": (P, P, P, P, P, P),
    "Waiting": (R, R, R, R, R, R),
}
# What KubeRay leaves behind from an earlier failed attempt; live states must not show it.
STALE = {"reason": "AppFailed", "message": "exit code 1 (previous attempt)"}
RAYJOB_PAIRS = [
    (deployment, job, phase)
    for deployment, row in RAYJOB_MATRIX.items()
    for job, phase in zip(JOB_STATUSES, row, strict=True)
]


@pytest.mark.parametrize(("deployment", "job", "expected"), RAYJOB_PAIRS)
def test_rayjob_every_state_pair(deployment: str, job: str, expected: JobPhase) -> None:
    status = {"jobDeploymentStatus": deployment, "jobStatus": job, "startTime": T0}
    phase, _, _ = member_phase("RayJob", status)
    assert phase is expected


def test_rayjob_matrix_covers_every_table_row() -> None:
    named = {key for key in RAYJOB_RULES if "*" not in key}
    named_deployments = {d for d, _ in RAYJOB_RULES if d != "*"}
    assert named <= {(d, j) for d, j, _ in RAYJOB_PAIRS}
    assert named_deployments == set(RAYJOB_MATRIX)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(
            {
                "jobDeploymentStatus": "Failed",
                "jobStatus": "RUNNING",
                "reason": "DeadlineExceeded",
                "message": "The RayJob has passed the activeDeadlineSeconds.",
            },
            (
                F,
                "DeadlineExceeded",
                "Ray job failed: The RayJob has passed the activeDeadlineSeconds.",
            ),
            id="deadline",
        ),
        pytest.param(
            {
                "jobDeploymentStatus": "Failed",
                "jobStatus": "FAILED",
                "reason": "AppFailed",
                "message": "Job entrypoint command failed with exit code 1",
            },
            (F, "AppFailed", "Ray job failed: Job entrypoint command failed with exit code 1"),
            id="app-failed",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Failed", "reason": "SubmissionFailed"},
            (F, "SubmissionFailed", "Ray job failed"),
            id="submission-failed",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Failed"},
            (F, "RayJobFailed", "Ray job failed"),
            id="failed-without-reason",
        ),
        pytest.param(
            {
                "jobDeploymentStatus": "ValidationFailed",
                "reason": "ValidationFailed",
                "message": "The RayJob metadata is invalid: name too long",
            },
            (
                F,
                "ValidationFailed",
                "KubeRay rejected the RayJob: The RayJob metadata is invalid: name too long",
            ),
            id="validation",
        ),
        pytest.param(
            {"jobDeploymentStatus": "ValidationFailed"},
            (F, "ValidationFailed", "KubeRay rejected the RayJob"),
            id="validation-default-reason",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED"},
            (OK, None, None),
            id="succeeded",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Complete", "jobStatus": "STOPPED"},
            (X, "RayJobStopped", "Ray job was stopped"),
            id="stopped",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Complete", "jobStatus": "FAILED"},
            (F, "AppFailed", "Ray job failed"),
            id="complete-failed",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Complete", "jobStatus": "RUNNING"},
            (F, "UnknownOutcome", "KubeRay finished without a final Ray job status"),
            id="complete-without-outcome",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Initializing"},
            (P, None, "initializing Ray cluster"),
            id="initializing",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Running", "jobStatus": "PENDING", **STALE},
            (R, None, "Ray cluster is up; waiting for the Ray job to start"),
            id="running-pending",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Running", "jobStatus": "", **STALE},
            (R, None, "Ray cluster is up; submitting the Ray job"),
            id="running-no-job-status",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Running", "jobStatus": "RUNNING", "reason": "AppFailed"},
            (R, None, None),
            id="running-ignores-stale-reason",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Running", "jobStatus": "FAILED", **STALE},
            (R, None, "Ray job failed; waiting for KubeRay to finish or retry"),
            id="running-failed-may-retry",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Running", "jobStatus": "SUCCEEDED", **STALE},
            (R, None, "Ray job succeeded; waiting for KubeRay to finish"),
            id="running-succeeded",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Running", "jobStatus": "STOPPED", **STALE},
            (R, None, "Ray job stopped; waiting for KubeRay to finish"),
            id="running-stopped",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Running", "jobStatus": "SOMETHING_NEW", **STALE},
            (R, None, None),
            id="running-unknown-job-status",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Waiting", **STALE},
            (R, None, "Ray cluster is up; waiting for a job to be submitted"),
            id="interactive-waiting",
        ),
        pytest.param(
            {
                "jobDeploymentStatus": "Retrying",
                "reason": "AppFailed",
                "message": "exit code 1",
            },
            (P, "AppFailed", "retrying after a failed attempt: exit code 1"),
            id="retrying",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Suspending"},
            (X, "Suspended", "suspending"),
            id="suspending",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Suspended", "jobStatus": ""},
            (X, "Suspended", "suspended"),
            id="suspended",
        ),
        pytest.param(
            {"jobDeploymentStatus": "", "message": "noise"},
            (S, None, "waiting for KubeRay to start the job"),
            id="new",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Hibernating", "message": "from a newer KubeRay"},
            (S, None, "unrecognised KubeRay status: jobDeploymentStatus 'Hibernating'"),
            id="unknown-deployment-status",
        ),
    ],
)
def test_rayjob_reason_and_message(
    status: dict[str, Any], expected: tuple[JobPhase, str | None, str | None]
) -> None:
    assert member_phase("RayJob", status) == expected


def rayjob_member(**status: Any) -> Observation:
    entry = {"clusterName": "member1", "applied": True, "health": "Healthy", "status": status}
    return observe("RayJob", binding=binding([entry]), template_status=None, cluster_ready={})


def test_rayjob_counters_times_and_ray_nodes() -> None:
    running = rayjob_member(
        jobDeploymentStatus="Running",
        jobStatus="RUNNING",
        startTime=T0,
        succeeded=0,
        failed=1,
        rayClusterStatus={"readyWorkerReplicas": 3, "head": {"podName": "train-x7k2p-head-abcde"}},
    )
    assert (running.active, running.succeeded, running.failed) == (4, 0, 1)
    assert running.start_time == at(T0)
    assert running.completion_time is None
    assert running.cluster_distribution() == {"member1": 4}

    done = rayjob_member(
        jobDeploymentStatus="Complete",
        jobStatus="SUCCEEDED",
        startTime=T0,
        endTime=T1,
        succeeded=1,
        failed=0,
        rayClusterStatus={"readyWorkerReplicas": 3, "head": {"podName": "h"}},
    )
    assert (done.active, done.succeeded, done.failed) == (0, 1, 0)
    assert (done.start_time, done.completion_time) == (at(T0), at(T1))


@pytest.mark.parametrize(
    ("status", "active"),
    [
        pytest.param({"jobDeploymentStatus": "Running"}, 1, id="running-no-cluster-report"),
        pytest.param(
            {"jobDeploymentStatus": "Running", "rayClusterStatus": {"availableWorkerReplicas": 2}},
            2,
            id="available-workers",
        ),
        pytest.param(
            {
                "jobDeploymentStatus": "Running",
                "rayClusterStatus": {"readyWorkerReplicas": 2, "availableWorkerReplicas": 3},
            },
            2,
            id="ready-workers-preferred",
        ),
        pytest.param({"jobDeploymentStatus": "Initializing"}, 0, id="initializing-nothing-up"),
        pytest.param(
            {"jobDeploymentStatus": "Initializing", "rayClusterStatus": {"head": {"podIP": "1"}}},
            1,
            id="initializing-head-up",
        ),
        pytest.param(
            {"jobDeploymentStatus": "Suspended", "rayClusterStatus": {"readyWorkerReplicas": 2}},
            0,
            id="stopped-counts-nothing",
        ),
    ],
)
def test_rayjob_active_nodes(status: dict[str, Any], active: int) -> None:
    assert rayjob_member(**status).active == active


# --- Kubeflow PyTorchJob / TFJob / MPIJob --------------------------------------------------


def cond(
    kind: str, status: str = "True", reason: str | None = None, **extra: str
) -> dict[str, Any]:
    found = {"type": kind, "status": status, "lastTransitionTime": T1, **extra}
    if reason:
        found["reason"] = reason
    return found


CREATED = cond("Created", reason="PyTorchJobCreated", message="PyTorchJob train is created.")
RUNNING_TRUE = cond("Running", reason="PyTorchJobRunning", message="PyTorchJob train is running.")
RUNNING_FALSE = cond("Running", "False", reason="PyTorchJobRunning")
FAILED_TRUE = cond(
    "Failed",
    reason="PyTorchJobFailed",
    message="PyTorchJob train is failed because 1 Master replica(s) failed.",
)
SUCCEEDED_TRUE = cond(
    "Succeeded", reason="PyTorchJobSucceeded", message="PyTorchJob train is successfully completed."
)
RESTARTING = cond("Restarting", reason="PyTorchJobRestarting", message="Master restarting")
SUSPENDED = cond(
    "Suspended", reason="PyTorchJobSuspended", message="PyTorchJob train is suspended."
)

KUBEFLOW_CASES = [
    pytest.param([], (P, None, "waiting for workers"), id="no-conditions"),
    pytest.param([CREATED], (P, None, "waiting for workers"), id="created"),
    pytest.param(
        [CREATED, RUNNING_TRUE],
        (R, "PyTorchJobRunning", "PyTorchJob train is running."),
        id="running",
    ),
    pytest.param(
        [CREATED, RESTARTING],
        (R, "PyTorchJobRestarting", "restarting failed replicas: Master restarting"),
        id="restarting",
    ),
    pytest.param(
        [CREATED, RUNNING_TRUE, RESTARTING],
        (R, "PyTorchJobRestarting", "restarting failed replicas: Master restarting"),
        id="restarting-beats-running",
    ),
    pytest.param(
        [CREATED, RUNNING_FALSE, SUCCEEDED_TRUE],
        (OK, "PyTorchJobSucceeded", "PyTorchJob train is successfully completed."),
        id="succeeded",
    ),
    pytest.param(
        [CREATED, RUNNING_FALSE, FAILED_TRUE],
        (
            F,
            "PyTorchJobFailed",
            "PyTorchJob train is failed because 1 Master replica(s) failed.",
        ),
        id="failed",
    ),
    pytest.param(
        [CREATED, FAILED_TRUE, SUCCEEDED_TRUE],
        (OK, "PyTorchJobSucceeded", "PyTorchJob train is successfully completed."),
        id="last-terminal-wins-succeeded",
    ),
    pytest.param(
        [CREATED, SUCCEEDED_TRUE, FAILED_TRUE],
        (F, "PyTorchJobFailed", "PyTorchJob train is failed because 1 Master replica(s) failed."),
        id="last-terminal-wins-failed",
    ),
    pytest.param(
        [CREATED, cond("Failed", "False"), SUCCEEDED_TRUE],
        (OK, "PyTorchJobSucceeded", "PyTorchJob train is successfully completed."),
        id="false-terminal-ignored",
    ),
    pytest.param(
        [CREATED, RUNNING_TRUE, FAILED_TRUE],
        (F, "PyTorchJobFailed", "PyTorchJob train is failed because 1 Master replica(s) failed."),
        id="terminal-beats-running",
    ),
    pytest.param(
        [CREATED, RUNNING_FALSE, SUSPENDED],
        (X, "PyTorchJobSuspended", "suspended: PyTorchJob train is suspended."),
        id="suspended",
    ),
    pytest.param(
        [CREATED, SUSPENDED, RUNNING_TRUE],
        (X, "PyTorchJobSuspended", "suspended: PyTorchJob train is suspended."),
        id="suspended-beats-running",
    ),
    pytest.param(
        [CREATED, SUSPENDED, FAILED_TRUE],
        (F, "PyTorchJobFailed", "PyTorchJob train is failed because 1 Master replica(s) failed."),
        id="terminal-beats-suspended",
    ),
    pytest.param(
        [CREATED, cond("Suspended", "False", reason="PyTorchJobResumed"), RUNNING_FALSE],
        (P, None, "waiting for workers"),
        id="resumed-not-yet-running",
    ),
    pytest.param(
        [cond("Failed")],
        (F, "Failed", None),
        id="failed-without-reason",
    ),
    pytest.param(
        [cond("Suspended")],
        (X, "Suspended", "suspended"),
        id="suspended-without-reason",
    ),
]


@pytest.mark.parametrize("kind", ["PyTorchJob", "TFJob", "MPIJob"])
@pytest.mark.parametrize(("conditions", "expected"), KUBEFLOW_CASES)
def test_kubeflow_conditions(
    kind: str, conditions: list[dict[str, Any]], expected: tuple[JobPhase, str | None, str | None]
) -> None:
    status = {"conditions": conditions, "replicaStatuses": {"Master": {"active": 1}}}
    assert member_phase(kind, status) == expected


def kubeflow_member(kind: str, status: dict[str, Any]) -> Observation:
    entry = {"clusterName": "member2", "applied": True, "health": "Healthy", "status": status}
    return observe(kind, binding=binding([entry]), template_status=None, cluster_ready={})


def test_pytorchjob_counters_summed_over_replica_types() -> None:
    seen = kubeflow_member(
        "PyTorchJob",
        {
            "conditions": [CREATED, RUNNING_TRUE],
            "replicaStatuses": {
                "Master": {"active": 1},
                "Worker": {"active": 3, "succeeded": 1, "failed": 2},
            },
            "startTime": T0,
        },
    )
    assert (seen.phase, seen.active, seen.succeeded, seen.failed) == (R, 4, 1, 2)
    assert (seen.start_time, seen.completion_time) == (at(T0), None)
    assert seen.cluster_distribution() == {"member2": 4}


def test_mpijob_launcher_and_workers_counted() -> None:
    seen = kubeflow_member(
        "MPIJob",
        {
            "conditions": [CREATED, RUNNING_FALSE, SUCCEEDED_TRUE],
            "replicaStatuses": {"Launcher": {"succeeded": 1}, "Worker": {}},
            "startTime": T0,
            "completionTime": T2,
        },
    )
    assert (seen.phase, seen.active, seen.succeeded, seen.failed) == (OK, 0, 1, 0)
    assert seen.completion_time == at(T2)


def test_kubeflow_failure_time_from_condition_when_no_completion_time() -> None:
    seen = kubeflow_member("TFJob", {"conditions": [CREATED, FAILED_TRUE], "startTime": T0})
    assert seen.completion_time == at(T1)


# --- batch/v1 Job ---------------------------------------------------------------------------

BATCH_CASES = [
    pytest.param({"startTime": T0}, (P, None, "waiting for pods to start"), id="no-pods-yet"),
    pytest.param({"startTime": T0, "active": 2, "ready": 2}, (R, None, None), id="active"),
    pytest.param(
        {"startTime": T0, "active": 1, "failed": 1}, (R, None, None), id="active-after-failure"
    ),
    pytest.param(
        {"startTime": T0, "failed": 1},
        (P, None, "waiting for failed pods to be replaced"),
        id="between-retries",
    ),
    pytest.param(
        {"succeeded": 2, "conditions": [cond("Complete", reason="CompletionsReached")]},
        (OK, "CompletionsReached", None),
        id="complete",
    ),
    pytest.param(
        {
            "failed": 7,
            "conditions": [
                cond(
                    "Failed",
                    reason="BackoffLimitExceeded",
                    message="Job has reached the specified backoff limit",
                )
            ],
        },
        (F, "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
        id="backoff-limit",
    ),
    pytest.param(
        {
            "conditions": [
                cond(
                    "Failed",
                    reason="DeadlineExceeded",
                    message="Job was active longer than specified deadline",
                )
            ]
        },
        (F, "DeadlineExceeded", "Job was active longer than specified deadline"),
        id="deadline",
    ),
    pytest.param(
        {
            "active": 1,
            "conditions": [
                cond(
                    "FailureTarget",
                    reason="BackoffLimitExceeded",
                    message="Job has reached the specified backoff limit",
                )
            ],
        },
        (
            F,
            "BackoffLimitExceeded",
            "failing; pods are terminating: Job has reached the specified backoff limit",
        ),
        id="failure-target",
    ),
    pytest.param(
        {"active": 1, "conditions": [cond("FailureTarget")]},
        (F, "Failed", "failing; pods are terminating"),
        id="failure-target-without-reason",
    ),
    pytest.param(
        {"active": 1, "conditions": [cond("SuccessCriteriaMet", reason="CompletionsReached")]},
        (OK, "CompletionsReached", "success criteria met; pods are terminating"),
        id="success-criteria-met",
    ),
    pytest.param(
        {
            "conditions": [
                cond("FailureTarget", reason="BackoffLimitExceeded"),
                cond("Failed", reason="BackoffLimitExceeded", message="final"),
            ]
        },
        (F, "BackoffLimitExceeded", "final"),
        id="failed-after-failure-target",
    ),
    pytest.param(
        {
            "conditions": [
                cond("SuccessCriteriaMet", reason="CompletionsReached"),
                cond("Complete", reason="CompletionsReached"),
            ]
        },
        (OK, "CompletionsReached", None),
        id="complete-after-success-criteria",
    ),
    pytest.param(
        {"conditions": [cond("Failed", "False"), cond("Complete", "False")], "active": 1},
        (R, None, None),
        id="false-conditions-ignored",
    ),
    pytest.param(
        {"conditions": [cond("Suspended", reason="JobSuspended", message="Job suspended")]},
        (X, "JobSuspended", "suspended: Job suspended"),
        id="suspended",
    ),
    pytest.param(
        {"active": 1, "conditions": [cond("Suspended"), cond("Failed")]},
        (F, "Failed", None),
        id="terminal-beats-suspended",
    ),
    pytest.param(
        {"active": 1, "conditions": [cond("Suspended")]},
        (X, "Suspended", "suspended"),
        id="suspended-beats-active",
    ),
]


@pytest.mark.parametrize(("status", "expected"), BATCH_CASES)
def test_batch_job(
    status: dict[str, Any], expected: tuple[JobPhase, str | None, str | None]
) -> None:
    assert member_phase("Job", status) == expected


def test_batch_job_counters_and_times() -> None:
    done = kubeflow_member(
        "Job",
        {
            "active": 0,
            "succeeded": 4,
            "failed": 1,
            "startTime": T0,
            "completionTime": T2,
            "conditions": [cond("Complete")],
        },
    )
    assert (done.phase, done.active, done.succeeded, done.failed) == (OK, 0, 4, 1)
    assert (done.start_time, done.completion_time) == (at(T0), at(T2))
    failed = kubeflow_member("Job", {"startTime": T0, "failed": 2, "conditions": [cond("Failed")]})
    assert failed.completion_time == at(T1)
    running = kubeflow_member("Job", {"startTime": T0, "active": 3, "completionTime": T2})
    assert (running.active, running.completion_time) == (3, None)


# --- no status, unknown kinds, malformed input ---------------------------------------------


@pytest.mark.parametrize("kind", sorted(SUPPORTED_KINDS))
@pytest.mark.parametrize("status", [None, {}, [], "Running", 3])
def test_no_usable_status_is_submitted(kind: str, status: Any) -> None:
    assert member_phase(kind, status) == (S, None, "waiting for the workload to report status")


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="Deployment"):
        member_phase("Deployment", {})
    with pytest.raises(ValueError, match="Deployment"):
        observe("Deployment", binding=None, template_status=None, cluster_ready={})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-26T05:00:00Z", datetime(2026, 11, 26, 5, tzinfo=UTC)),
        ("2026-11-26T05:00:00.123456Z", datetime(2026, 11, 26, 5, 0, 0, 123456, tzinfo=UTC)),
        (
            "2026-11-26T07:00:00+02:00",
            datetime(2026, 11, 26, 7, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("2026-11-26T05:00:00", None),
        ("2026-13-26T05:00:00Z", None),
        ("yesterday", None),
        ("", None),
        ("2026-11-26T05:00:00Z" * 10, None),
        ("2026-11-26T05:00:00." + "1" * 60 + "Z", None),
        (1764133200, None),
        (None, None),
        (["2026-11-26T05:00:00Z"], None),
    ],
)
def test_timestamps(raw: object, expected: datetime | None) -> None:
    parsed = timestamp(raw)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() is not None


def test_malformed_fields_count_as_absent() -> None:
    status = {
        "conditions": [
            "Running",
            {"type": ["Failed"], "status": "True"},
            {"type": "Running", "status": True},
            {"type": "Created", "status": "True"},
        ],
        "replicaStatuses": {"Master": {"active": "3"}, "Worker": {"active": -2, "failed": True}},
        "startTime": "not a time",
    }
    seen = kubeflow_member("PyTorchJob", status)
    assert (seen.phase, seen.message) == (P, "waiting for workers")
    assert (seen.active, seen.failed, seen.start_time) == (0, 0, None)

    ray = rayjob_member(
        jobDeploymentStatus=["Running"],
        jobStatus={"x": 1},
        succeeded="1",
        startTime=7,
        rayClusterStatus="up",
    )
    assert (ray.phase, ray.succeeded, ray.start_time) == (S, 0, None)

    job = kubeflow_member("Job", {"conditions": {"type": "Complete"}, "active": 2.5})
    assert (job.phase, job.active) == (P, 0)


def test_long_messages_are_bounded() -> None:
    status = {"jobDeploymentStatus": "Failed", "message": "x" * 100_000}
    seen = rayjob_member(**status)
    assert seen.message is not None
    assert len(seen.message) <= MAX_TEXT_LENGTH
    assert seen.message.endswith("...")


JUNK: list[Any] = [None, True, 0, -1, 2**70, 1.5, "", "True", "Running", [], {}, [{}], {"a": []}]
KEYS = [
    "jobDeploymentStatus",
    "jobStatus",
    "reason",
    "message",
    "startTime",
    "endTime",
    "succeeded",
    "failed",
    "active",
    "conditions",
    "replicaStatuses",
    "rayClusterStatus",
    "completionTime",
    "type",
    "status",
    "clusterName",
    "applied",
    "appliedMessage",
    "health",
    "aggregatedStatus",
    "clusters",
    "spec",
    "name",
    "head",
]


def junk(rng: random.Random, depth: int) -> Any:
    if depth == 0 or rng.random() < 0.3:
        return rng.choice(JUNK)
    if rng.random() < 0.4:
        return [junk(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): junk(rng, depth - 1) for _ in range(rng.randrange(6))}


@pytest.mark.parametrize("kind", sorted(SUPPORTED_KINDS))
def test_random_documents_never_raise(kind: str) -> None:
    rng = random.Random(kind)
    for _ in range(400):
        status = junk(rng, 4)
        phase, _, _ = member_phase(kind, status)
        assert isinstance(phase, JobPhase)
        seen = observe(
            kind,
            binding=junk(rng, 5),
            template_status=junk(rng, 3),
            cluster_ready={"member1": False, "a": True},
        )
        assert isinstance(seen.phase, JobPhase)
        assert all(v >= 0 for v in seen.cluster_distribution().values())


# --- ResourceBinding documents --------------------------------------------------------------


def binding(
    aggregated: list[dict[str, Any]] | None = None,
    *,
    clusters: tuple[str, ...] = ("member1",),
    scheduled: dict[str, Any] | None = None,
    fully_applied: bool = True,
    kind: str = "RayJob",
) -> dict[str, Any]:
    """A ResourceBinding as Karmada writes it for ``train`` in ``team-a``."""
    conditions = [
        scheduled
        or {
            "type": "Scheduled",
            "status": "True",
            "reason": "Success",
            "message": "Binding has been scheduled successfully.",
            "lastTransitionTime": T0,
        }
    ]
    if aggregated is not None:
        conditions.append(
            {
                "type": "FullyApplied",
                "status": "True" if fully_applied else "False",
                "reason": "FullyAppliedSuccess" if fully_applied else "FullyAppliedFailed",
                "message": "All works have been successfully applied",
                "lastTransitionTime": T0,
            }
        )
    document: dict[str, Any] = {
        "apiVersion": "work.karmada.io/v1alpha2",
        "kind": "ResourceBinding",
        "metadata": {
            "name": f"train-{kind.lower()}",
            "namespace": "team-a",
            "finalizers": ["karmada.io/binding-controller"],
            "labels": {"resourcebinding.karmada.io/permanent-id": "5d1c2f"},
            "annotations": {"propagationpolicy.karmada.io/name": "train"},
        },
        "spec": {
            "resource": {
                "apiVersion": "ray.io/v1" if kind == "RayJob" else "kubeflow.org/v1",
                "kind": kind,
                "namespace": "team-a",
                "name": "train",
                "uid": "4b0e",
                "resourceVersion": "12",
            },
            "clusters": [{"name": name} for name in clusters],
        },
        "status": {"conditions": conditions},
    }
    if aggregated is not None:
        document["status"]["aggregatedStatus"] = aggregated
    return document


def ray_entry(cluster: str, deployment: str, job: str, **extra: Any) -> dict[str, Any]:
    status = {"jobDeploymentStatus": deployment, "jobStatus": job, "startTime": T0, **extra}
    return {"clusterName": cluster, "status": status, "applied": True, "health": "Healthy"}


NO_CLUSTER_FIT = {
    "type": "Scheduled",
    "status": "False",
    "reason": "NoClusterFit",
    "message": (
        "0/2 clusters are available: 2 cluster(s) did not match the placement cluster "
        "affinity constraint."
    ),
    "lastTransitionTime": T0,
}


def test_no_binding_yet_is_pending() -> None:
    seen = observe("RayJob", binding=None, template_status=None, cluster_ready={})
    assert (seen.phase, seen.reason, seen.message) == (P, None, "waiting for Karmada to schedule")
    assert seen.clusters == ()


def test_binding_without_scheduling_result_is_pending() -> None:
    document = binding(clusters=())
    document["status"] = {}
    seen = observe("RayJob", binding=document, template_status=None, cluster_ready={})
    assert (seen.phase, seen.message) == (P, "waiting for Karmada to schedule")


def test_unschedulable_job_explains_why() -> None:
    document = binding(clusters=(), scheduled=NO_CLUSTER_FIT)
    seen = observe("RayJob", binding=document, template_status=None, cluster_ready={})
    assert seen.phase is P
    assert seen.reason == "NoClusterFit"
    assert seen.message == (
        "not scheduled: 0/2 clusters are available: 2 cluster(s) did not match the placement "
        "cluster affinity constraint."
    )
    assert seen.cluster_distribution() == {}


def test_unschedulable_without_message_uses_reason() -> None:
    scheduled = {"type": "Scheduled", "status": "False", "reason": "QuotaExceeded"}
    document = binding(clusters=(), scheduled=scheduled)
    seen = observe("PyTorchJob", binding=document, template_status=None, cluster_ready={})
    assert (seen.phase, seen.reason, seen.message) == (
        P,
        "QuotaExceeded",
        "not scheduled: QuotaExceeded",
    )


def test_scheduled_without_status_is_submitted() -> None:
    seen = observe("RayJob", binding=binding(), template_status=None, cluster_ready={})
    assert (seen.phase, seen.message) == (S, "scheduled to member1, waiting for status")
    assert seen.cluster_distribution() == {"member1": 0}


def test_status_from_aggregated_status() -> None:
    document = binding(
        [
            ray_entry(
                "member1",
                "Running",
                "RUNNING",
                rayClusterStatus={"readyWorkerReplicas": 2, "head": {"podName": "h"}},
            )
        ]
    )
    seen = observe(
        "RayJob", binding=document, template_status=None, cluster_ready={"member1": True}
    )
    assert (seen.phase, seen.reason, seen.message) == (R, None, None)
    assert seen.cluster_distribution() == {"member1": 3}
    [member] = seen.clusters
    assert (member.cluster, member.applied, member.health) == ("member1", True, "Healthy")


def test_template_status_is_the_fallback_for_karmada_1_16() -> None:
    template = {"jobDeploymentStatus": "Initializing", "jobStatus": "", "startTime": T0}
    seen = observe("RayJob", binding=binding(), template_status=template, cluster_ready={})
    assert (seen.phase, seen.message) == (P, "initializing Ray cluster")
    assert seen.start_time == at(T0)
    assert [(c.cluster, c.phase) for c in seen.clusters] == [("member1", P)]


def test_template_status_on_several_clusters_is_not_attributed() -> None:
    template = {"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"}
    document = binding(clusters=("member1", "member2"))
    seen = observe("RayJob", binding=document, template_status=template, cluster_ready={})
    assert (seen.phase, seen.clusters) == (R, ())


def test_aggregated_status_wins_over_template_status() -> None:
    document = binding([ray_entry("member1", "Complete", "SUCCEEDED", endTime=T1)])
    template = {"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"}
    seen = observe("RayJob", binding=document, template_status=template, cluster_ready={})
    assert seen.phase is OK
    assert seen.completion_time == at(T1)


def test_empty_aggregated_entries_fall_back_to_template_status() -> None:
    document = binding([{"clusterName": "member1", "applied": True}])
    template = {"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"}
    seen = observe("RayJob", binding=document, template_status=template, cluster_ready={})
    assert seen.phase is R


def two_clusters(first: dict[str, Any], second: dict[str, Any]) -> Observation:
    document = binding([second, first], clusters=("member1", "member2"))
    return observe("RayJob", binding=document, template_status=None, cluster_ready={})


def test_two_clusters_one_failed_fails_the_job() -> None:
    seen = two_clusters(
        ray_entry("member1", "Running", "RUNNING"),
        ray_entry(
            "member2", "Failed", "FAILED", reason="AppFailed", message="exit code 1", endTime=T1
        ),
    )
    assert (seen.phase, seen.reason) == (F, "AppFailed")
    assert seen.message == (
        "member2: Ray job failed: exit code 1; placed on 2 clusters, expected 1 "
        "(member1: Running, member2: Failed)"
    )
    assert [c.cluster for c in seen.clusters] == ["member1", "member2"]
    assert seen.completion_time == at(T1)


def test_two_clusters_one_still_running_keeps_the_job_running() -> None:
    # Karmada's own write-back would show Complete here ("highest rank wins"); we do not.
    seen = two_clusters(
        ray_entry("member1", "Complete", "SUCCEEDED", succeeded=1, endTime=T1),
        ray_entry("member2", "Running", "RUNNING"),
    )
    assert (seen.phase, seen.succeeded, seen.active) == (R, 1, 1)
    assert seen.completion_time is None
    assert seen.cluster_distribution() == {"member1": 0, "member2": 1}
    assert seen.message is not None
    assert seen.message.startswith("member2: Running; placed on 2 clusters")


def test_two_clusters_succeed_only_together() -> None:
    seen = two_clusters(
        ray_entry("member1", "Complete", "SUCCEEDED", succeeded=1, endTime=T1),
        ray_entry(
            "member2",
            "Complete",
            "SUCCEEDED",
            succeeded=1,
            endTime=T2,
            startTime="2026-11-26T04:00:00Z",
        ),
    )
    assert (seen.phase, seen.succeeded) == (OK, 2)
    assert (seen.start_time, seen.completion_time) == (at("2026-11-26T04:00:00Z"), at(T2))


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        pytest.param(("Complete", "SUCCEEDED"), ("Suspended", ""), X, id="succeeded+stopped"),
        pytest.param(("Initializing", ""), ("", ""), P, id="pending+submitted"),
        pytest.param(("Retrying", ""), ("Running", "RUNNING"), R, id="pending+running"),
        pytest.param(("", ""), ("Complete", "SUCCEEDED"), S, id="submitted+succeeded"),
        pytest.param(("Complete", "STOPPED"), ("Failed", ""), F, id="stopped+failed"),
    ],
)
def test_two_clusters_combination_order(
    first: tuple[str, str], second: tuple[str, str], expected: JobPhase
) -> None:
    seen = two_clusters(ray_entry("member1", *first), ray_entry("member2", *second))
    assert seen.phase is expected


def test_not_ready_cluster_is_named_and_phase_kept() -> None:
    document = binding([ray_entry("member1", "Running", "RUNNING")])
    seen = observe(
        "RayJob", binding=document, template_status=None, cluster_ready={"member1": False}
    )
    assert seen.phase is R
    assert seen.message == "cluster member1 is NotReady; status may be stale"

    ready = observe(
        "RayJob", binding=document, template_status=None, cluster_ready={"member1": True}
    )
    unknown = observe("RayJob", binding=document, template_status=None, cluster_ready={})
    assert ready.message is None
    assert unknown.message is None


def test_not_ready_note_follows_the_member_message() -> None:
    document = binding([ray_entry("member1", "Initializing", "")])
    seen = observe(
        "RayJob",
        binding=document,
        template_status=None,
        cluster_ready={"member1": False, "member2": False},
    )
    assert (
        seen.message == "initializing Ray cluster; cluster member1 is NotReady; status may be stale"
    )


def test_not_ready_cluster_named_while_waiting_for_status() -> None:
    seen = observe(
        "Job", binding=binding(kind="Job"), template_status=None, cluster_ready={"member1": False}
    )
    assert seen.phase is S
    assert seen.message == (
        "scheduled to member1, waiting for status; cluster member1 is NotReady; status may be stale"
    )


def test_apply_failure_keeps_the_job_pending_with_karmadas_message() -> None:
    entry = {
        "clusterName": "member1",
        "applied": False,
        "appliedMessage": 'namespaces "team-a" not found',
        "health": "Unknown",
    }
    document = binding([entry], fully_applied=False)
    seen = observe("PyTorchJob", binding=document, template_status=None, cluster_ready={})
    assert (seen.phase, seen.reason) == (P, "ApplyFailed")
    assert seen.message == 'apply failed: namespaces "team-a" not found'
    [member] = seen.clusters
    assert (member.applied, member.health) == (False, "Unknown")


def test_apply_failure_with_a_running_workload_keeps_its_phase() -> None:
    entry = {
        "clusterName": "member1",
        "applied": False,
        "appliedMessage": "conflict",
        "status": {"conditions": [CREATED, RUNNING_TRUE]},
    }
    seen = observe("PyTorchJob", binding=binding([entry]), template_status=None, cluster_ready={})
    assert seen.phase is R
    assert seen.message == "PyTorchJob train is running.; last apply failed: conflict"


def test_not_yet_applied_is_submitted() -> None:
    entry = {"clusterName": "member1", "applied": False}
    seen = observe("TFJob", binding=binding([entry]), template_status=None, cluster_ready={})
    assert (seen.phase, seen.message) == (S, "waiting for the workload to be applied")


def test_failed_rescheduling_is_reported_next_to_the_running_job() -> None:
    document = binding([ray_entry("member1", "Running", "RUNNING")], scheduled=NO_CLUSTER_FIT)
    seen = observe("RayJob", binding=document, template_status=None, cluster_ready={})
    assert seen.phase is R
    assert seen.message is not None
    assert seen.message.startswith("Karmada cannot reschedule: 0/2 clusters are available")


def test_duplicate_and_nameless_entries_are_dropped() -> None:
    document = binding(
        [
            ray_entry("member1", "Running", "RUNNING"),
            ray_entry("member1", "Failed", "FAILED"),
            {"status": {"jobDeploymentStatus": "Failed"}},
        ]
    )
    seen = observe("RayJob", binding=document, template_status=None, cluster_ready={})
    assert seen.phase is R
    assert seen.cluster_distribution() == {"member1": 1}


def test_batch_job_on_two_clusters_sums_counters() -> None:
    entries = [
        {"clusterName": c, "applied": True, "status": {"active": n, "succeeded": 1}}
        for c, n in (("member2", 2), ("member1", 3))
    ]
    document = binding(entries, clusters=("member1", "member2"), kind="Job")
    seen = observe("Job", binding=document, template_status=None, cluster_ready={})
    assert (seen.phase, seen.active, seen.succeeded) == (R, 5, 2)
    assert seen.cluster_distribution() == {"member1": 3, "member2": 2}


def test_terminal_phases() -> None:
    assert {p for p in JobPhase if p.terminal} == {OK, F, X}
    assert [str(p) for p in JobPhase] == [
        "Pending",
        "Submitted",
        "Running",
        "Succeeded",
        "Failed",
        "Stopped",
    ]


def test_observation_is_immutable() -> None:
    seen = observe("RayJob", binding=None, template_status=None, cluster_ready={})
    with pytest.raises(AttributeError):
        seen.phase = R  # type: ignore[misc]


def test_completion_time_only_for_finished_workloads() -> None:
    # A retrying RayJob keeps the endTime of its failed attempt; a live job has not finished.
    retrying = rayjob_member(jobDeploymentStatus="Retrying", startTime=T0, endTime=T1)
    running_job = kubeflow_member("Job", {"active": 1, "completionTime": T2})
    running_pytorch = kubeflow_member(
        "PyTorchJob", {"conditions": [RUNNING_TRUE], "completionTime": T2}
    )
    for seen in (retrying, running_job, running_pytorch):
        [member] = seen.clusters
        assert member.completion_time is None


def test_applied_must_be_a_real_boolean() -> None:
    entry = {"clusterName": "member1", "applied": "true", "status": {"active": 1}}
    seen = observe(
        "Job", binding=binding([entry], kind="Job"), template_status=None, cluster_ready={}
    )
    [member] = seen.clusters
    assert member.applied is False


def test_scheduled_without_cluster_list_is_submitted() -> None:
    seen = observe("RayJob", binding=binding(clusters=()), template_status=None, cluster_ready={})
    assert (seen.phase, seen.message, seen.clusters) == (S, "scheduled, waiting for status", ())


def test_latest_scheduled_condition_counts() -> None:
    document = binding(clusters=(), scheduled=NO_CLUSTER_FIT)
    document["status"]["conditions"].append(
        {"type": "Scheduled", "status": "True", "reason": "Success"}
    )
    seen = observe("RayJob", binding=document, template_status=None, cluster_ready={})
    assert seen.phase is S


def test_combined_message_is_bounded() -> None:
    names = tuple(f"member{i:03d}" for i in range(200))
    entries = [ray_entry(n, "Running", "RUNNING") for n in names]
    document = binding(entries, clusters=names)
    seen = observe(
        "RayJob", binding=document, template_status=None, cluster_ready=dict.fromkeys(names, False)
    )
    assert seen.phase is R
    assert seen.message is not None
    assert len(seen.message) <= MAX_TEXT_LENGTH
    assert len(seen.clusters) == 200
