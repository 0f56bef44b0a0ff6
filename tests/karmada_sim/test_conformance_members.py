"""Conformance of the member clusters, the kubelet and storage details the product leans on.

Each test talks to the simulator over HTTP with the official client and cites the upstream
source or documented behaviour it checks. Timings: init 30 s, run 60 s (conftest.SLOW).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from api_helpers import api_client
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import KUBEFLOW, RAY, condition, create, get, pods, pytorchjob, rayjob

from karmada_sim import kubelet, statefile
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
    """A simulator whose watch cache trails storage by 1 s."""
    simulator = Simulator(
        [ClusterSpec.parse("member1")],
        seed=1,
        watch_cache=WatchCacheSettings(lag_seconds=1.0),
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
        time.sleep(1.2)
        core.create_namespaced_config_map("lag", {"metadata": {"name": "c"}})
        consistent = core.list_namespaced_config_map("lag")
        assert sorted(i.metadata.name for i in consistent.items) == ["a", "b", "c"]
        stale = core.list_namespaced_config_map("lag", resource_version="0", limit=1)
        assert sorted(i.metadata.name for i in stale.items) == ["a", "b"]
        assert stale.metadata._continue is None
        assert int(stale.metadata.resource_version) < int(consistent.metadata.resource_version)
        time.sleep(1.2)
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


# -- pods whose claim, Secret or ConfigMap is missing --------------------------------------


def _batch_job(name: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox", **pod_spec.pop("container", {})}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container], **pod_spec}},
        },
    }


def _warnings(core: client.CoreV1Api, ns: str, pod: str) -> list[tuple[str, str]]:
    events = core.list_namespaced_event(ns).items
    return [(e.reason, e.message) for e in events if e.involved_object.name == pod]


def test_a_pod_whose_claim_is_missing_stays_unschedulable_and_its_job_active(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    """The scheduler's VolumeBinding PreFilter rejects a pod whose PersistentVolumeClaim does
    not exist with `persistentvolumeclaim "x" not found` (volume_binding.go `podHasPVCs`,
    UnschedulableAndUnresolvable), reported as FitError "0/3 nodes are available: ...
    preemption: ..." on PodScheduled=False, reason Unschedulable, with no node. The Job stays
    active (a Pending pod is not a failure). Once the claim exists the pod is scheduled and
    runs its full course."""
    core, batch = client.CoreV1Api(m1), client.BatchV1Api(m1)
    volumes = [{"name": "data", "persistentVolumeClaim": {"claimName": "scratch"}}]
    batch.create_namespaced_job(ns, _batch_job("train", {"volumes": volumes}))
    sim_server.advance(0)
    sim_server.advance(200)
    (pod,) = pods(m1, ns, "job-name=train").values()
    assert pod.status.phase == "Pending"
    assert pod.spec.node_name is None
    (scheduled,) = pod.status.conditions
    assert (scheduled.type, scheduled.status, scheduled.reason) == (
        "PodScheduled",
        "False",
        "Unschedulable",
    )
    message = (
        '0/3 nodes are available: persistentvolumeclaim "scratch" not found. preemption: '
        "0/3 nodes are available: 3 Preemption is not helpful for scheduling."
    )
    assert scheduled.message == message
    assert ("FailedScheduling", message) in _warnings(core, ns, pod.metadata.name)
    job = batch.read_namespaced_job("train", ns)
    assert job.status.active == 1
    assert not job.status.failed
    assert not job.status.conditions

    claim = {
        "metadata": {"name": "scratch"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim(ns, claim)
    sim_server.advance(0)
    running = core.read_namespaced_pod(pod.metadata.name, ns)
    assert running.status.phase == "Running"
    assert running.spec.node_name
    sim_server.advance(59)
    assert batch.read_namespaced_job("train", ns).status.active == 1
    sim_server.advance(1)
    done = batch.read_namespaced_job("train", ns)
    assert done.status.succeeded == 1
    assert [c.type for c in done.status.conditions] == ["SuccessCriteriaMet", "Complete"]


def test_a_missing_secret_volume_keeps_the_containers_creating_and_the_pytorchjob_created(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    """The kubelet cannot set up a secret volume whose Secret is missing: the pod is
    scheduled but its containers wait in ContainerCreating, and FailedMount events say
    `MountVolume.SetUp failed for volume "creds" : secret "s3" not found` (volume/secret
    `SetUpAt`, operation_generator.go). The training-operator counts only Running pods as
    active, so the PyTorchJob stays Created. A Secret that appears later lets it run."""
    core = client.CoreV1Api(m1)
    body = pytorchjob("ddp", workers=1)
    for replica in body["spec"]["pytorchReplicaSpecs"].values():
        replica["template"]["spec"]["volumes"] = [{"name": "creds", "secret": {"secretName": "s3"}}]
    create(m1, KUBEFLOW, ns, "pytorchjobs", body)
    sim_server.advance(0)
    sim_server.advance(100)
    for pod in pods(m1, ns).values():
        assert pod.status.phase == "Pending"
        assert pod.spec.node_name
        (container,) = pod.status.container_statuses
        assert container.state.waiting.reason == "ContainerCreating"
        assert (
            "FailedMount",
            'MountVolume.SetUp failed for volume "creds" : secret "s3" not found',
        ) in _warnings(core, ns, pod.metadata.name)
    job = get(m1, KUBEFLOW, ns, "pytorchjobs", "ddp")
    assert condition(job, "Running") is None
    assert condition(job, "Failed") is None

    core.create_namespaced_secret(ns, {"metadata": {"name": "s3"}, "data": {"k": "dg=="}})
    sim_server.advance(0)
    running = get(m1, KUBEFLOW, ns, "pytorchjobs", "ddp")
    assert condition(running, "Running") is not None
    assert all(p.status.phase == "Running" for p in pods(m1, ns).values())
    sim_server.advance(60)
    assert condition(get(m1, KUBEFLOW, ns, "pytorchjobs", "ddp"), "Succeeded") is not None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"env": [{"name": "KEY", "valueFrom": {"secretKeyRef": {"name": "s3", "key": "k"}}}]},
            'secret "s3" not found',
        ),
        ({"envFrom": [{"secretRef": {"name": "s3"}}]}, 'secret "s3" not found'),
        (
            {"env": [{"name": "C", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "c"}}}]},
            'configmap "cfg" not found',
        ),
    ],
)
def test_a_missing_env_secret_is_create_container_config_error_and_the_rayjob_initializing(
    m1: client.ApiClient,
    sim_server: SimulatorServer,
    ns: str,
    env: dict[str, Any],
    message: str,
) -> None:
    """The kubelet's makeEnvironmentVariables fails on a missing Secret or ConfigMap named
    by env/envFrom; the container waits with reason CreateContainerConfigError and the
    error as message, and a `Failed` event says `Error: ...` (kuberuntime_container.go
    `startContainer`, ErrCreateContainerConfig). KubeRay keeps the RayJob Initializing
    while its RayCluster is not ready."""
    body = rayjob("train", workers=1)
    cluster = body["spec"]["rayClusterSpec"]
    for template in (
        cluster["headGroupSpec"]["template"],
        cluster["workerGroupSpecs"][0]["template"],
    ):
        template["spec"]["containers"][0].update(env)
    create(m1, RAY, ns, "rayjobs", body)
    sim_server.advance(0)
    sim_server.advance(100)
    core = client.CoreV1Api(m1)
    found = pods(m1, ns)
    assert found
    for pod in found.values():
        assert pod.status.phase == "Pending"
        (container,) = pod.status.container_statuses
        waiting = container.state.waiting
        assert (waiting.reason, waiting.message) == ("CreateContainerConfigError", message)
        assert ("Failed", f"Error: {message}") in _warnings(core, ns, pod.metadata.name)
    assert get(m1, RAY, ns, "rayjobs", "train")["status"]["jobDeploymentStatus"] == "Initializing"

    core.create_namespaced_secret(ns, {"metadata": {"name": "s3"}, "data": {"k": "dg=="}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "cfg"}, "data": {"c": "v"}})
    sim_server.advance(0)
    assert get(m1, RAY, ns, "rayjobs", "train")["status"]["jobDeploymentStatus"] == "Running"


def test_a_missing_key_or_an_optional_reference(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    """A Secret without the named key fails with `couldn't find key k in Secret ns/name`
    (kubelet_pods.go makeEnvironmentVariables); a reference marked `optional: true` never
    blocks the pod."""
    core, batch = client.CoreV1Api(m1), client.BatchV1Api(m1)
    core.create_namespaced_secret(ns, {"metadata": {"name": "s3"}, "data": {"other": "dg=="}})
    keyed = {"env": [{"name": "K", "valueFrom": {"secretKeyRef": {"name": "s3", "key": "k"}}}]}
    batch.create_namespaced_job(ns, _batch_job("keyed", {"container": keyed}))
    optional = {
        "container": {"envFrom": [{"secretRef": {"name": "absent", "optional": True}}]},
        "volumes": [{"name": "v", "secret": {"secretName": "absent", "optional": True}}],
    }
    batch.create_namespaced_job(ns, _batch_job("optional", optional))
    sim_server.advance(0)
    sim_server.advance(30)
    (held,) = pods(m1, ns, "job-name=keyed").values()
    waiting = held.status.container_statuses[0].state.waiting
    assert waiting.message == f"couldn't find key k in Secret {ns}/s3"
    (free,) = pods(m1, ns, "job-name=optional").values()
    assert free.status.phase == "Running"


# -- the kubelet's $(VAR) expansion ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("$(A)/x", "1/x"),
        ("$(UNDEFINED)", "$(UNDEFINED)"),
        ("$$(A)", "$(A)"),
        ("$$$(A)", "$1"),
        ("cost $5 $", "cost $5 $"),
        ("$(A $$(A)", "$(A $$(A)"),
        ("$(A $$", "$(A $"),
        ("$(A$(B)", "$(A$(B)"),
        ("$(rm -rf /) `id` ${HOME}", "$(rm -rf /) `id` ${HOME}"),
    ],
)
def test_kubelet_expands_env_references_as_upstream(text: str, expanded: str) -> None:
    """third_party/forked/golang/expansion `Expand`: `$(NAME)` of a defined variable is its
    value, an undefined one stays as written (the name runs to the first `)`), `$$` is one
    `$`, a `$` before anything else stays, and an unclosed `$(` stays while the scan goes on
    after it."""
    assert kubelet.expand(text, {"A": "1"}) == expanded


def test_env_values_see_only_the_variables_defined_before_them() -> None:
    """Define dependent environment variables (kubernetes.io docs): a value may reference
    variables listed earlier in `env`; a later one is not expanded."""
    container = {
        "env": [
            {"name": "FIRST", "value": "$(SECOND)-a"},
            {"name": "SECOND", "value": "b"},
            {"name": "THIRD", "value": "$(SECOND)-$(FIRST)-$$(SECOND)"},
        ]
    }
    assert kubelet.container_env(container) == {
        "FIRST": "$(SECOND)-a",
        "SECOND": "b",
        "THIRD": "b-$(SECOND)-a-$(SECOND)",
    }


# -- state file and restore -----------------------------------------------------------------


def _watch_codes(core: client.CoreV1Api, ns: str, resource_version: str) -> list[int]:
    """The Status codes of the ERROR events of a ConfigMap watch resumed at a version."""
    response = core.list_namespaced_config_map(
        ns,
        watch=True,
        resource_version=resource_version,
        timeout_seconds=1,
        _preload_content=False,
    )
    events = [orjson.loads(line) for line in response.read().splitlines() if line.strip()]
    return [e["object"]["code"] for e in events if e["type"] == "ERROR"]


def _configmap_names(core: client.CoreV1Api, ns: str) -> list[str]:
    return sorted(i.metadata.name for i in core.list_namespaced_config_map(ns).items)


def test_a_restart_with_a_state_file_keeps_objects_and_never_reuses_a_resource_version(
    tmp_path: Path,
) -> None:
    """An apiserver restart loses nothing stored in etcd and its resourceVersions go on from
    etcd's revision; the new watch cache starts at that revision with no history, so resuming
    a watch from an older version is 410 Gone (cacher: "too old resource version") and the
    client re-lists, while one from the latest version just goes on."""
    path = tmp_path / "state.json"

    def start() -> SimulatorServer:
        simulator = Simulator([ClusterSpec.parse("member1")], seed=1, state_file=path)
        return SimulatorServer(simulator)

    with start() as first, api_client(first.url) as api:
        first.create_namespace("keep")
        core = client.CoreV1Api(api)
        older = core.create_namespaced_config_map("keep", {"metadata": {"name": "a"}})
        core.create_namespaced_config_map("keep", {"metadata": {"name": "a2"}})
        before = core.list_namespaced_config_map("keep").metadata.resource_version
    assert path.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]

    with start() as second, api_client(second.url) as api:
        core = client.CoreV1Api(api)
        assert _configmap_names(core, "keep") == ["a", "a2"]
        created = core.create_namespaced_config_map("keep", {"metadata": {"name": "b"}})
        assert int(created.metadata.resource_version) > int(before)
        assert _watch_codes(core, "keep", older.metadata.resource_version) == [410]
        assert _watch_codes(core, "keep", before) == []


def test_a_state_file_that_cannot_be_read_stops_the_start(tmp_path: Path) -> None:
    """A damaged state file is refused rather than silently replaced by an empty store."""
    path = tmp_path / "state.json"
    path.write_bytes(b'{"format": "karmada-sim-state/v1", "karmada": ')
    with pytest.raises(ValueError, match="not a readable simulator state file"):
        Simulator([ClusterSpec.parse("member1")], state_file=path)


def test_restore_rolls_karmada_back_with_a_newer_resource_version_and_410_for_watches(
    sim_server: SimulatorServer, karmada: client.ApiClient, ns: str
) -> None:
    """After an etcd restore (etcdutl snapshot restore --bump-revision --mark-compacted, as
    the Kubernetes etcd operations guide advises) objects written after the snapshot are
    gone, the revision keeps growing, and every watch, open or resumed, ends with 410 Gone so
    clients re-list."""
    core = client.CoreV1Api(karmada)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "old"}})
    with httpx.Client(base_url=sim_server.url) as control:
        taken = control.post("/sim/v1/snapshots")
        assert taken.status_code == 201
        snapshot = taken.json()
        core.create_namespaced_config_map(ns, {"metadata": {"name": "new"}})
        latest = core.list_namespaced_config_map(ns).metadata.resource_version
        stream = core.list_namespaced_config_map(
            ns, watch=True, resource_version=latest, timeout_seconds=5, _preload_content=False
        )
        restored = control.post("/sim/v1/restore", json={"snapshot": snapshot["id"]})
        assert restored.status_code == 200
        assert control.post("/sim/v1/restore", json={"snapshot": 99}).status_code == 404
    events = [orjson.loads(line) for line in stream.read().splitlines() if line.strip()]
    assert [e["type"] for e in events] == ["ERROR"]
    assert events[0]["object"]["code"] == 410
    assert _configmap_names(core, ns) == ["old"]
    listed = core.list_namespaced_config_map(ns).metadata.resource_version
    assert int(listed) > int(latest)
    assert listed == restored.json()["resourceVersion"]
    assert _watch_codes(core, ns, latest) == [410]


_WRITER = """
import sys
from pathlib import Path
from karmada_sim import statefile
from karmada_sim.resources import CONFIGMAP
from karmada_sim.store import Snapshot

path, = sys.argv[1:]
n = 0
while True:
    n += 1
    objects = tuple(
        (CONFIGMAP, {"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": f"c{i}", "namespace": "default"},
                     "data": {"n": str(n) * 50}})
        for i in range(2000)
    )
    statefile.write(Path(path), statefile.State(Snapshot(n, objects), {"member1": n}))
    print(n, flush=True)
"""


def test_a_kill_while_writing_never_leaves_a_damaged_state_file(tmp_path: Path) -> None:
    """The file is replaced by rename(2) after the new content is on disk, so a process
    killed at any moment leaves the previous complete state or the new one."""
    path = tmp_path / "state.json"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    for delay in (0.15, 0.3, 0.45, 0.6, 0.75):
        writer = subprocess.Popen(
            [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None
        writer.stdout.readline()  # at least one complete write
        time.sleep(delay)
        writer.kill()
        writer.wait()
        state = statefile.read(path)
        assert state is not None
        assert len(state.karmada.objects) == 2000
        assert state.member_versions == {"member1": state.karmada.resource_version}
