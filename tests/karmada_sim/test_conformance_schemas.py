"""Conformance, row 2: schemas, pruning, defaulting, `fieldValidation`, `dryRun` and OpenAPI v3.

Each test talks to the simulator over HTTP with the official client or kubectl and cites the
upstream behaviour it checks. The API-server tests run over a bare backend (nothing reconciles);
the last one reads what the full simulator writes itself.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from api_helpers import api_client
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import POLICY, RAY, WORK, policy, rayjob

from karmada_sim import decoding, openapi
from karmada_sim.resources import CLUSTER, RESOURCE_BINDING, RESOURCES
from karmada_sim.server import SimulatorServer

KUBECTL = "/usr/bin/kubectl"


@pytest.fixture(scope="module")
def api(server: SimulatorServer) -> Iterator[client.ApiClient]:
    with api_client(server.url) as opened:
        yield opened


@pytest.fixture
def crd(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


@pytest.fixture(scope="module")
def kubeconfig(server: SimulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


def status_of(exc: ApiException) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(exc.body)
    return loaded


def with_unknown_fields(name: str) -> dict[str, Any]:
    """A RayJob with unknown fields at the top of spec, in metadata and in a pod template."""
    job = rayjob(name)
    job["metadata"]["foo"] = "x"
    job["spec"]["foo"] = 1
    head = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]
    head["metadata"] = {"labels": {"role": "head"}, "generateName": "h-"}
    head["spec"]["containers"][0]["bogus"] = True
    return job


UNKNOWN = [
    "metadata.foo",
    "spec.foo",
    "spec.rayClusterSpec.headGroupSpec.template.metadata.generateName",
    "spec.rayClusterSpec.headGroupSpec.template.spec.containers[0].bogus",
]


def kubectl(kubeconfig: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
    )


# ----------------------------------------------------------------- pruning and defaulting


def test_unknown_fields_are_pruned_everywhere_and_defaults_applied(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    """A structural schema prunes every field it does not specify, in `metadata` too and in
    embedded pod templates (whose metadata controller-gen limits to labels, annotations,
    finalizers, name, namespace), then applies the schema's defaults before validation
    (kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions
    "Field pruning", "Defaulting"; kuberay ray-operator/config/crd/bases/ray.io_rayjobs.yaml)."""
    created = crd.create_namespaced_custom_object(
        *RAY, ns, "rayjobs", with_unknown_fields("pruned"), field_validation="Ignore"
    )
    stored = crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "pruned")
    for obj in (created, stored):
        assert "foo" not in obj["metadata"]
        assert "foo" not in obj["spec"]
        head = obj["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]
        assert head["metadata"] == {"labels": {"role": "head"}}
        assert head["spec"]["containers"][0] == {"name": "ray-head", "image": "rayproject/ray"}
        assert obj["spec"]["submissionMode"] == "K8sJobMode"
        assert obj["spec"]["backoffLimit"] == 0
        worker = obj["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]
        assert (worker["minReplicas"], worker["maxReplicas"], worker["numOfHosts"]) == (
            0,
            2147483647,
            1,
        )
    pp = crd.create_namespaced_custom_object(*POLICY, ns, "propagationpolicies", policy("pp"))
    assert (pp["spec"]["preemption"], pp["spec"]["priority"], pp["spec"]["conflictResolution"]) == (
        "Never",
        0,
        "Abort",
    )


# -------------------------------------------------------------------- fieldValidation


def test_strict_field_validation_is_400_naming_every_unknown_field(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    """`fieldValidation=Strict` fails the request on unknown fields with a BadRequest whose
    message is the decoder's, wrapped by transformDecodeError: `<Kind> in version "<v>" cannot
    be handled as a <Kind>: strict decoding error: unknown field "spec.foo", ...`
    (k8s.io/apiserver/pkg/endpoints/handlers/create.go, rest.go transformDecodeError)."""
    with pytest.raises(ApiException) as strict:
        crd.create_namespaced_custom_object(
            *RAY, ns, "rayjobs", with_unknown_fields("strict"), field_validation="Strict"
        )
    assert strict.value.status == 400
    status = status_of(strict.value)
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        'RayJob in version "v1" cannot be handled as a RayJob: strict decoding error: '
        + ", ".join(f'unknown field "{path}"' for path in UNKNOWN)
    )
    assert crd.list_namespaced_custom_object(*RAY, ns, "rayjobs")["items"] == []


def test_warn_is_the_default_and_sends_one_warning_header_per_field(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    """Without `fieldValidation` the apiserver uses Warn: the object is created (pruned) and
    each unknown field comes back as a `Warning: 299 - "unknown field \\"spec.foo\\""` header
    (api-concepts "Field validation"; handlers/create.go addStrictDecodingWarnings)."""
    _, code, headers = crd.create_namespaced_custom_object_with_http_info(
        *RAY, ns, "rayjobs", with_unknown_fields("warned")
    )
    assert code == 201
    warnings = headers.getlist("Warning") if hasattr(headers, "getlist") else [headers["Warning"]]
    joined = ", ".join(warnings)
    for path in UNKNOWN:
        assert f'299 - "unknown field \\"{path}\\""' in joined
    _, _, quiet = crd.create_namespaced_custom_object_with_http_info(
        *RAY, ns, "rayjobs", with_unknown_fields("ignored"), field_validation="Ignore"
    )
    assert "Warning" not in quiet


def test_a_patch_adding_an_unknown_field_is_422_on_the_patch_when_strict(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    """A PATCH whose result has unknown fields is rejected under Strict as an Invalid error on
    the field `patch` (handlers/patch.go jsonPatcher.applyPatchToCurrentObject), and pruned with
    a warning under Warn."""
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("patched"))
    with pytest.raises(ApiException) as strict:
        crd.patch_namespaced_custom_object(
            *RAY, ns, "rayjobs", "patched", {"spec": {"foo": 1}}, field_validation="Strict"
        )
    assert strict.value.status == 422
    cause = status_of(strict.value)["details"]["causes"][0]
    assert cause["field"] == "patch"
    assert cause["message"].endswith('strict decoding error: unknown field "spec.foo"')
    _, _, headers = crd.patch_namespaced_custom_object_with_http_info(
        *RAY, ns, "rayjobs", "patched", {"spec": {"foo": 1, "suspend": True}}
    )
    assert headers["Warning"] == '299 - "unknown field \\"spec.foo\\""'
    stored = crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "patched")
    assert stored["spec"]["suspend"] is True
    assert "foo" not in stored["spec"]


def test_unsupported_field_validation_and_dry_run_values_are_422(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    """Options are validated before the body: `fieldValidation` must be "", Ignore, Strict or
    Warn and `dryRun` only "All" (apimachinery metav1 validation ValidateCreateOptions)."""
    for options in ({"field_validation": "strict"}, {"dry_run": "Yes"}):
        with pytest.raises(ApiException) as refused:
            crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("opt"), **options)
        assert refused.value.status == 422
        assert status_of(refused.value)["details"]["causes"][0]["reason"] == (
            "FieldValueNotSupported"
        )


# ------------------------------------------------------------------ types and values


def test_a_string_replicas_is_422_with_a_type_cause(crd: client.CustomObjectsApi, ns: str) -> None:
    """Custom resources are validated against their OpenAPI schema after decoding: a wrong type
    is 422 Invalid with a FieldValueTypeInvalid cause "... in body must be of type integer:
    \\"string\\"" (apiextensions-apiserver pkg/apiserver/validation, kube-openapi validate)."""
    job = rayjob("typed")
    job["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["replicas"] = "2"
    with pytest.raises(ApiException) as invalid:
        crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", job)
    assert invalid.value.status == 422
    status = status_of(invalid.value)
    field = "spec.rayClusterSpec.workerGroupSpecs[0].replicas"
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"] == [
        {
            "reason": "FieldValueTypeInvalid",
            "message": f'Invalid value: "string": {field} in body must be of type integer: '
            '"string"',
            "field": field,
        }
    ]
    assert status["message"].startswith('RayJob.ray.io "typed" is invalid: ' + field)


def test_a_built_in_kind_with_a_wrong_type_cannot_be_decoded(
    api: client.ApiClient, ns: str
) -> None:
    """Built-in kinds decode into Go structs first: a wrong type is a 400 BadRequest worded by
    encoding/json and transformDecodeError ("Job in version \\"v1\\" cannot be handled as a Job:
    json: cannot unmarshal string into Go struct field JobSpec.spec.parallelism of type int32")."""
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "typed"},
        "spec": {
            "parallelism": "2",
            "template": {
                "spec": {"restartPolicy": "Never", "containers": [{"name": "a", "image": "b"}]}
            },
        },
    }
    # The official client checks types itself (pydantic), so this body is sent as raw JSON.
    answer = api.rest_client.pool_manager.request(
        "POST",
        f"{api.configuration.host}/apis/batch/v1/namespaces/{ns}/jobs",
        body=orjson.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 400
    assert orjson.loads(answer.data)["message"] == (
        'Job in version "v1" cannot be handled as a Job: json: cannot unmarshal string into Go '
        "struct field JobSpec.spec.parallelism of type int32"
    )


def test_a_bad_container_name_fails_a_job_but_not_a_rayjob(
    api: client.ApiClient, crd: client.CustomObjectsApi, ns: str
) -> None:
    """Pod validation checks container names as DNS-1123 labels (pkg/apis/core/validation
    validateContainers), so a Job is 422; a RayJob's CRD schema has no such pattern
    (ray.io_rayjobs.yaml), so the apiserver stores it and only KubeRay's pods would fail."""
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "named"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "Bad_Name", "image": "b"}],
                }
            }
        },
    }
    with pytest.raises(ApiException) as invalid:
        client.BatchV1Api(api).create_namespaced_job(ns, body)
    assert invalid.value.status == 422
    cause = status_of(invalid.value)["details"]["causes"][0]
    assert cause["field"] == "spec.template.spec.containers[0].name"
    assert cause["message"].startswith('Invalid value: "Bad_Name": a lowercase RFC 1123 label')
    job = rayjob("named")
    job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["name"] = (
        "Bad_Name"
    )
    assert crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", job)["metadata"]["uid"]


def test_a_malformed_quantity_is_422_for_a_rayjob_and_400_for_a_pod(
    api: client.ApiClient, crd: client.CustomObjectsApi, ns: str
) -> None:
    """A CRD's quantity is `x-kubernetes-int-or-string` with controller-gen's pattern, so a bad
    one is 422 "should match"; a Pod's fails resource.ParseQuantity while decoding: 400
    "quantities must match the regular expression ..."."""
    job = rayjob("sized")
    container = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    container["resources"] = {"limits": {"cpu": "two"}}
    with pytest.raises(ApiException) as invalid:
        crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", job)
    assert invalid.value.status == 422
    cause = status_of(invalid.value)["details"]["causes"][0]
    assert cause["field"].endswith("containers[0].resources.limits.cpu")
    assert "in body should match" in cause["message"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "sized"},
        "spec": {
            "containers": [{"name": "a", "image": "b", "resources": {"limits": {"cpu": "two"}}}]
        },
    }
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(api).create_namespaced_pod(ns, pod)
    assert refused.value.status == 400
    assert status_of(refused.value)["message"].startswith(
        'Pod in version "v1" cannot be handled as a Pod: quantities must match the regular '
        "expression"
    )


def test_an_unknown_spread_by_field_is_an_unsupported_value(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    """Karmada's CRD restricts `spreadByField` to cluster, region, zone, provider (policy.karmada.io
    _propagationpolicies.yaml enum): anything else is 422 FieldValueNotSupported."""
    body = policy("spread", placement={"spreadConstraints": [{"spreadByField": "rack"}]})
    with pytest.raises(ApiException) as invalid:
        crd.create_namespaced_custom_object(*POLICY, ns, "propagationpolicies", body)
    assert invalid.value.status == 422
    assert status_of(invalid.value)["details"]["causes"] == [
        {
            "reason": "FieldValueNotSupported",
            "message": 'Unsupported value: "rack": supported values: "cluster", "region", '
            '"zone", "provider"',
            "field": "spec.placement.spreadConstraints[0].spreadByField",
        }
    ]


# ------------------------------------------------------------------------------ dryRun


def test_dry_run_answers_every_write_without_storing_or_notifying(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    """`dryRun=All` runs every stage of a create, update, patch or delete except the write to
    storage: the answer is what would be stored (a dry-run create has no resourceVersion), no
    watch event is sent and nothing changes (api-concepts "Dry-run";
    apiserver pkg/registry/generic/registry/dryrun.go)."""
    since = crd.list_namespaced_custom_object(*RAY, ns, "rayjobs")["metadata"]["resourceVersion"]
    tried = crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("dry"), dry_run="All")
    assert tried["metadata"]["uid"]
    assert "resourceVersion" not in tried["metadata"]
    assert crd.list_namespaced_custom_object(*RAY, ns, "rayjobs")["items"] == []
    real = crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("dry"))
    version = real["metadata"]["resourceVersion"]
    replaced = {**real, "spec": {**real["spec"], "suspend": True}}
    answer = crd.replace_namespaced_custom_object(
        *RAY, ns, "rayjobs", "dry", replaced, dry_run="All"
    )
    assert answer["spec"]["suspend"] is True
    patched = crd.patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "dry", {"metadata": {"labels": {"a": "b"}}}, dry_run="All"
    )
    assert patched["metadata"]["labels"] == {"a": "b"}
    deleted = crd.delete_namespaced_custom_object(*RAY, ns, "rayjobs", "dry", dry_run="All")
    assert deleted["status"] == "Success"
    stored = crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "dry")
    assert stored["metadata"]["resourceVersion"] == version
    assert "suspend" not in stored["spec"]
    assert stored["metadata"]["labels"] == {}
    events = crd.list_namespaced_custom_object(
        *RAY,
        ns,
        "rayjobs",
        watch=True,
        resource_version=since,
        timeout_seconds=1,
        _preload_content=False,
    )
    lines = [orjson.loads(line) for line in events.data.splitlines() if line.strip()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in lines] == [("ADDED", "dry")]


def test_a_dry_run_is_validated_like_a_real_write(crd: client.CustomObjectsApi, ns: str) -> None:
    """Dry-run requests go through decoding, defaulting and validation like real ones, so an
    invalid object fails the same way (api-concepts "Dry-run": "validated, ... not persisted")."""
    with pytest.raises(ApiException) as strict:
        crd.create_namespaced_custom_object(
            *RAY,
            ns,
            "rayjobs",
            with_unknown_fields("dry"),
            dry_run="All",
            field_validation="Strict",
        )
    assert strict.value.status == 400


# --------------------------------------------------------------------- OpenAPI, kubectl


def test_openapi_v3_lists_hashed_documents_with_every_kind(api: client.ApiClient) -> None:
    """`/openapi/v3` lists one document per group-version with a `serverRelativeURL` carrying
    `?hash=`; each document holds components with `x-kubernetes-group-version-kind`
    (k8s.io/kube-openapi/pkg/handler3; kubernetes.io/docs/concepts/overview/kubernetes-api)."""
    pool = api.rest_client.pool_manager
    root = orjson.loads(pool.request("GET", api.configuration.host + "/openapi/v3").data)
    url = root["paths"]["apis/ray.io/v1"]["serverRelativeURL"]
    assert "?hash=" in url
    doc = orjson.loads(pool.request("GET", api.configuration.host + url).data)
    rayjob_schema = doc["components"]["schemas"]["io.ray.v1.RayJob"]
    assert rayjob_schema["x-kubernetes-group-version-kind"] == [
        {"group": "ray.io", "version": "v1", "kind": "RayJob"}
    ]
    assert "io.k8s.api.core.v1.PodSpec" in doc["components"]["schemas"]
    core_url = root["paths"]["api/v1"]["serverRelativeURL"]
    core = orjson.loads(pool.request("GET", api.configuration.host + core_url).data)
    assert "containers" in core["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]


def test_kubectl_explain_finds_custom_and_built_in_fields(kubeconfig: Path) -> None:
    """`kubectl explain` reads the OpenAPI v3 document of the kind's group-version and walks
    its schema (kubectl explain, k8s.io/kubectl/pkg/explain/v2)."""
    done = kubectl(kubeconfig, "explain", "rayjob.spec.rayClusterSpec.workerGroupSpecs.replicas")
    assert done.returncode == 0, done.stderr
    assert "FIELD: replicas <integer>" in done.stdout
    done = kubectl(kubeconfig, "explain", "pp.spec.placement.spreadConstraints.spreadByField")
    assert done.returncode == 0, done.stderr
    assert "ENUM:\n    cluster\n    region\n    zone\n    provider" in done.stdout
    done = kubectl(kubeconfig, "explain", "jobs.spec.template.spec.containers.image")
    assert done.returncode == 0, done.stderr
    assert "Container image name" in done.stdout


def test_kubectl_validates_on_the_server_and_dry_runs_there(kubeconfig: Path, ns: str) -> None:
    """kubectl sends `fieldValidation=Strict` when the OpenAPI document offers the parameter
    (`--validate=strict`, the default), `Warn` for `--validate=warn`, and `dryRun=All` for
    `--dry-run=server` (kubectl create --help; k8s.io/cli-runtime resource helper)."""
    manifest = yaml.safe_dump(with_unknown_fields("from-kubectl"))
    strict = kubectl(kubeconfig, "create", "-n", ns, "-f", "-", stdin=manifest)
    assert strict.returncode != 0
    assert 'strict decoding error: unknown field "metadata.foo"' in strict.stderr
    warned = kubectl(
        kubeconfig,
        "create",
        "-n",
        ns,
        "-f",
        "-",
        "--validate=warn",
        "--dry-run=server",
        stdin=manifest,
    )
    assert warned.returncode == 0, warned.stderr
    assert 'Warning: unknown field "spec.foo"' in warned.stderr
    assert "created (server dry run)" in warned.stdout
    listed = kubectl(kubeconfig, "get", "rayjobs", "-n", ns, "-o", "name")
    assert listed.stdout.strip() == ""


# ------------------------------------------------------------- the simulator's own objects


def test_what_the_simulator_writes_conforms_to_its_schemas(sim_server: SimulatorServer) -> None:
    """The bindings and clusters the simulator writes itself decode under Strict with nothing
    pruned, so the schemas served for them describe them (karmada work/v1alpha2 and cluster
    v1alpha1 types)."""
    ns = "conform"
    sim_server.create_namespace(ns)
    with api_client(sim_server.url) as api:
        crd = client.CustomObjectsApi(api)
        crd.create_namespaced_custom_object(*POLICY, ns, "propagationpolicies", policy("pp"))
        crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
        deadline = time.monotonic() + 10
        bindings: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not bindings:
            items = crd.list_namespaced_custom_object(*WORK, ns, "resourcebindings")["items"]
            bindings = [b for b in items if b.get("spec", {}).get("clusters")]
            time.sleep(0.05)
        assert bindings
        clusters = crd.list_cluster_custom_object("cluster.karmada.io", "v1alpha1", "clusters")
    for binding in bindings:
        assert decoding.decode(RESOURCE_BINDING, binding, directive="Strict").warnings == []
    for cluster in clusters["items"]:
        assert decoding.decode(CLUSTER, cluster, directive="Strict").warnings == []


def test_every_served_kind_has_a_schema_and_an_openapi_component() -> None:
    """Every kind discovery lists is decoded against a schema and described in OpenAPI v3, as
    every CRD version with a structural schema is (apiextensions: `schema` is required in v1)."""
    for res in RESOURCES:
        assert decoding.schema_for(res).properties is not None, res.kind
        document = orjson.loads(openapi.group_version(openapi.gv_path(res)) or b"{}")
        assert openapi.schema_name(res) in document["components"]["schemas"], res.kind
