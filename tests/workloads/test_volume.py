"""The results volume: a created PVC only when needed."""

from __future__ import annotations

import dataclasses

from ml_platform.workloads import WorkloadSettings, WorkloadSpec, render

from .manifests import pod_templates, validate_strictly


def test_size_without_named_claim_creates_a_pvc(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    claim = render(spec, settings).volume_claim

    assert claim == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "iris-xgb-1a2b3c4d-results",
            "namespace": "default",
            "labels": {
                "app.kubernetes.io/managed-by": "ml-platform",
                "ml-platform.io/job-id": "iris-xgb-1a2b3c4d",
                "ml-platform.io/algorithm": "xgboost",
            },
        },
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "50Gi"}}},
    }
    validate_strictly(claim)


def test_storage_class_and_access_modes_from_settings(spec: WorkloadSpec) -> None:
    settings = WorkloadSettings(volume_storage_class="nfs", volume_access_modes=("ReadWriteOnce",))

    claim = render(spec, settings).volume_claim

    assert claim is not None
    assert claim["spec"]["storageClassName"] == "nfs"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    validate_strictly(claim)


def test_named_claim_is_used_and_nothing_created(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    rendered = render(dataclasses.replace(spec, pvc_name="shared.results"), settings)

    assert rendered.volume_claim is None
    for template in pod_templates(rendered.workload):
        assert template["spec"]["volumes"] == [
            {"name": "results", "persistentVolumeClaim": {"claimName": "shared.results"}}
        ]


def test_no_size_and_no_claim_mounts_scratch_space(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    rendered = render(dataclasses.replace(spec, volume_size_gb=0), settings)

    assert rendered.volume_claim is None
    for template in pod_templates(rendered.workload):
        assert template["spec"]["volumes"] == [{"name": "results", "emptyDir": {}}]
