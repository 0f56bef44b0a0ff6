"""The transition planner, as pure functions: which moves it allows, which fields and events a
move writes, and what an observation from Karmada changes; and that it is the only code that
sets a status time or records an event."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import ml_platform
from ml_platform.jobs.lifecycle import (
    CLEANUP_STATUSES,
    PHASE_STATUS,
    TERMINAL_STATUSES,
    TRANSITIONS,
    JobState,
    JobStatus,
    PlannedEvent,
    plan_move,
    plan_observation,
)
from ml_platform.karmada.status import ClusterObservation, JobPhase, Observation

S = JobStatus
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)
EVERY_PAIR = [(source, target) for source in JobStatus for target in JobStatus]


def state(status: JobStatus, **fields: object) -> JobState:
    base = JobState(
        status=status,
        reason="Before",
        message="before",
        cluster_status=None,
        submitted_at=None,
        started_at=None,
        completed_at=None,
        next_karmada_attempt_at=None,
        karmada_attempts=3,
        last_error="an earlier error",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def move(current: JobState, to: JobStatus, now: datetime = T1) -> JobState:
    """The state after an allowed move."""
    plan = plan_move(current, to, reason=f"To{to}", message=None, now=now)
    assert plan is not None, (current.status, to)
    return plan.state


@pytest.mark.parametrize(("source", "target"), EVERY_PAIR)
def test_a_move_is_planned_exactly_when_the_table_allows_it(
    source: JobStatus, target: JobStatus
) -> None:
    plan = plan_move(state(source), target, reason="Why", message="what", now=T1, cluster="m1")
    if target not in TRANSITIONS[source]:
        assert plan is None  # staying put is no move either
        return
    assert plan is not None
    assert plan.moves
    assert plan.events == (PlannedEvent(source, target, "Why", "what", "m1", T1),)
    assert (plan.state.status, plan.state.reason, plan.state.message) == (target, "Why", "what")
    assert plan.updated_at == T1
    assert plan.values()["updated_at"] == T1


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_terminal_statuses_are_sticky(terminal: JobStatus) -> None:
    for target in JobStatus:
        allowed = plan_move(state(terminal), target, reason="Late", message=None, now=T1)
        assert (allowed is not None) is (target is S.DELETING), target


def test_each_timestamp_is_set_once_on_first_entering_its_status() -> None:
    submitted = move(state(S.PENDING), S.SUBMITTED, T0)
    assert (submitted.submitted_at, submitted.started_at, submitted.completed_at) == (
        T0,
        None,
        None,
    )
    running = move(submitted, S.RUNNING, T1)
    assert (running.submitted_at, running.started_at, running.completed_at) == (T0, T1, None)
    stopping = move(running, S.STOPPING, T2)
    assert (stopping.started_at, stopping.completed_at) == (T1, None)
    stopped = move(stopping, S.STOPPED, T2 + timedelta(seconds=5))
    assert stopped.completed_at == T2 + timedelta(seconds=5)
    deleting = move(stopped, S.DELETING, T2 + timedelta(seconds=9))
    assert (deleting.submitted_at, deleting.started_at, deleting.completed_at) == (
        T0,
        T1,
        T2 + timedelta(seconds=5),
    )


def test_a_timestamp_already_set_is_never_moved() -> None:
    earlier = T0 - timedelta(hours=1)
    recorded = state(S.PENDING, submitted_at=earlier, started_at=earlier)
    assert move(recorded, S.SUBMITTED).submitted_at == earlier
    assert move(recorded, S.RUNNING).started_at == earlier
    assert move(state(S.STOPPING, completed_at=earlier), S.FAILED).completed_at == earlier


@pytest.mark.parametrize("target", sorted(CLEANUP_STATUSES))
def test_entering_stopping_or_deleting_makes_a_fresh_removal_due_at_once(
    target: JobStatus,
) -> None:
    after = move(state(S.RUNNING, next_karmada_attempt_at=T2), target, T1)
    assert (after.next_karmada_attempt_at, after.karmada_attempts, after.last_error) == (
        T1,
        0,
        None,
    )


def test_any_other_move_leaves_no_karmada_step_due() -> None:
    pending = state(S.PENDING, next_karmada_attempt_at=T0)
    after = move(pending, S.SUBMITTED)
    assert after.next_karmada_attempt_at is None
    # Attempts and the last error stay: they tell how the submission went.
    assert (after.karmada_attempts, after.last_error) == (3, "an earlier error")


def test_a_move_changes_nothing_it_does_not_own() -> None:
    details = {"m1": {"phase": "Running"}}
    after = move(state(S.SUBMITTED, cluster_status=details), S.RUNNING)
    assert after.cluster_status == details


def cluster(name: str, phase: JobPhase, *, active: int = 1) -> ClusterObservation:
    return ClusterObservation(
        cluster=name,
        phase=phase,
        reason=None,
        message=None,
        active=active,
        succeeded=0,
        failed=0,
        start_time=None,
        completion_time=None,
        applied=True,
        health=None,
    )


def observation(
    phase: JobPhase,
    *,
    reason: str | None = None,
    message: str | None = "seen",
    clusters: tuple[ClusterObservation, ...] = (),
) -> Observation:
    return Observation(
        phase=phase,
        reason=reason,
        message=message,
        active=0,
        succeeded=0,
        failed=0,
        start_time=None,
        completion_time=None,
        clusters=clusters,
    )


def test_an_observed_move_records_the_members_reason_and_clusters() -> None:
    seen = observation(
        JobPhase.RUNNING,
        reason="RayJobRunning",
        clusters=(cluster("m1", JobPhase.RUNNING), cluster("m2", JobPhase.RUNNING, active=0)),
    )
    plan = plan_observation(state(S.SUBMITTED), seen, cluster_ready={"m2": False}, now=T1)
    assert plan is not None
    assert plan.events == (
        PlannedEvent(S.SUBMITTED, S.RUNNING, "RayJobRunning", "seen", "m1,m2", T1),
    )
    assert plan.state.started_at == T1
    assert plan.state.cluster_status is not None
    assert plan.state.cluster_status["m1"]["ready"] is True
    assert plan.state.cluster_status["m2"] == {
        "phase": "Running",
        "reason": None,
        "message": None,
        "active": 0,
        "succeeded": 0,
        "failed": 0,
        "ready": False,
    }


@pytest.mark.parametrize(
    ("phase", "status"), [(p, s) for p, s in PHASE_STATUS.items() if s is not None]
)
def test_an_observed_move_without_a_reason_gets_the_default_one(
    phase: JobPhase, status: JobStatus
) -> None:
    source = S.PENDING if status is S.SUBMITTED else S.SUBMITTED
    plan = plan_observation(state(source), observation(phase), cluster_ready={}, now=T1)
    assert plan is not None
    assert plan.moves
    assert (plan.state.status, plan.state.reason) == (status, str(status))


def test_an_observation_the_lifecycle_forbids_only_updates_the_message() -> None:
    # A Karmada view of "running" cannot bring a stopped job back.
    plan = plan_observation(
        state(S.SUCCEEDED), observation(JobPhase.RUNNING), cluster_ready={}, now=T1
    )
    assert plan is not None
    assert not plan.moves
    assert (plan.state.status, plan.state.reason, plan.state.message) == (
        S.SUCCEEDED,
        "Before",
        "seen",
    )
    assert plan.state.started_at is None


def test_a_pending_phase_keeps_the_status_and_takes_a_new_reason() -> None:
    seen = observation(JobPhase.PENDING, reason="Unschedulable")
    plan = plan_observation(state(S.SUBMITTED), seen, cluster_ready={}, now=T1)
    assert plan is not None
    assert not plan.moves
    assert (plan.state.status, plan.state.reason) == (S.SUBMITTED, "Unschedulable")


def test_an_observation_the_row_already_says_plans_nothing() -> None:
    seen = observation(JobPhase.RUNNING, reason="R", clusters=(cluster("m1", JobPhase.RUNNING),))
    first = plan_observation(state(S.SUBMITTED), seen, cluster_ready={}, now=T1)
    assert first is not None
    assert plan_observation(first.state, seen, cluster_ready={}, now=T2) is None
    # A cluster turning not ready is a change of the row, without a move.
    third = plan_observation(first.state, seen, cluster_ready={"m1": False}, now=T2)
    assert third is not None
    assert not third.moves


def test_plans_chain_into_one_write_with_every_event() -> None:
    running = plan_observation(
        state(S.SUBMITTED), observation(JobPhase.RUNNING), cluster_ready={}, now=T1
    )
    assert running is not None
    stop = plan_move(running.state, S.STOPPING, reason="MaxRuntimeExceeded", message="m", now=T1)
    assert stop is not None
    both = running.then(stop)
    assert [(e.from_status, e.to_status) for e in both.events] == [
        (S.SUBMITTED, S.RUNNING),
        (S.RUNNING, S.STOPPING),
    ]
    assert both.state == stop.state
    assert both.state.started_at == T1


def test_every_plan_writes_the_same_columns() -> None:
    moved = plan_move(state(S.PENDING), S.SUBMITTED, reason="r", message=None, now=T1)
    kept = plan_observation(
        state(S.RUNNING), observation(JobPhase.PENDING), cluster_ready={}, now=T1
    )
    assert moved is not None
    assert kept is not None
    assert set(moved.values()) == set(kept.values())


STATUS_TIMES = frozenset({"submitted_at", "started_at", "completed_at"})
EVENT_WRITERS = frozenset({"add_event", "insert_events"})


def _status_writes(tree: ast.AST) -> list[int]:
    """Lines that set a status time (attribute, dict key, ``replace`` keyword) or record an
    event."""
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Attribute) and t.attr in STATUS_TIMES for t in targets):
                lines.append(node.lineno)
        elif isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            if STATUS_TIMES & set(keys):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in EVENT_WRITERS:
                lines.append(node.lineno)
            if name == "replace" and STATUS_TIMES & {k.arg for k in node.keywords}:
                lines.append(node.lineno)
    return lines


def test_only_the_lifecycle_sets_status_times_or_records_events() -> None:
    root = Path(ml_platform.__file__).parent
    writers = {
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and _status_writes(ast.parse(path.read_text()))
    }
    assert writers == {"jobs/lifecycle.py"}
