"""The in-memory API store: versions, conflicts, selectors, pagination, deletion, watch."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from karmada_sim.clock import Clock
from karmada_sim.errors import ApiError
from karmada_sim.resources import CONFIGMAP, NAMESPACE, POD, RAYJOB, by_kind, by_plural
from karmada_sim.store import Store


def rayjob(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"entrypoint": "python train.py", **spec},
    }


@pytest.fixture
def store() -> Store:
    store = Store(name="karmada", clock=Clock())
    for namespace in ("a", "b", "solo", "team", "team-a"):
        store.namespaces.ensure(namespace)
    return store


def test_create_sets_server_fields_and_namespace(store: Store) -> None:
    created = store.create(RAYJOB, rayjob("train"), namespace="team-a")
    meta = created["metadata"]
    assert meta["namespace"] == "team-a"
    assert meta["generation"] == 1
    assert len(meta["uid"]) == 36
    assert meta["creationTimestamp"].endswith("Z")
    assert int(meta["resourceVersion"]) > 0
    assert store.get(NAMESPACE, None, "team-a")["status"]["phase"] == "Active"


def test_duplicate_create_is_already_exists(store: Store) -> None:
    store.create(RAYJOB, rayjob("train"), namespace="a")
    with pytest.raises(ApiError) as caught:
        store.create(RAYJOB, rayjob("train"), namespace="a")
    assert caught.value.code == 409
    assert caught.value.reason == "AlreadyExists"
    assert caught.value.message == 'rayjobs.ray.io "train" already exists'


def test_generate_name_gets_five_random_characters(store: Store) -> None:
    obj = rayjob("")
    obj["metadata"]["generateName"] = "job-"
    first = store.create(RAYJOB, obj, namespace="a")["metadata"]["name"]
    second = store.create(RAYJOB, obj, namespace="a")["metadata"]["name"]
    assert first.startswith("job-")
    assert len(first) == 9
    assert first != second


def test_invalid_name_is_422_with_causes(store: Store) -> None:
    with pytest.raises(ApiError) as caught:
        store.create(RAYJOB, rayjob("Bad_Name"), namespace="a")
    err = caught.value
    assert (err.code, err.reason) == (422, "Invalid")
    assert err.message.startswith('RayJob.ray.io "Bad_Name" is invalid: metadata.name: Invalid')
    assert err.details["causes"][0]["field"] == "metadata.name"
    assert err.details["kind"] == "RayJob"


def test_get_missing_is_not_found_status(store: Store) -> None:
    with pytest.raises(ApiError) as caught:
        store.get(POD, "a", "nope")
    status = caught.value.status()
    assert status["code"] == 404
    assert status["message"] == 'pods "nope" not found'
    assert status["details"] == {"name": "nope", "kind": "pods"}


def test_replace_with_stale_version_conflicts_and_bumps_generation(store: Store) -> None:
    created = store.create(RAYJOB, rayjob("train"), namespace="a")
    created["spec"]["suspend"] = True
    updated = store.replace(RAYJOB, created)
    assert updated["metadata"]["generation"] == 2
    assert updated["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]
    with pytest.raises(ApiError) as caught:
        store.replace(RAYJOB, created)
    assert caught.value.reason == "Conflict"
    assert "the object has been modified" in caught.value.message


def test_status_writes_do_not_bump_generation_and_main_writes_ignore_status(store: Store) -> None:
    store.create(RAYJOB, rayjob("train"), namespace="a")
    after = store.update_status(RAYJOB, "a", "train", {"jobStatus": "RUNNING"})
    assert after["metadata"]["generation"] == 1
    after["status"] = {"jobStatus": "FAILED"}
    after["metadata"]["labels"] = {"x": "y"}
    replaced = store.replace(RAYJOB, after)
    assert replaced["status"] == {"jobStatus": "RUNNING"}
    assert replaced["metadata"]["generation"] == 1


def test_noop_status_write_keeps_resource_version(store: Store) -> None:
    store.create(RAYJOB, rayjob("train"), namespace="a")
    first = store.update_status(RAYJOB, "a", "train", {"jobStatus": "RUNNING"})
    again = store.update_status(RAYJOB, "a", "train", {"jobStatus": "RUNNING"})
    assert first["metadata"]["resourceVersion"] == again["metadata"]["resourceVersion"]


def test_merge_and_json_patch_and_strategic_rejected_on_custom(store: Store) -> None:
    store.create(RAYJOB, rayjob("train", {"app": "x"}), namespace="a")
    merged = store.patch(RAYJOB, "a", "train", {"spec": {"suspend": True}}, patch_type="merge")
    assert merged["spec"]["suspend"] is True
    assert merged["spec"]["entrypoint"] == "python train.py"
    patched = store.patch(
        RAYJOB,
        "a",
        "train",
        [{"op": "replace", "path": "/metadata/labels/app", "value": "y"}],
        patch_type="json",
    )
    assert patched["metadata"]["labels"] == {"app": "y"}
    with pytest.raises(ApiError) as caught:
        store.patch(RAYJOB, "a", "train", {"spec": {}}, patch_type="strategic")
    assert caught.value.code == 415
    store.create(CONFIGMAP, {"metadata": {"name": "c"}, "data": {"a": "1"}}, namespace="a")
    cm = store.patch(CONFIGMAP, "a", "c", {"data": {"b": "2"}}, patch_type="strategic")
    assert cm["data"] == {"a": "1", "b": "2"}


def test_failed_json_patch_test_is_422(store: Store) -> None:
    store.create(RAYJOB, rayjob("train"), namespace="a")
    with pytest.raises(ApiError) as caught:
        store.patch(
            RAYJOB, "a", "train", [{"op": "test", "path": "/spec/x", "value": 1}], patch_type="json"
        )
    assert caught.value.code == 422


def test_list_selectors_and_namespaces(store: Store) -> None:
    store.create(RAYJOB, rayjob("a1", {"team": "a", "tier": "gold"}), namespace="a")
    store.create(RAYJOB, rayjob("a2", {"team": "a"}), namespace="a")
    store.create(RAYJOB, rayjob("b1", {"team": "b", "tier": "silver"}), namespace="b")

    def names(**kwargs: Any) -> list[str]:
        return [o["metadata"]["name"] for o in store.list(RAYJOB, **kwargs).items]

    assert names() == ["a1", "a2", "b1"]
    assert names(namespace="b") == ["b1"]
    assert names(label_selector="team=a,tier") == ["a1"]
    assert names(label_selector="tier notin (gold)") == ["a2", "b1"]
    assert names(label_selector="!tier") == ["a2"]
    assert names(label_selector="tier in (gold, silver)") == ["a1", "b1"]
    assert names(label_selector="team!=a") == ["b1"]
    assert names(field_selector="metadata.namespace=a,metadata.name!=a1") == ["a2"]
    with pytest.raises(ApiError) as caught:
        store.list(RAYJOB, field_selector="spec.entrypoint=x")
    assert caught.value.code == 400
    assert caught.value.message == (
        '"spec.entrypoint" is not a known field selector: only "metadata.name", '
        '"metadata.namespace"'
    )
    with pytest.raises(ApiError):
        store.list(RAYJOB, label_selector="team in (a")


def test_pagination_keeps_list_version_and_expires_after_compaction(store: Store) -> None:
    for i in range(5):
        store.create(RAYJOB, rayjob(f"job-{i}"), namespace="a")
    first = store.list(RAYJOB, limit=2)
    assert len(first.items) == 2
    assert first.remaining == 3
    store.create(RAYJOB, rayjob("job-9"), namespace="a")
    second = store.list(RAYJOB, limit=2, continue_token=first.continue_token)
    assert second.resource_version == first.resource_version
    assert [o["metadata"]["name"] for o in second.items] == ["job-2", "job-3"]
    store.compact()
    with pytest.raises(ApiError) as caught:
        store.list(RAYJOB, limit=2, continue_token=second.continue_token)
    assert (caught.value.code, caught.value.reason) == (410, "Expired")


def test_finalizers_delay_removal(store: Store) -> None:
    obj = rayjob("train")
    obj["metadata"]["finalizers"] = ["ray.io/rayjob-finalizer"]
    store.create(RAYJOB, obj, namespace="a")
    pending = store.delete(RAYJOB, "a", "train")
    assert pending["metadata"]["deletionTimestamp"]
    assert store.find(RAYJOB, "a", "train") is not None
    store.remove_finalizer(RAYJOB, "a", "train", "ray.io/rayjob-finalizer")
    assert store.find(RAYJOB, "a", "train") is None


def owned_pod(name: str, owner: dict[str, Any], *, block: bool = False) -> dict[str, Any]:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": block,
    }
    return {"metadata": {"name": name, "ownerReferences": [ref]}, "spec": {"containers": []}}


@pytest.mark.parametrize(
    ("policy", "pod_survives"), [("Background", False), ("Orphan", True), (None, False)]
)
def test_garbage_collection_by_owner_reference(
    store: Store, policy: str | None, pod_survives: bool
) -> None:
    owner = store.create(RAYJOB, rayjob("train"), namespace="a")
    store.create(POD, owned_pod("train-head", owner), namespace="a")
    store.delete(RAYJOB, "a", "train", propagation_policy=policy)
    pod = store.find(POD, "a", "train-head")
    assert (pod is not None) == pod_survives
    if pod is not None:
        assert "ownerReferences" not in pod["metadata"]


def test_foreground_deletion_waits_for_blocking_dependents(store: Store) -> None:
    owner = store.create(RAYJOB, rayjob("train"), namespace="a")
    pod = owned_pod("train-head", owner, block=True)
    pod["metadata"]["finalizers"] = ["sim/keep"]
    store.create(POD, pod, namespace="a")
    store.delete(RAYJOB, "a", "train", propagation_policy="Foreground")
    assert "foregroundDeletion" in store.get(RAYJOB, "a", "train")["metadata"]["finalizers"]
    assert store.get(POD, "a", "train-head")["metadata"]["deletionTimestamp"]
    store.remove_finalizer(POD, "a", "train-head", "sim/keep")
    assert store.find(RAYJOB, "a", "train") is None


def test_delete_precondition_mismatch_conflicts(store: Store) -> None:
    store.create(RAYJOB, rayjob("train"), namespace="a")
    with pytest.raises(ApiError) as caught:
        store.delete(RAYJOB, "a", "train", preconditions={"uid": "other"})
    assert caught.value.code == 409
    assert "Precondition failed: UID in precondition: other" in caught.value.message


def test_listeners_see_every_write(store: Store) -> None:
    seen: list[tuple[str, str]] = []
    store.add_listener(lambda kind, res, obj: seen.append((kind, obj["metadata"]["name"])))
    store.create(RAYJOB, rayjob("train"), namespace="a")
    store.update_status(RAYJOB, "a", "train", {"jobStatus": "RUNNING"})
    store.delete(RAYJOB, "a", "train")
    assert seen == [("ADDED", "train"), ("MODIFIED", "train"), ("DELETED", "train")]


async def test_watch_initial_events_then_changes_and_selector_transitions(store: Store) -> None:
    store.create(RAYJOB, rayjob("old", {"team": "a"}), namespace="a")
    events: list[tuple[str, str]] = []

    async def consume() -> None:
        async for kind, obj in store.watch(RAYJOB, label_selector="team=a"):
            events.append((kind, obj["metadata"]["name"]))
            if len(events) == 4:
                return

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    store.create(RAYJOB, rayjob("new", {"team": "a"}), namespace="a")
    store.create(RAYJOB, rayjob("other", {"team": "b"}), namespace="a")
    store.patch(RAYJOB, "a", "other", {"metadata": {"labels": {"team": "a"}}}, patch_type="merge")
    store.patch(RAYJOB, "a", "new", {"metadata": {"labels": {"team": "b"}}}, patch_type="merge")
    await asyncio.wait_for(task, timeout=2)
    assert events == [("ADDED", "old"), ("ADDED", "new"), ("ADDED", "other"), ("DELETED", "new")]


async def test_watch_resume_from_version_and_too_old(store: Store) -> None:
    created = store.create(RAYJOB, rayjob("train"), namespace="a")
    store.update_status(RAYJOB, "a", "train", {"jobStatus": "RUNNING"})
    stream = store.watch(RAYJOB, resource_version=created["metadata"]["resourceVersion"])
    kind, obj = await asyncio.wait_for(anext(stream), timeout=1)
    assert (kind, obj["status"]) == ("MODIFIED", {"jobStatus": "RUNNING"})
    await stream.aclose()
    store.compact()
    stale = store.watch(RAYJOB, resource_version=created["metadata"]["resourceVersion"])
    kind, status = await asyncio.wait_for(anext(stale), timeout=1)
    assert kind == "ERROR"
    assert status["code"] == 410
    await stale.aclose()


def test_lookup_helpers() -> None:
    assert by_plural("ray.io", "v1", "rayjobs") is RAYJOB
    assert by_kind("v1", "Pod") is POD
    assert RAYJOB.group_resource == "rayjobs.ray.io"
    assert POD.api_version == "v1"


def test_clock_advance_moves_time_and_wakes() -> None:
    clock = Clock()
    woken: list[bool] = []
    clock.on_advance(lambda: woken.append(True))
    before = clock.now()
    clock.advance(3600)
    assert (clock.now() - before).total_seconds() >= 3600
    assert woken == [True]


def test_namespace_deletion_waits_for_finalized_contents(store: Store) -> None:
    held = rayjob("held")
    held["metadata"]["finalizers"] = ["ray.io/rayjob-finalizer"]
    store.create(RAYJOB, held, namespace="team")
    store.create(CONFIGMAP, {"metadata": {"name": "cfg"}}, namespace="team")
    terminating = store.delete(NAMESPACE, None, "team")
    assert terminating["status"]["phase"] == "Terminating"
    assert store.find(CONFIGMAP, "team", "cfg") is None
    assert store.get(RAYJOB, "team", "held")["metadata"]["deletionTimestamp"]
    with pytest.raises(ApiError) as refused:
        store.create(CONFIGMAP, {"metadata": {"name": "new"}}, namespace="team")
    assert (refused.value.code, refused.value.reason) == (403, "Forbidden")
    store.remove_finalizer(RAYJOB, "team", "held", "ray.io/rayjob-finalizer")
    assert store.find(NAMESPACE, None, "team") is None
    with pytest.raises(ApiError) as missing:
        store.create(CONFIGMAP, {"metadata": {"name": "again"}}, namespace="team")
    assert (missing.value.code, missing.value.message) == (404, 'namespaces "team" not found')


def test_empty_namespace_is_removed_at_once(store: Store) -> None:
    store.create(CONFIGMAP, {"metadata": {"name": "cfg"}}, namespace="solo")
    store.delete(NAMESPACE, None, "solo")
    assert store.find(NAMESPACE, None, "solo") is None
    assert store.find(CONFIGMAP, "solo", "cfg") is None


def test_namespaced_list_does_not_leak_into_similar_namespaces(store: Store) -> None:
    for namespace in ("a", "a-b", "ab", "a.b"):
        store.namespaces.ensure(namespace)
        store.create(RAYJOB, rayjob("job"), namespace=namespace)
        store.create(RAYJOB, rayjob("zz"), namespace=namespace)
    page = store.list(RAYJOB, namespace="a", limit=1)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in page.items] == [
        ("a", "job")
    ]
    rest = store.list(RAYJOB, namespace="a", limit=5, continue_token=page.continue_token)
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in rest.items] == [
        ("a", "zz")
    ]
    assert rest.continue_token == ""
