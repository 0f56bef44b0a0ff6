"""Conformance: the simulator behaves as a real kube-apiserver / Karmada does, row by row.

Each test talks to the simulator over HTTP with the official client (or kubectl) and cites
the documented or upstream behaviour it checks. Rows follow the simulator issue's list.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from api_helpers import api_client
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import POLICY, RAY, create, get, policy, rayjob

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator
from karmada_sim.watchcache import WatchCacheSettings


def start(settings: WatchCacheSettings, *namespaces: str) -> SimulatorServer:
    simulator = Simulator(
        [ClusterSpec.parse("member1")], seed=1, watch_cache=settings, namespaces=namespaces
    )
    return SimulatorServer(simulator)


@pytest.fixture
def lagging() -> Iterator[tuple[SimulatorServer, client.CustomObjectsApi]]:
    """A simulator whose watch cache trails writes by 300 ms and waits 0.3 s for the future."""
    settings = WatchCacheSettings(lag_seconds=0.3, too_large_wait_seconds=0.3, window_seconds=30)
    with start(settings, "lag") as server, api_client(server.url) as api:
        yield server, client.CustomObjectsApi(api)


def stream(
    crd: client.CustomObjectsApi, ns: str, **kwargs: Any
) -> Iterator[tuple[float, dict[str, Any]]]:
    """(arrival time, event) for each line of a raw watch stream."""
    response = crd.list_namespaced_custom_object(
        *RAY, ns, "rayjobs", watch=True, _preload_content=False, **kwargs
    )
    try:
        for line in response.stream(amt=None, decode_content=True):
            for part in line.split(b"\n"):
                if part.strip():
                    yield time.monotonic(), orjson.loads(part)
    finally:
        response.release_conn()


def list_version(crd: client.CustomObjectsApi, ns: str) -> str:
    version: str = crd.list_namespaced_custom_object(*RAY, ns, "rayjobs")["metadata"][
        "resourceVersion"
    ]
    return version


# ------------------------------------------------------------ row 1: lagging watch cache


def test_watch_events_trail_the_write_while_a_list_already_sees_it(
    lagging: tuple[SimulatorServer, client.CustomObjectsApi],
) -> None:
    """A watch is served from the apiserver's watch cache, which an etcd watch feeds: events
    arrive after the write returns, while a LIST without resourceVersion reads etcd (quorum)
    and already has the object (kubernetes.io/docs/reference/using-api/api-concepts,
    "Semantics for get and list"; k8s.io/apiserver/pkg/storage/cacher)."""
    _, crd = lagging
    since = list_version(crd, "lag")
    events = stream(crd, "lag", resource_version=since, timeout_seconds=5)
    written_at = time.monotonic()
    crd.create_namespaced_custom_object(*RAY, "lag", "rayjobs", rayjob("late"))
    listed = crd.list_namespaced_custom_object(*RAY, "lag", "rayjobs")["items"]
    assert [item["metadata"]["name"] for item in listed] == ["late"]
    arrived_at, event = next(events)
    assert event["type"] == "ADDED"
    assert arrived_at - written_at >= 0.25


def test_jittered_events_still_arrive_in_resource_version_order() -> None:
    """A watch delivers the events of a resource in resourceVersion order, whatever the
    cache's delay (api-concepts: "Efficient detection of changes")."""
    settings = WatchCacheSettings(lag_seconds=0.01, jitter_seconds=0.05)
    with start(settings, "jit") as server, api_client(server.url) as api:
        crd = client.CustomObjectsApi(api)
        since = list_version(crd, "jit")
        events = stream(crd, "jit", resource_version=since, timeout_seconds=10)
        for index in range(15):
            crd.create_namespaced_custom_object(*RAY, "jit", "rayjobs", rayjob(f"j{index}"))
        seen = [next(events)[1] for _ in range(15)]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in seen]
    assert versions == sorted(versions)
    assert [e["object"]["metadata"]["name"] for e in seen] == [f"j{i}" for i in range(15)]


