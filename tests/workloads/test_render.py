"""Properties every rendered job has, whatever its kind."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

import pytest

from ml_platform.workloads import (
    PROPAGATION_POLICY_API,
    VOLUME_CLAIM_API,
    WORKLOAD_APIS,
    WorkloadKind,
    WorkloadSettings,
    render,
)

from .manifests import containers, dicts_with_key, pod_templates, validate_pod_templates, walk
from .specs import spec_for

LABELS = {
    "app.kubernetes.io/managed-by": "ml-platform",
    "ml-platform.io/job-id": "iris-xgb-1a2b3c4d",
}
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

# Fields each CRD's schema marks required (KubeRay, training-operator, mpi-operator, Karmada).
REQUIRED_SPEC_PATHS: dict[WorkloadKind, list[tuple[str, ...]]] = {
    WorkloadKind.RAY_JOB: [
        ("entrypoint",),
        ("rayClusterSpec", "headGroupSpec", "template", "spec", "containers"),
    ],
    WorkloadKind.PYTORCH_JOB: [("pytorchReplicaSpecs", "Master", "template", "spec")],
    WorkloadKind.TF_JOB: [("tfReplicaSpecs", "Chief", "template", "spec")],
    WorkloadKind.MPI_JOB: [
        ("mpiReplicaSpecs", "Launcher", "template", "spec"),
        ("mpiReplicaSpecs", "Worker", "template", "spec"),
    ],
    WorkloadKind.JOB: [("template", "spec", "containers")],
}


def dig(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def test_objects_are_in_creation_order(kind: WorkloadKind, settings: WorkloadSettings) -> None:
    with_claim = render(spec_for(kind), settings)
    without_claim = render(spec_for(kind, volume_size_gb=0), settings)

    # An MPIJob's PVC has a policy of its own (its kind declares no dependencies).
    policies = ["PropagationPolicy"] * (2 if kind is WorkloadKind.MPI_JOB else 1)
    assert [o["kind"] for o in with_claim.objects] == [
        *policies,
        "PersistentVolumeClaim",
        with_claim.workload["kind"],
    ]
    assert without_claim.objects == (without_claim.policy, without_claim.workload)


def test_every_object_and_pod_template_carries_the_job_labels(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    rendered = render(spec_for(kind), settings)
    algorithm = rendered.workload["metadata"]["labels"]["ml-platform.io/algorithm"]

    labelled = [o["metadata"] for o in rendered.objects]
    labelled += [t["metadata"] for t in pod_templates(rendered.workload)]
    assert len(labelled) == len(rendered.objects) + len(pod_templates(rendered.workload))
    for metadata in labelled:
        assert metadata["labels"] == LABELS | {"ml-platform.io/algorithm": algorithm}
    assert algorithm == spec_for(kind).algorithm


def test_apis_table_matches_the_manifests(kind: WorkloadKind, settings: WorkloadSettings) -> None:
    rendered = render(spec_for(kind), settings)
    api = WORKLOAD_APIS[kind]

    assert (rendered.workload["apiVersion"], rendered.workload["kind"]) == (
        api.api_version,
        api.kind,
    )
    assert rendered.policy["apiVersion"] == PROPAGATION_POLICY_API.api_version
    assert rendered.volume_claim is not None
    assert rendered.volume_claim["apiVersion"] == VOLUME_CLAIM_API.api_version


def test_names_are_valid_for_the_longest_job_id(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    job_id = "a" * 38 + "-0123abcd"
    assert len(job_id) == 47

    rendered = render(spec_for(kind, job_id=job_id), settings)

    assert rendered.workload["metadata"]["name"] == job_id
    assert DNS1035.fullmatch(rendered.workload["metadata"]["name"])
    for manifest in rendered.objects:
        name = manifest["metadata"]["name"]
        assert len(name) <= 63
        assert DNS1123_SUBDOMAIN.fullmatch(name)
        assert manifest["metadata"]["namespace"] == "default"


def test_pod_templates_pass_strict_kubernetes_validation(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    for variant in (
        spec_for(kind),
        spec_for(kind, instance_count=1, gpu_count=2, volume_size_gb=0),
        spec_for(kind, pvc_name="team-results", entrypoint="python train.py"),
    ):
        validate_pod_templates(render(variant, settings))


def test_custom_resources_have_their_required_fields(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    rendered = render(spec_for(kind), settings)

    for manifest in rendered.objects:
        assert {"apiVersion", "kind", "metadata", "spec"} <= set(manifest)
    for path in REQUIRED_SPEC_PATHS[kind]:
        assert dig(rendered.workload["spec"], path)
    for selector in rendered.policy["spec"]["resourceSelectors"]:
        assert selector["apiVersion"]
        assert selector["kind"]


def test_credentials_only_as_secret_references(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    canary = "canary-secret-value-3f9d"
    spec = spec_for(
        kind,
        custom_hyperparameters={"aws_secret_access_key": canary, "aws_access_key_id": canary},
        hyperparameter_env={"AWS_SECRET_ACCESS_KEY": canary},
    )
    rendered = render(spec, settings)

    assert canary not in json.dumps(rendered.objects)
    for container in containers(rendered.workload):
        credentials = [e for e in container["env"] if e["name"].startswith("AWS_")]
        assert [e["name"] for e in credentials] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        for entry in credentials:
            assert set(entry) == {"name", "valueFrom"}
            assert entry["valueFrom"]["secretKeyRef"]["name"] == "ml-platform-s3-credentials"
        names = [e["name"] for e in container["env"]]
        assert len(names) == len(set(names))
    # Nothing anywhere pulls a whole Secret into the environment or inlines its data.
    assert not dicts_with_key(rendered.objects, "envFrom")
    assert not dicts_with_key(rendered.objects, "stringData")


def test_secret_reference_follows_settings(kind: WorkloadKind) -> None:
    settings = WorkloadSettings(
        s3_secret_name="team-s3",
        s3_access_key_id_key="AWS_ACCESS_KEY_ID",
        s3_secret_access_key_key="AWS_SECRET_ACCESS_KEY",
        s3_secret_optional=False,
    )

    refs = [
        e["valueFrom"]["secretKeyRef"]
        for c in containers(render(spec_for(kind), settings).workload)
        for e in c["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    ]

    assert refs
    for ref in refs:
        assert ref["name"] == "team-s3"
        assert ref["key"] in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
        assert ref["optional"] is False


def test_rendering_is_pure_and_json_serialisable(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    spec = spec_for(kind, custom_hyperparameters={"lr": 0.5})
    before = copy.deepcopy(spec)

    first, second = render(spec, settings), render(spec, settings)

    assert first == second
    assert spec == before
    assert json.loads(json.dumps(first.objects)) == list(first.objects)


def test_no_mutable_node_is_shared(kind: WorkloadKind, settings: WorkloadSettings) -> None:
    # A dict shared between replicas, renders or a module constant would let an edit by a
    # caller (or a client library) leak into other objects.
    spec = spec_for(kind)
    first, second = render(spec, settings).objects, render(spec, settings).objects

    def node_ids(objects: tuple[dict[str, Any], ...]) -> list[int]:
        return [id(v) for p, v in walk(list(objects)) if p and isinstance(v, dict | list)]

    first_ids, second_ids = node_ids(first), node_ids(second)
    assert len(first_ids) == len(set(first_ids))
    assert not set(first_ids) & set(second_ids)


def test_free_text_algorithm_name_becomes_a_valid_label(settings: WorkloadSettings) -> None:
    spec = spec_for(
        WorkloadKind.JOB,
        algorithm="My Trainer: v2 / ünïcode" + "x" * 100,
        image="registry.local/t:1",
    )

    for _, value in walk(render(spec, settings).objects):
        if isinstance(value, dict) and "ml-platform.io/algorithm" in value:
            label = value["ml-platform.io/algorithm"]
            assert LABEL_VALUE.fullmatch(label)
            assert len(label) <= 63
            assert label.startswith("My-Trainer-v2")


def test_kind_accepts_an_equal_string_value() -> None:
    spec = dataclasses.replace(spec_for(WorkloadKind.TF_JOB), kind="TFJob")  # type: ignore[arg-type]

    assert spec.kind is WorkloadKind.TF_JOB


@pytest.mark.parametrize("kind", list(WorkloadKind), ids=str)
def test_every_kind_renders_from_its_catalogue_algorithm(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    assert render(spec_for(kind), settings).workload["kind"] == WORKLOAD_APIS[kind].kind
