"""CRUD, errors, patches, selectors and pagination through the official kubernetes client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from api_helpers import api_client
from kubernetes import client
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient

from karmada_sim.resources import RAYJOB
from karmada_sim.server import SimulatorServer

RAY = ("ray.io", "v1")


@pytest.fixture
def api(server: SimulatorServer) -> Iterator[client.ApiClient]:
    with api_client(server.url) as api:
        yield api


@pytest.fixture
def crd(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def rayjob(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"entrypoint": "python train.py"},
    }


def status_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(exc.body)
    return body


def prep_job() -> client.V1Job:
    """A batch/v1 Job "prep" with one busybox container."""
    return client.V1Job(
        metadata=client.V1ObjectMeta(name="prep"),
        spec=client.V1JobSpec(
            template=client.V1PodTemplateSpec(
                spec=client.V1PodSpec(
                    restart_policy="Never",
                    containers=[client.V1Container(name="main", image="busybox")],
                )
            )
        ),
    )


def test_create_returns_201_with_server_fields(crd: client.CustomObjectsApi, ns: str) -> None:
    body, code, _ = crd.create_namespaced_custom_object_with_http_info(
        *RAY, ns, "rayjobs", rayjob("train")
    )
    assert code == 201
    assert body["metadata"]["namespace"] == ns
    assert body["metadata"]["generation"] == 1
    assert body["metadata"]["uid"]
    got = crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "train")
    assert got["metadata"]["resourceVersion"] == body["metadata"]["resourceVersion"]


def test_create_drops_status_of_resources_with_status_subresource(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    obj = rayjob("train")
    obj["status"] = {"jobStatus": "SUCCEEDED"}
    created = crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", obj)
    assert "status" not in created


def test_errors_are_status_objects(crd: client.CustomObjectsApi, ns: str) -> None:
    with pytest.raises(ApiException) as missing:
        crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "nope")
    assert missing.value.status == 404
    assert status_of(missing.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'rayjobs.ray.io "nope" not found',
        "reason": "NotFound",
        "code": 404,
        "details": {"name": "nope", "group": "ray.io", "kind": "rayjobs"},
    }
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    with pytest.raises(ApiException) as dup:
        crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    assert (dup.value.status, status_of(dup.value)["reason"]) == (409, "AlreadyExists")
    with pytest.raises(ApiException) as invalid:
        crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("Not_Valid"))
    status = status_of(invalid.value)
    assert (invalid.value.status, status["reason"]) == (422, "Invalid")
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    with pytest.raises(ApiException) as wrong_kind:
        crd.create_namespaced_custom_object(*RAY, ns, "pytorchjobs", rayjob("x"))
    assert wrong_kind.value.status == 404


def test_replace_with_stale_resource_version_is_conflict(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    created = crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    created["spec"]["suspend"] = True
    updated = crd.replace_namespaced_custom_object(*RAY, ns, "rayjobs", "train", created)
    assert updated["metadata"]["generation"] == 2
    with pytest.raises(ApiException) as stale:
        crd.replace_namespaced_custom_object(*RAY, ns, "rayjobs", "train", created)
    status = status_of(stale.value)
    assert (stale.value.status, status["reason"]) == (409, "Conflict")
    assert status["message"] == (
        'Operation cannot be fulfilled on rayjobs.ray.io "train": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_status_subresource_separates_spec_and_status(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    patched = crd.patch_namespaced_custom_object_status(
        *RAY, ns, "rayjobs", "train", {"status": {"jobStatus": "RUNNING"}, "spec": {"x": 1}}
    )
    assert patched["status"] == {"jobStatus": "RUNNING"}
    assert "x" not in patched["spec"]
    assert patched["metadata"]["generation"] == 1
    main = crd.patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "train", {"status": {"jobStatus": "FAILED"}}
    )
    assert main["status"] == {"jobStatus": "RUNNING"}
    got = crd.get_namespaced_custom_object_status(*RAY, ns, "rayjobs", "train")
    assert got["status"]["jobStatus"] == "RUNNING"


def test_patch_content_types(crd: client.CustomObjectsApi, ns: str) -> None:
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train", {"a": "1"}))
    merged = crd.patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "train", {"spec": {"suspend": True}, "metadata": {"labels": None}}
    )
    # The CRD's defaults (backoffLimit, submissionMode, ttlSecondsAfterFinished) were applied.
    assert merged["spec"] == {
        "entrypoint": "python train.py",
        "suspend": True,
        "backoffLimit": 0,
        "submissionMode": "K8sJobMode",
        "ttlSecondsAfterFinished": 0,
    }
    assert "labels" not in merged["metadata"]
    ops = [{"op": "add", "path": "/spec/backoffLimit", "value": 2}]
    patched = crd.patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "train", ops, _content_type="application/json-patch+json"
    )
    assert patched["spec"]["backoffLimit"] == 2
    with pytest.raises(ApiException) as strategic:
        crd.patch_namespaced_custom_object(
            *RAY,
            ns,
            "rayjobs",
            "train",
            {"spec": {}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert strategic.value.status == 415
    assert status_of(strategic.value)["reason"] == "UnsupportedMediaType"
    stale = {"metadata": {"resourceVersion": "1"}, "spec": {"suspend": False}}
    with pytest.raises(ApiException) as conflict:
        crd.patch_namespaced_custom_object(*RAY, ns, "rayjobs", "train", stale)
    assert conflict.value.status == 409


def test_core_and_batch_kinds(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_secret(
        ns, client.V1Secret(metadata=client.V1ObjectMeta(name="creds"), string_data={"k": "v"})
    )
    core.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg"), data={"a": "1"})
    )
    # The core client sends strategic-merge patches; built-in kinds accept them.
    cm = core.patch_namespaced_config_map("cfg", ns, {"data": {"b": "2"}})
    assert cm.data == {"a": "1", "b": "2"}
    pvc = client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="data"),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"}),
        ),
    )
    core.create_namespaced_persistent_volume_claim(ns, pvc)
    assert [s.metadata.name for s in core.list_namespaced_secret(ns).items] == ["creds"]
    assert core.read_namespaced_persistent_volume_claim("data", ns).spec.access_modes == [
        "ReadWriteOnce"
    ]
    assert ns in [n.metadata.name for n in core.list_namespace().items]
    batch = client.BatchV1Api(api)
    created = batch.create_namespaced_job(ns, prep_job())
    assert created.metadata.uid
    assert [j.metadata.name for j in batch.list_job_for_all_namespaces().items].count("prep") >= 1
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_secret("nope", ns)
    assert status_of(missing.value)["message"] == 'secrets "nope" not found'


def test_label_and_field_selectors(crd: client.CustomObjectsApi, ns: str) -> None:
    for name, labels in [
        ("a1", {"team": "a", "tier": "gold"}),
        ("a2", {"team": "a"}),
        ("b1", {"team": "b", "tier": "silver"}),
    ]:
        crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob(name, labels))

    def names(selector: str = "", fields: str = "") -> list[str]:
        listed = crd.list_namespaced_custom_object(
            *RAY, ns, "rayjobs", label_selector=selector, field_selector=fields
        )
        return [o["metadata"]["name"] for o in listed["items"]]

    assert names("team in (a),tier") == ["a1"]
    assert names("tier notin (gold)") == ["a2", "b1"]
    assert names("!tier") == ["a2"]
    assert names("team!=a") == ["b1"]
    assert names(fields="metadata.name=a2") == ["a2"]
    assert names(fields="metadata.name!=a2") == ["a1", "b1"]
    with pytest.raises(ApiException) as bad_field:
        names(fields="spec.entrypoint=x")
    assert bad_field.value.status == 400
    assert status_of(bad_field.value)["message"] == (
        '"spec.entrypoint" is not a known field selector: only "metadata.name", '
        '"metadata.namespace"'
    )
    with pytest.raises(ApiException) as bad_label:
        names("team in (a")
    assert bad_label.value.status == 400


def test_all_namespaces_list_and_pagination(
    crd: client.CustomObjectsApi, server: SimulatorServer
) -> None:
    label = uuid.uuid4().hex[:8]
    for i in range(3):
        server.create_namespace(f"page-{label}-{i}")
    for i in range(7):
        crd.create_namespaced_custom_object(
            *RAY, f"page-{label}-{i % 3}", "rayjobs", rayjob(f"job-{i}", {"run": label})
        )
    seen: list[str] = []
    token = ""
    versions = set()
    for _ in range(10):
        page = crd.list_cluster_custom_object(
            *RAY, "rayjobs", label_selector=f"run={label}", limit=3, _continue=token
        )
        seen += [f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in page["items"]]
        versions.add(page["metadata"]["resourceVersion"])
        token = page["metadata"].get("continue", "")
        if not token:
            break
    assert len(seen) == 7
    assert seen == sorted(seen)
    assert len(versions) == 1
    first = crd.list_cluster_custom_object(*RAY, "rayjobs", label_selector=f"run={label}", limit=3)
    server.call(server.simulator.karmada.compact)
    with pytest.raises(ApiException) as expired:
        crd.list_cluster_custom_object(
            *RAY, "rayjobs", limit=3, _continue=first["metadata"]["continue"]
        )
    assert (expired.value.status, status_of(expired.value)["reason"]) == (410, "Expired")


def test_delete_returns_status_or_the_finalized_object(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("plain"))
    gone = crd.delete_namespaced_custom_object(*RAY, ns, "rayjobs", "plain")
    assert (gone["kind"], gone["status"]) == ("Status", "Success")
    held = rayjob("held")
    held["metadata"]["finalizers"] = ["ray.io/rayjob-finalizer"]
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", held)
    pending = crd.delete_namespaced_custom_object(*RAY, ns, "rayjobs", "held")
    assert pending["metadata"]["deletionTimestamp"]
    still = crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "held")
    assert still["metadata"]["finalizers"] == ["ray.io/rayjob-finalizer"]
    crd.patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "held", {"metadata": {"finalizers": None}}
    )
    with pytest.raises(ApiException) as missing:
        crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "held")
    assert missing.value.status == 404


@pytest.mark.parametrize(("policy", "survives"), [("Background", False), ("Orphan", True)])
def test_delete_propagation_collects_owned_pods(
    api: client.ApiClient, crd: client.CustomObjectsApi, ns: str, policy: str, survives: bool
) -> None:
    owner = crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    core = client.CoreV1Api(api)
    ref = client.V1OwnerReference(
        api_version="ray.io/v1",
        kind="RayJob",
        name="train",
        uid=owner["metadata"]["uid"],
        controller=True,
    )
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="train-head", owner_references=[ref]),
        spec=client.V1PodSpec(containers=[client.V1Container(name="ray-head", image="ray")]),
    )
    core.create_namespaced_pod(ns, pod)
    crd.delete_namespaced_custom_object(*RAY, ns, "rayjobs", "train", propagation_policy=policy)
    names = [p.metadata.name for p in core.list_namespaced_pod(ns).items]
    assert ("train-head" in names) == survives


def test_delete_preconditions(crd: client.CustomObjectsApi, ns: str) -> None:
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    with pytest.raises(ApiException) as mismatch:
        crd.delete_namespaced_custom_object(
            *RAY, ns, "rayjobs", "train", body={"preconditions": {"uid": "not-it"}}
        )
    assert mismatch.value.status == 409


def test_read_only_kinds_refuse_writes(crd: client.CustomObjectsApi, ns: str) -> None:
    binding = {"metadata": {"name": "x-rayjob"}, "spec": {}}
    with pytest.raises(ApiException) as refused:
        crd.create_namespaced_custom_object(
            "work.karmada.io", "v1alpha2", ns, "resourcebindings", binding
        )
    assert refused.value.status == 405
    clusters = crd.list_cluster_custom_object("cluster.karmada.io", "v1alpha1", "clusters")
    assert [c["metadata"]["name"] for c in clusters["items"]] == ["member1", "member2"]
    one = crd.get_cluster_custom_object("cluster.karmada.io", "v1alpha1", "clusters", "member1")
    assert one["kind"] == "Cluster"


def test_discovery_serves_the_dynamic_client(api: client.ApiClient, ns: str) -> None:
    assert client.VersionApi(api).get_code().major == "1"
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert {"ray.io", "kubeflow.org", "policy.karmada.io", "work.karmada.io"} <= groups
    dynamic = DynamicClient(api)
    rayjobs = dynamic.resources.get(api_version="ray.io/v1", kind="RayJob")
    rayjobs.create(body=rayjob("dyn"), namespace=ns)
    listed = rayjobs.get(namespace=ns)
    assert [item.metadata.name for item in listed.items] == ["dyn"]
    pp = dynamic.resources.get(api_version="policy.karmada.io/v1alpha1", kind="PropagationPolicy")
    assert pp.namespaced
    assert "pp" in pp.short_names
    mpi = dynamic.resources.get(api_version="kubeflow.org/v2beta1", kind="MPIJob")
    assert mpi.name == "mpijobs"
    assert RAYJOB.group_resource == "rayjobs.ray.io"


def test_unknown_paths_are_404_status(api: client.ApiClient) -> None:
    for path in ("/apis/nope.io/v1", "/apis/ray.io/v1/widgets", "/something"):
        response = api.rest_client.pool_manager.request("GET", api.configuration.host + path)
        assert response.status == 404
        assert orjson.loads(response.data)["kind"] == "Status"


def test_job_delete_orphans_pods_by_default_with_a_warning(api: client.ApiClient, ns: str) -> None:
    batch = client.BatchV1Api(api)
    core = client.CoreV1Api(api)
    job = batch.create_namespaced_job(ns, prep_job())
    ref = client.V1OwnerReference(
        api_version="batch/v1", kind="Job", name="prep", uid=job.metadata.uid, controller=True
    )
    core.create_namespaced_pod(
        ns,
        client.V1Pod(
            metadata=client.V1ObjectMeta(
                name="prep-abcde", labels={"job-name": "prep"}, owner_references=[ref]
            ),
            spec=client.V1PodSpec(containers=[client.V1Container(name="main", image="busybox")]),
        ),
    )
    _, code, headers = batch.delete_namespaced_job_with_http_info("prep", ns)
    assert code == 200
    assert "child pods are preserved by default" in headers["Warning"]
    orphan = core.read_namespaced_pod("prep-abcde", ns)
    assert orphan.metadata.owner_references is None


def test_delete_collection_and_pod_phase_field_selector(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map(
            ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"drop": name}))
        )
    core.delete_collection_namespaced_config_map(ns, label_selector="drop in (a,b)")
    assert [c.metadata.name for c in core.list_namespaced_config_map(ns).items] == ["c"]
    spec = client.V1PodSpec(containers=[client.V1Container(name="main", image="x")])
    core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="p"), spec=spec))
    core.patch_namespaced_pod_status("p", ns, {"status": {"phase": "Running"}})
    running = core.list_namespaced_pod(ns, field_selector="status.phase=Running")
    assert [p.metadata.name for p in running.items] == ["p"]
    assert core.list_namespaced_pod(ns, field_selector="status.phase=Pending").items == []


def test_namespace_delete_terminates_then_removes(api: client.ApiClient) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"))
    )
    core.delete_namespace(ns)
    with pytest.raises(ApiException) as gone:
        core.read_namespace(ns)
    assert gone.value.status == 404
    assert core.list_namespaced_config_map(ns).items == []


def test_system_namespaces_and_openapi_v3(api: client.ApiClient) -> None:
    names = {n.metadata.name for n in client.CoreV1Api(api).list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names
    pool = api.rest_client.pool_manager
    root = orjson.loads(pool.request("GET", api.configuration.host + "/openapi/v3").data)
    url = root["paths"]["apis/ray.io/v1"]["serverRelativeURL"]
    doc = orjson.loads(pool.request("GET", api.configuration.host + url).data)
    patch = doc["paths"]["/apis/ray.io/v1/namespaces/{namespace}/rayjobs/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "ray.io",
        "version": "v1",
        "kind": "RayJob",
    }
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("POST", "/apis/ray.io/v1/namespaces/{ns}/rayjobs", b"{not json", 400),
        ("POST", "/apis/ray.io/v1/namespaces/{ns}/rayjobs", b"[1, 2]", 400),
        ("POST", "/apis/ray.io/v1/namespaces/{ns}/rayjobs", b'{"kind": "PyTorchJob"}', 400),
        ("POST", "/apis/ray.io/v1/rayjobs", b'{"metadata": {"name": "x"}}', 405),
        ("GET", "/apis/ray.io/v1/rayjobs?limit=abc", b"", 400),
        ("PUT", "/apis/ray.io/v1/namespaces/{ns}/rayjobs/a", b'{"metadata": {"name": "b"}}', 400),
        ("PATCH", "/apis/ray.io/v1/namespaces/{ns}/rayjobs/a", b"{}", 415),
        ("GET", "/api/v1/namespaces/{ns}/pods/a/exec", b"", 404),
    ],
)
def test_malformed_requests_get_4xx_status(
    api: client.ApiClient, ns: str, method: str, path: str, body: bytes, code: int
) -> None:
    response = api.rest_client.pool_manager.request(
        method,
        api.configuration.host + path.format(ns=ns),
        body=body or None,
        headers={"Content-Type": "application/json"},
    )
    assert response.status == code
    status = orjson.loads(response.data)
    assert (status["kind"], status["code"]) == ("Status", code)