def test_bookmark_comes_two_seconds_before_the_watch_times_out(
    lagging: tuple[SimulatorServer, client.CustomObjectsApi],
) -> None:
    """The cacher sends a watch a BOOKMARK every minute and 2 s before its deadline
    (timeoutSeconds), carrying only the cache's resourceVersion (cacheWatcher.nextBookmarkTime
    in k8s.io/apiserver/pkg/storage/cacher; api-concepts "Watch bookmarks")."""
    _, crd = lagging
    crd.create_namespaced_custom_object(*RAY, "lag", "rayjobs", rayjob("b"))
    opened = time.monotonic()
    got = list(stream(crd, "lag", allow_watch_bookmarks=True, timeout_seconds=3))
    bookmarks = [(at, e) for at, e in got if e["type"] == "BOOKMARK"]
    assert [e["type"] for _, e in got] == ["ADDED", "BOOKMARK"]
    at, bookmark = bookmarks[0]
    assert 0.8 <= at - opened <= 2.0
    assert set(bookmark["object"]["metadata"]) == {"resourceVersion"}
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= int(
        got[0][1]["object"]["metadata"]["resourceVersion"]
    )


# ------------------------------------------------------------- row 5: resourceVersions


def test_list_at_a_future_resource_version_is_504_after_a_short_wait(
    lagging: tuple[SimulatorServer, client.CustomObjectsApi],
) -> None:
    """LIST with resourceVersion beyond the cache waits (3 s upstream) and then answers 504
    "Too large resource version" with cause ResourceVersionTooLarge, which client-go's
    reflector answers with a full relist (watch_cache.go waitUntilFreshAndBlock;
    storage.NewTooLargeResourceVersionError)."""
    _, crd = lagging
    future = str(int(list_version(crd, "lag")) + 1000)
    began = time.monotonic()
    with pytest.raises(ApiException) as caught:
        crd.list_namespaced_custom_object(*RAY, "lag", "rayjobs", resource_version=future)
    assert time.monotonic() - began >= 0.25
    status = orjson.loads(caught.value.body)
    assert (caught.value.status, status["reason"]) == (504, "Timeout")
    assert status["message"].startswith("Timeout: Too large resource version: ")
    assert status["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"


def test_watch_from_a_future_resource_version_ends_with_a_504_error_event(
    lagging: tuple[SimulatorServer, client.CustomObjectsApi],
) -> None:
    """Once the resourceVersion parsed, a watch's errors come as an ERROR event in the
    stream (cacher.go Watch: "other errors must fail with a watch event of type ERROR")."""
    _, crd = lagging
    future = str(int(list_version(crd, "lag")) + 1000)
    got = [e for _, e in stream(crd, "lag", resource_version=future, timeout_seconds=5)]
    assert [e["type"] for e in got] == ["ERROR"]
    assert got[0]["object"]["code"] == 504


def test_watch_from_before_the_cache_window_is_410_gone() -> None:
    """The watch cache keeps a bounded window of events (eventFreshDuration, 75 s upstream);
    a watch from an older resourceVersion gets an ERROR event 410 "too old resource version"
    and the client must relist (api-concepts "410 Gone responses")."""
    settings = WatchCacheSettings(window_seconds=30)
    with start(settings, "old") as server, api_client(server.url) as api:
        crd = client.CustomObjectsApi(api)
        first = crd.create_namespaced_custom_object(*RAY, "old", "rayjobs", rayjob("a"))
        version = first["metadata"]["resourceVersion"]
        crd.create_namespaced_custom_object(*RAY, "old", "rayjobs", rayjob("b"))
        recent = [e for _, e in stream(crd, "old", resource_version=version, timeout_seconds=1)]
        assert [e["object"]["metadata"]["name"] for e in recent] == ["b"]
        server.advance(60)
        # The next delivery drops what has left the window, "b" included.
        crd.create_namespaced_custom_object(*RAY, "old", "rayjobs", rayjob("c"))
        time.sleep(0.05)
        got = [e for _, e in stream(crd, "old", resource_version=version, timeout_seconds=5)]
    assert [e["type"] for e in got] == ["ERROR"]
    assert got[0]["object"]["code"] == 410
    assert got[0]["object"]["message"].startswith(f"too old resource version: {version} (")


def test_resource_version_match_rules(
    lagging: tuple[SimulatorServer, client.CustomObjectsApi],
) -> None:
    """resourceVersionMatch needs a resourceVersion, and "Exact" not "0"; both are 422 Invalid
    from ListOptions validation (apimachinery validation.ValidateListOptions). Exact returns
    the list as of that version (etcd MVCC); NotOlderThan any state at least as new."""
    _, crd = lagging
    first = crd.create_namespaced_custom_object(*RAY, "lag", "rayjobs", rayjob("one"))
    at_one = first["metadata"]["resourceVersion"]
    crd.create_namespaced_custom_object(*RAY, "lag", "rayjobs", rayjob("two"))
    crd.delete_namespaced_custom_object(*RAY, "lag", "rayjobs", "one")
    for kwargs in (
        {"resource_version_match": "Exact"},
        {"resource_version": "0", "resource_version_match": "Exact"},
    ):
        with pytest.raises(ApiException) as caught:
            crd.list_namespaced_custom_object(*RAY, "lag", "rayjobs", **kwargs)
        assert caught.value.status == 422
        assert "resourceVersionMatch: Forbidden" in orjson.loads(caught.value.body)["message"]
    exact = crd.list_namespaced_custom_object(
        *RAY, "lag", "rayjobs", resource_version=at_one, resource_version_match="Exact"
    )
    assert [i["metadata"]["name"] for i in exact["items"]] == ["one"]
    assert exact["metadata"]["resourceVersion"] == at_one
    newer = crd.list_namespaced_custom_object(
        *RAY, "lag", "rayjobs", resource_version=at_one, resource_version_match="NotOlderThan"
    )
    assert [i["metadata"]["name"] for i in newer["items"]] == ["two"]


def test_continued_pages_show_the_list_as_of_its_first_page(
    lagging: tuple[SimulatorServer, client.CustomObjectsApi],
) -> None:
    """Every page of a paginated LIST is served at the first page's resourceVersion, so
    objects changed in between show as they were (api-concepts "Retrieving large results
    sets in chunks": "a consistent snapshot")."""
    _, crd = lagging
    for name in ("a", "b", "c"):
        crd.create_namespaced_custom_object(*RAY, "lag", "rayjobs", rayjob(name))
    page = crd.list_namespaced_custom_object(*RAY, "lag", "rayjobs", limit=1)
    crd.delete_namespaced_custom_object(*RAY, "lag", "rayjobs", "c")
    crd.patch_namespaced_custom_object(
        *RAY, "lag", "rayjobs", "b", {"metadata": {"labels": {"new": "yes"}}}
    )
    rest = crd.list_namespaced_custom_object(
        *RAY, "lag", "rayjobs", limit=5, _continue=page["metadata"]["continue"]
    )
    assert [i["metadata"]["name"] for i in rest["items"]] == ["b", "c"]
    assert "new" not in (rest["items"][0]["metadata"].get("labels") or {})
    assert rest["metadata"]["resourceVersion"] == page["metadata"]["resourceVersion"]


# --------------------------------------------------------------- row 3: namespaces


def test_create_in_a_missing_namespace_is_404_and_karmada_syncs_namespaces() -> None:
    """The NamespaceLifecycle admission plugin refuses writes into a namespace that does not
    exist (404 `namespaces "x" not found`); Karmada's namespace-sync controller creates a
    namespace made on Karmada in every member cluster (karmada.io docs, "Namespace
    management")."""
    with start(WatchCacheSettings()) as server, api_client(server.url) as api:
        crd = client.CustomObjectsApi(api)
        name = f"n-{uuid.uuid4().hex[:6]}"
        with pytest.raises(ApiException) as caught:
            crd.create_namespaced_custom_object(*RAY, name, "rayjobs", rayjob("x"))
        status = orjson.loads(caught.value.body)
        assert (caught.value.status, status["reason"]) == (404, "NotFound")
        assert status["message"] == f'namespaces "{name}" not found'
        assert status["details"] == {"name": name, "kind": "namespaces"}
        client.CoreV1Api(api).create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
        )
        crd.create_namespaced_custom_object(*RAY, name, "rayjobs", rayjob("x"))
        with api_client(server.url, cluster="member1") as member:
            assert client.CoreV1Api(member).read_namespace(name).status.phase == "Active"


