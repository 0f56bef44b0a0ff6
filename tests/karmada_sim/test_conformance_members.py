"""Conformance of the member clusters, the kubelet and storage details the product leans on.

Each test talks to the simulator over HTTP with the official client and cites the upstream
source or documented behaviour it checks. Timings: init 30 s, run 60 s (conftest.SLOW).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import orjson
import pytest
from api_helpers import api_client
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import KUBEFLOW, condition, create, get, pods, pytorchjob

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator
from karmada_sim.watchcache import WatchCacheSettings

Member = Callable[[str], client.ApiClient]


@pytest.fixture
def m1(member: Member) -> client.ApiClient:
    return member("member1")


# -- foreground deletion -------------------------------------------------------------------


def _owner_and_child(core: client.CoreV1Api, ns: str, *, block: bool) -> client.V1ConfigMap:
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner.metadata.uid,
        "blockOwnerDeletion": block,
    }
    core.create_namespaced_config_map(ns, {"metadata": {"name": "child", "ownerReferences": [ref]}})
    return owner


@pytest.mark.parametrize("block", [True, False])
def test_foreground_delete_answers_the_marked_owner_then_collects_everything(
    karmada: client.ApiClient, ns: str, block: bool
) -> None:
    """A foreground DELETE: the apiserver always adds the `foregroundDeletion` finalizer and
    answers 200 with the object marked (registry/rest `deletionFinalizersForGarbageCollection`,
    handlers/delete.go answers 202 only for the deprecated orphanDependents=false); the
    garbage collector deletes the dependents and removes the finalizer once no dependent
    with blockOwnerDeletion is left (garbagecollector.go `processDeletingDependentsItem`).
    Dependents without finalizers go at once, so nothing is left afterwards."""
    core = client.CoreV1Api(karmada)
    _owner_and_child(core, ns, block=block)
    response = core.delete_namespaced_config_map(
        "owner",
        ns,
        body=client.V1DeleteOptions(propagation_policy="Foreground"),
        _preload_content=False,
    )
    assert response.status == 200
    answer = orjson.loads(response.data)
    assert answer["kind"] == "ConfigMap"
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert answer["metadata"]["deletionTimestamp"]
    for name in ("owner", "child"):
        with pytest.raises(ApiException) as gone:
            core.read_namespaced_config_map(name, ns)
        assert gone.value.status == 404


def test_foreground_delete_waits_for_a_blocking_dependent_with_a_finalizer(
    karmada: client.ApiClient, ns: str
) -> None:
    """The owner keeps `foregroundDeletion` while a dependent with blockOwnerDeletion still
    exists (it is being deleted but its own finalizer holds it); when that finalizer goes,
    the dependent goes and then the owner (garbage collector, foreground cascading deletion,
    kubernetes.io/docs/concepts/architecture/garbage-collection)."""
    core = client.CoreV1Api(karmada)
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner.metadata.uid,
        "blockOwnerDeletion": True,
    }
    core.create_namespaced_config_map(
        ns,
        {"metadata": {"name": "child", "ownerReferences": [ref], "finalizers": ["example/x"]}},
    )
    core.delete_namespaced_config_map(
        "owner", ns, body=client.V1DeleteOptions(propagation_policy="Foreground")
    )
    held = core.read_namespaced_config_map("owner", ns)
    assert held.metadata.finalizers == ["foregroundDeletion"]
    child = core.read_namespaced_config_map("child", ns)
    assert child.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("child", ns, {"metadata": {"finalizers": None}})
    for name in ("owner", "child"):
        with pytest.raises(ApiException) as gone:
            core.read_namespaced_config_map(name, ns)
        assert gone.value.status == 404


# -- LIST resourceVersion="0" ---------------------------------------------------------------


@pytest.fixture
def lagging() -> Iterator[SimulatorServer]:
    """A simulator whose watch cache trails storage by 400 ms."""
    simulator = Simulator(
        [ClusterSpec.parse("member1")],
        seed=1,
        watch_cache=WatchCacheSettings(lag_seconds=0.4),
        namespaces=["lag"],
    )
    with SimulatorServer(simulator) as server:
        yield server


def test_list_at_resource_version_0_is_served_from_the_lagging_watch_cache(
    lagging: SimulatorServer,
) -> None:
    """LIST with resourceVersion="0" is answered from the watch cache: "any" version, which
    may be stale, and the cache cannot paginate so `limit` is ignored (API concepts,
    "Semantics for get and list"; cacher.go `shouldDelegateList`). Unset is a consistent
    read; the stale answer catches up once the cache has the write."""
    with api_client(lagging.url) as api:
        core = client.CoreV1Api(api)
        core.create_namespaced_config_map("lag", {"metadata": {"name": "a"}})
        core.create_namespaced_config_map("lag", {"metadata": {"name": "b"}})
        time.sleep(0.6)
        core.create_namespaced_config_map("lag", {"metadata": {"name": "c"}})
        consistent = core.list_namespaced_config_map("lag")
        assert sorted(i.metadata.name for i in consistent.items) == ["a", "b", "c"]
        stale = core.list_namespaced_config_map("lag", resource_version="0", limit=1)
        assert sorted(i.metadata.name for i in stale.items) == ["a", "b"]
        assert stale.metadata._continue is None
        assert int(stale.metadata.resource_version) < int(consistent.metadata.resource_version)
        time.sleep(0.6)
        fresh = core.list_namespaced_config_map("lag", resource_version="0")
        assert sorted(i.metadata.name for i in fresh.items) == ["a", "b", "c"]
        assert fresh.metadata.resource_version == consistent.metadata.resource_version


# -- Kubeflow cleanPodPolicy ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "kept"),
    [
        (None, ["ddp-master-0", "ddp-worker-0"]),
        ("None", ["ddp-master-0", "ddp-worker-0"]),
        ("Running", ["ddp-master-0", "ddp-worker-0"]),
        ("All", []),
    ],
)
def test_pytorchjob_clean_pod_policy_keeps_finished_pods_unless_all(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str, policy: str | None, kept: list[str]
) -> None:
    """runPolicy.cleanPodPolicy of a finished job (training-operator release-1.9,
    common/job.go `DeletePodsAndServices`; defaults to None in pytorch_defaults.go): None
    keeps every pod, Running deletes only pods still Pending/Running and keeps finished ones
    (and so their logs), All deletes every pod."""
    spec = {} if policy is None else {"runPolicy": {"cleanPodPolicy": policy}}
    create(m1, KUBEFLOW, ns, "pytorchjobs", pytorchjob("ddp", workers=1, **spec))
    sim_server.advance(0)
    sim_server.advance(30)
    sim_server.advance(60)
    done = get(m1, KUBEFLOW, ns, "pytorchjobs", "ddp")
    assert condition(done, "Succeeded") is not None
    left = pods(m1, ns)
    assert sorted(left) == kept
    assert all(p.status.phase == "Succeeded" for p in left.values())
    core = client.CoreV1Api(m1)
    for name in kept:
        assert core.read_namespaced_pod_log(name, ns)


def test_pytorchjob_past_its_deadline_loses_every_pod_whatever_the_policy(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    """A job past activeDeadlineSeconds has all its pods deleted before it is marked Failed,
    so cleanPodPolicy None does not keep them (common/job.go `ReconcileJobs`:
    `jobExceedsLimit` calls DeletePodsAndServices while the job is not yet finished)."""
    body = pytorchjob(
        "ddp", workers=1, runPolicy={"cleanPodPolicy": "None", "activeDeadlineSeconds": 40}
    )
    create(m1, KUBEFLOW, ns, "pytorchjobs", body)
    sim_server.advance(0)
    sim_server.advance(30)
    sim_server.advance(20)
    done = get(m1, KUBEFLOW, ns, "pytorchjobs", "ddp")
    failed = condition(done, "Failed")
    assert failed is not None
    assert "deadline" in failed["message"]
    assert pods(m1, ns) == {}
