"""The pure parts of the status sync: which watched jobs a tick looks at, and which unchanged
jobs get their observed_at refreshed (a slice per tick, every job once per period)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from ml_platform.config import MonitorSettings
from ml_platform.jobs.repository import BriefRow
from ml_platform.monitor.snapshot import Binding, Snapshot, Template
from ml_platform.monitor.sync import (
    SyncState,
    _cache_key,
    decode_key,
    encode_key,
    needs_a_look,
    older,
    stale_observations,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def template(job_id: str, version: str = "1") -> Template:
    return Template(
        job_id=job_id,
        kind="RayJob",
        namespace="team",
        name=job_id,
        resource_version=version,
        binding_name=f"{job_id}-rayjob",
        status_json=b"null",
    )


def snapshot(*templates: Template, binding_version: str = "7") -> Snapshot:
    bindings = {
        (t.namespace, t.binding_name): Binding(
            t.namespace, t.binding_name, binding_version, "RayJob", t.name, b"{}"
        )
        for t in templates
    }
    return Snapshot(templates={t.job_id: t for t in templates}, bindings=bindings, cluster_ready={})


def running(job_id: str, started: datetime | None = None, limit: int | None = None) -> BriefRow:
    return (job_id, "Running", started, limit, None)


def remember(state: SyncState, shot: Snapshot) -> None:
    """What a tick leaves behind after observing every job of ``shot``."""
    for t in shot.templates.values():
        state.seen[t.job_id] = _cache_key(t, shot, shot.not_ready)


def test_only_changed_missing_and_overdue_jobs_are_looked_at() -> None:
    before = snapshot(template("same"), template("moved"), template("late"))
    state = SyncState()
    remember(state, before)
    after = snapshot(template("same"), template("moved", "2"), template("late"))
    brief = [
        running("same", NOW - timedelta(seconds=10), 60),
        running("moved"),
        running("late", NOW - timedelta(seconds=61), 60),
        running("gone"),
    ]
    assert needs_a_look(brief, after, state, NOW) == ["moved", "late", "gone"]


def test_a_binding_change_or_a_cluster_turning_not_ready_is_a_change() -> None:
    before = snapshot(template("a"))
    state = SyncState()
    remember(state, before)
    assert needs_a_look([running("a")], before, state, NOW) == []
    assert needs_a_look([running("a")], snapshot(template("a"), binding_version="8"), state, NOW)
    not_ready = Snapshot(before.templates, before.bindings, {"member1": False})
    assert needs_a_look([running("a")], not_ready, state, NOW) == ["a"]


def test_jobs_no_longer_watched_are_forgotten() -> None:
    shot = snapshot(template("a"), template("b"))
    state = SyncState()
    remember(state, shot)
    state.missing_since["c"] = NOW
    state.recorded_at["b"] = NOW
    needs_a_look([running("a")], shot, state, NOW)
    assert set(state.seen) == {"a"}
    assert state.missing_since == {}
    assert state.recorded_at == {}


def test_observed_at_is_refreshed_a_slice_per_tick_and_every_job_once_per_period() -> None:
    settings = MonitorSettings(interval_seconds=1.0, observed_refresh_seconds=10.0)
    ids = [f"job-{n:02d}" for n in range(45)]
    shot = snapshot(*(template(job_id) for job_id in ids if job_id != "job-00"))
    brief = [running(job_id) for job_id in ids]
    state = SyncState()
    refreshed: dict[str, list[int]] = {job_id: [] for job_id in ids}
    for tick in range(25):
        stale = stale_observations(brief, shot, state, settings, NOW + timedelta(seconds=tick))
        assert len(stale) <= 5  # 45 jobs over a 10-tick period
        for job_id in stale:
            refreshed[job_id].append(tick)
    assert refreshed.pop("job-00") == []  # not in Karmada: nothing was observed
    for ticks in refreshed.values():
        assert ticks, "every present job is refreshed"
        gaps = [later - earlier for earlier, later in pairwise(ticks)]
        assert all(10 <= gap <= 11 for gap in gaps)  # once per period, not more often


def test_an_observation_older_than_the_last_one_is_recognised() -> None:
    last = ("20", "30", frozenset[str]())
    assert not older(("20", "30", frozenset()), last)
    assert not older(("21", "31", frozenset({"member1"})), last)
    assert older(("19", "31", frozenset()), last)  # the template went back
    assert older(("21", "29", frozenset()), last)  # the binding went back
    assert not older(("19", "30", frozenset()), None)  # nothing written yet
    assert not older(("21", "", frozenset()), last)  # the binding is gone: not comparable


def test_a_stored_key_reads_back_as_the_key() -> None:
    key = ("12", "34", frozenset({"member2", "member1"}))
    assert encode_key(key) == "12/34/member1,member2"
    assert decode_key(encode_key(key)) == key
    assert decode_key(encode_key(("12", "", frozenset()))) == ("12", "", frozenset())
    assert decode_key(None) is None
    assert decode_key("not a key") is None


def test_a_new_leader_looks_only_at_jobs_that_moved_since_the_stored_keys() -> None:
    shot = snapshot(template("same", "5"), template("moved", "6"))
    stored = encode_key(("5", "7", frozenset()))
    brief = [
        ("same", "Running", None, None, stored),
        ("moved", "Running", None, None, stored),
        ("new", "Running", None, None, None),
    ]
    state = SyncState()
    assert needs_a_look(brief, shot, state, NOW) == ["moved", "new"]
    assert state.seen["same"] == ("5", "7", frozenset())
