"""WorkloadSpec refuses values that cannot become valid Kubernetes objects."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ml_platform.workloads import WorkloadSpec, WorkloadSpecError

from .specs import reference_spec


@pytest.mark.parametrize(
    "job_id",
    [
        "a" * 48,  # KubeRay's limit is 47
        "Iris-xgb-1a2b3c4d",
        "1iris-1a2b3c4d",
        "iris_xgb-1a2b3c4d",
        "iris-xgb-",
        "",
        "iris\nkind: Secret",
        "iris.xgb",
    ],
)
def test_job_id_must_be_a_dns1035_label_within_47_chars(job_id: str) -> None:
    with pytest.raises(WorkloadSpecError, match="job_id"):
        dataclasses.replace(reference_spec(), job_id=job_id)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("namespace", "Default"),
        ("namespace", "a" * 64),
        ("namespace", "ns\n  labels: {}"),
        ("pvc_name", "Results"),
        ("pvc_name", "results/../other"),
        ("pvc_name", "results\nstorage: 1Ti"),
        ("target_clusters", ("member1", "member 2")),
        ("target_clusters", ("member1\n- member2",)),
    ],
)
def test_names_that_reach_kubernetes_fields_are_checked(field: str, value: Any) -> None:
    with pytest.raises(WorkloadSpecError, match="not a valid Kubernetes name"):
        dataclasses.replace(reference_spec(), **{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cpu_cores", 0),
        ("memory_gib", 0),
        ("gpu_count", -1),
        ("instance_count", 0),
        ("volume_size_gb", -1),
        ("max_runtime_seconds", 0),
        ("instance_count", True),
        ("cpu_cores", 2.5),
    ],
)
def test_counts_must_be_integers_in_range(field: str, value: Any) -> None:
    with pytest.raises(WorkloadSpecError, match=field):
        dataclasses.replace(reference_spec(), **{field: value})


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(WorkloadSpecError, match="unknown workload kind"):
        dataclasses.replace(reference_spec(), kind="Deployment")  # type: ignore[arg-type]


def test_valid_edge_values_are_accepted() -> None:
    spec = dataclasses.replace(
        reference_spec(),
        job_id="a" * 47,
        namespace="a" * 63,
        pvc_name="team.results-1",
        gpu_count=0,
        volume_size_gb=0,
        target_clusters=(),
    )

    assert spec.job_id == "a" * 47


def test_spec_is_immutable(spec: WorkloadSpec) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.job_id = "other"  # type: ignore[misc]
