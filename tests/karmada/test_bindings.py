"""Where a job's ResourceBinding is found: the name the template's annotation gives, else
Karmada's naming rule."""

from __future__ import annotations

from ml_platform.jobs.models import TrainingJob
from ml_platform.karmada.bindings import BINDING_NAME_ANNOTATION, binding_name, binding_ref
from ml_platform.karmada.resources import RESOURCE_BINDING


def _job(workload_name: str | None) -> TrainingJob:
    return TrainingJob(
        id="iris-0000abcd",
        namespace="team",
        workload_kind="PyTorchJob",
        workload_name=workload_name,
    )


def test_without_an_annotation_the_name_follows_karmadas_rule() -> None:
    assert binding_name("iris-0000abcd", "RayJob", None) == "iris-0000abcd-rayjob"
    assert binding_name("iris-0000abcd", "RayJob", {"other": "x"}) == "iris-0000abcd-rayjob"
    assert binding_name("iris-0000abcd", "RayJob", {BINDING_NAME_ANNOTATION: ""}) == (
        "iris-0000abcd-rayjob"
    )


def test_the_templates_annotation_wins() -> None:
    annotations = {BINDING_NAME_ANNOTATION: "renamed-binding"}
    assert binding_name("iris-0000abcd", "RayJob", annotations) == "renamed-binding"


def test_a_jobs_binding_ref() -> None:
    ref = binding_ref(_job("iris-0000abcd"))
    assert (ref.resource, ref.namespace, ref.name) == (
        RESOURCE_BINDING,
        "team",
        "iris-0000abcd-pytorchjob",
    )
    named = binding_ref(_job("iris-0000abcd"), {BINDING_NAME_ANNOTATION: "elsewhere"})
    assert (named.namespace, named.name) == ("team", "elsewhere")


def test_a_job_without_a_workload_name_uses_its_id() -> None:
    assert binding_ref(_job(None)).name == "iris-0000abcd-pytorchjob"