# ------------------------------------------------------------------- row 8: the bugs


def test_foreground_delete_with_plain_dependents_succeeds() -> None:
    """DELETE with propagationPolicy=Foreground answers 200 (handlers/delete.go), then the
    garbage collector deletes the blocking dependents and the owner; never a 500
    (kubernetes.io/docs/concepts/architecture/garbage-collection, "Foreground cascading
    deletion"). The simulator's collector runs inside the request, so both are gone at once."""
    with start(WatchCacheSettings(), "fg") as server, api_client(server.url) as api:
        core = client.CoreV1Api(api)
        owner = core.create_namespaced_config_map(
            "fg", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
        )
        ref = client.V1OwnerReference(
            api_version="v1",
            kind="ConfigMap",
            name="owner",
            uid=owner.metadata.uid,
            block_owner_deletion=True,
        )
        core.create_namespaced_config_map(
            "fg",
            client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dep", owner_references=[ref])),
        )
        answer = core.delete_namespaced_config_map(
            "owner",
            "fg",
            body=client.V1DeleteOptions(propagation_policy="Foreground"),
            _preload_content=False,
        )
        assert answer.status == 200
        left = [c.metadata.name for c in core.list_namespaced_config_map("fg").items]
    assert "owner" not in left
    assert "dep" not in left


