"""Member cluster and simulator controls used directly (no HTTP): cluster specs, error
isolation between objects, unknown clusters, and simulated time."""

from __future__ import annotations

import pytest
from sim_helpers import rayjob

from karmada_sim import errors
from karmada_sim.resources import CLUSTER, RAYJOB
from karmada_sim.simulator import ClusterSpec, Simulator, Timings


def test_cluster_spec_parse() -> None:
    assert ClusterSpec.parse("member1") == ClusterSpec("member1")
    assert ClusterSpec.parse("member1@eu-west/a") == ClusterSpec("member1", "eu-west", "a")
    assert ClusterSpec.parse(" gpu-2@us-east ") == ClusterSpec("gpu-2", "us-east", None)
    for bad in ("", "Member1", "-x", "a_b@eu"):
        with pytest.raises(ValueError, match="invalid cluster name"):
            ClusterSpec.parse(bad)


def test_simulator_rejects_bad_cluster_lists() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Simulator([])
    with pytest.raises(ValueError, match="duplicate"):
        Simulator([ClusterSpec("a"), ClusterSpec("a")])


def test_unknown_cluster_and_kind_are_api_errors() -> None:
    sim = Simulator([ClusterSpec("member1")])
    with pytest.raises(errors.ApiError) as unknown:
        sim.store_for("nope")
    assert (unknown.value.code, unknown.value.reason) == (404, "NotFound")
    with pytest.raises(errors.ApiError) as kind:
        sim.delete_member_object("member1", "v1", "Gadget", "ns", "x")
    assert kind.value.code == 400
    assert sim.store_for(None) is sim.karmada
    assert sim.karmada.get(CLUSTER, None, "member1")["spec"]["syncMode"] == "Push"


def test_a_broken_object_does_not_stop_the_others() -> None:
    sim = Simulator([ClusterSpec("member1")], timings=Timings(initializing_seconds=1), seed=3)
    store = sim.store_for("member1")
    store.namespaces.ensure("ns")
    broken = rayjob("broken")
    broken["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["replicas"] = "many"
    store.create(RAYJOB, broken, namespace="ns")
    store.create(RAYJOB, rayjob("fine"), namespace="ns")
    sim.reconcile()
    sim.advance(2)
    assert store.get(RAYJOB, "ns", "fine")["status"]["jobDeploymentStatus"] == "Running"
    # the broken one is retried, not forgotten
    assert sim.members["member1"].queue.next_due() is not None


def test_advance_runs_everything_that_became_due_without_sleeping() -> None:
    timings = Timings(initializing_seconds=600, pending_seconds=60, running_seconds=3600)
    sim = Simulator([ClusterSpec("member1")], timings=timings, seed=5)
    store = sim.store_for("member1")
    store.namespaces.ensure("ns")
    store.create(RAYJOB, rayjob("long"), namespace="ns")
    sim.reconcile()
    sim.advance(600 + 60 + 3600)
    status = store.get(RAYJOB, "ns", "long")["status"]
    assert (status["jobDeploymentStatus"], status["jobStatus"]) == ("Complete", "SUCCEEDED")
    assert status["rayJobInfo"]["startTime"] < status["endTime"]