def test_unsupported_patch_type_lists_only_what_is_accepted() -> None:
    """415 names the patch types the server accepts; the simulator does not implement
    server-side apply, so it must not offer application/apply-patch+yaml."""
    with start(WatchCacheSettings(), "p") as server, api_client(server.url) as api:
        crd = client.CustomObjectsApi(api)
        crd.create_namespaced_custom_object(*RAY, "p", "rayjobs", rayjob("x"))
        response = httpx.patch(
            f"{server.url}/apis/ray.io/v1/namespaces/p/rayjobs/x",
            headers={"Content-Type": "application/apply-patch+yaml"},
            content=b"metadata: {}",
        )
    assert response.status_code == 415
    message = response.json()["message"]
    assert "apply-patch" not in message
    assert "application/merge-patch+json" in message


# ------------------------------------------------------------- row 7: policy claims


def test_a_claimed_workload_moves_to_a_higher_policy_only_with_preemption(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    """Once a policy claims a resource, a later higher-priority policy takes it over only
    with `preemption: Always` (karmada.io docs, "Resource Propagating": policy preemption;
    pkg/detector/preemption.go)."""

    def claimed_by() -> str:
        annotations = get(karmada, RAY, ns, "rayjobs", "held")["metadata"]["annotations"]
        return str(annotations["propagationpolicy.karmada.io/name"])

    create(karmada, RAY, ns, "rayjobs", rayjob("held"))
    create(karmada, POLICY, ns, "propagationpolicies", policy("first", target="held"))
    sim_server.advance(0)
    assert claimed_by() == "first"
    create(karmada, POLICY, ns, "propagationpolicies", policy("higher", target="held", priority=5))
    sim_server.advance(0)
    assert claimed_by() == "first"
    preempting = policy("preempts", target="held", priority=9)
    preempting["spec"]["preemption"] = "Always"
    create(karmada, POLICY, ns, "propagationpolicies", preempting)
    sim_server.advance(0)
    assert claimed_by() == "preempts"
