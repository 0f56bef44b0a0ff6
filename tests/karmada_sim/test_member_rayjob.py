"""A member cluster's RayJob lifecycle (KubeRay semantics), read through the Karmada cluster
proxy with the official client. Timings: init 30 s, pending 5 s, run 60 s (conftest.SLOW)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import RAY, create, get, pods, rayjob

from karmada_sim.server import SimulatorServer

Member = Callable[[str], client.ApiClient]


@pytest.fixture
def m1(member: Member) -> client.ApiClient:
    return member("member1")


def status(api: client.ApiClient, ns: str, name: str) -> dict[str, object]:
    result: dict[str, object] = get(api, RAY, ns, "rayjobs", name).get("status") or {}
    return result


def test_successful_rayjob_walks_kuberay_states(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m1, RAY, ns, "rayjobs", rayjob("train", workers=2))
    sim_server.advance(0)
    obj = get(m1, RAY, ns, "rayjobs", "train")
    assert obj["metadata"]["finalizers"] == ["ray.io/rayjob-finalizer"]
    first = obj["status"]
    assert first["jobDeploymentStatus"] == "Initializing"
    cluster = first["rayClusterName"]
    assert cluster.startswith("train-")
    assert len(cluster) == len("train-") + 5
    assert first["jobId"].startswith("train-")
    assert first["jobId"] != cluster
    assert "startTime" in first
    assert all(p.status.phase == "Pending" for p in pods(m1, ns).values())

    sim_server.advance(30)
    running = status(m1, ns, "train")
    assert (running["jobDeploymentStatus"], running["jobStatus"]) == ("Running", "PENDING")
    head = running["rayClusterStatus"]["head"]  # type: ignore[index]
    assert running["dashboardURL"] == f"{cluster}-head-svc.{ns}.svc.cluster.local:8265"
    heads = pods(m1, ns, "ray.io/node-type=head")
    assert list(heads) == [head["podName"]]
    head_pod = heads[head["podName"]]
    assert head_pod.metadata.name.startswith(f"{cluster}-head-")
    assert head_pod.metadata.generate_name == f"{cluster}-head-"
    assert head_pod.metadata.labels["ray.io/cluster"] == cluster
    assert head_pod.metadata.labels["ray.io/group"] == "headgroup"
    assert head_pod.metadata.labels["ray.io/is-ray-node"] == "yes"
    assert head_pod.spec.containers[0].name == "ray-head"
    assert head_pod.status.pod_ip == head["podIP"]
    assert len(pods(m1, ns, f"ray.io/cluster={cluster},ray.io/node-type=worker")) == 2
    submitter = client.BatchV1Api(m1).read_namespaced_job("train", ns)
    assert submitter.metadata.owner_references[0].kind == "RayJob"
    assert len(pods(m1, ns, "job-name=train")) == 1

    sim_server.advance(5)
    assert status(m1, ns, "train")["jobStatus"] == "RUNNING"
    sim_server.advance(60)
    done = status(m1, ns, "train")
    assert (done["jobDeploymentStatus"], done["jobStatus"]) == ("Complete", "SUCCEEDED")
    assert done["succeeded"] == 1
    assert "failed" not in done
    start = datetime.fromisoformat(str(done["startTime"]).replace("Z", "+00:00"))
    end = datetime.fromisoformat(str(done["endTime"]).replace("Z", "+00:00"))
    assert 94 <= (end - start).total_seconds() <= 96
    job = client.BatchV1Api(m1).read_namespaced_job("train", ns)
    assert [c.type for c in job.status.conditions] == ["SuccessCriteriaMet", "Complete"]
    # no shutdownAfterJobFinishes: the RayCluster stays
    assert head["podName"] in pods(m1, ns)


def test_failure_annotation_fails_with_app_failed_and_a_traceback(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    body = rayjob("boom", annotations={"sim.ml-platform.io/outcome": "fail"})
    create(m1, RAY, ns, "rayjobs", body)
    sim_server.advance(0)
    sim_server.advance(100)
    done = status(m1, ns, "boom")
    assert (done["jobDeploymentStatus"], done["jobStatus"]) == ("Failed", "FAILED")
    assert done["reason"] == "AppFailed"
    assert done["failed"] == 1
    (submitter,) = pods(m1, ns, "job-name=boom")
    log = client.CoreV1Api(m1).read_namespaced_pod_log(submitter, ns)
    assert "Traceback (most recent call last):" in log
    assert f"Job '{done['jobId']}' failed" in log


def test_duration_and_init_annotations_override_timings(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    annotations = {
        "sim.ml-platform.io/init-seconds": "1",
        "sim.ml-platform.io/duration-seconds": "2",
    }
    create(m1, RAY, ns, "rayjobs", rayjob("quick", annotations=annotations))
    sim_server.advance(0)
    sim_server.advance(1)  # cluster ready
    sim_server.advance(5)  # pending 5 s
    assert status(m1, ns, "quick")["jobStatus"] == "RUNNING"
    sim_server.advance(2)
    assert status(m1, ns, "quick")["jobDeploymentStatus"] == "Complete"


def test_active_deadline_fails_with_deadline_exceeded_and_no_retry(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m1, RAY, ns, "rayjobs", rayjob("late", activeDeadlineSeconds=40, backoffLimit=3))
    sim_server.advance(0)
    sim_server.advance(41)
    done = status(m1, ns, "late")
    assert (done["jobDeploymentStatus"], done["reason"]) == ("Failed", "DeadlineExceeded")
    assert "activeDeadlineSeconds" in str(done["message"])
    sim_server.advance(100)
    assert status(m1, ns, "late")["jobDeploymentStatus"] == "Failed"


def test_backoff_limit_retries_with_a_new_cluster(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    body = rayjob("retry", annotations={"sim.ml-platform.io/outcome": "fail"}, backoffLimit=1)
    create(m1, RAY, ns, "rayjobs", body)
    sim_server.advance(0)
    first_cluster = status(m1, ns, "retry")["rayClusterName"]
    sim_server.advance(95)  # first attempt fails -> Retrying -> New -> Initializing
    second = status(m1, ns, "retry")
    assert second["jobDeploymentStatus"] == "Initializing"
    assert second["failed"] == 1
    assert second["rayClusterName"] != first_cluster
    assert not pods(m1, ns, f"ray.io/cluster={first_cluster}")
    sim_server.advance(95)
    done = status(m1, ns, "retry")
    assert (done["jobDeploymentStatus"], done["failed"]) == ("Failed", 2)


def test_suspend_tears_down_and_resume_starts_again(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m1, RAY, ns, "rayjobs", rayjob("nap", shutdownAfterJobFinishes=True))
    sim_server.advance(0)
    sim_server.advance(30)
    crd = client.CustomObjectsApi(m1)
    crd.patch_namespaced_custom_object(*RAY, ns, "rayjobs", "nap", {"spec": {"suspend": True}})
    sim_server.advance(0)
    suspended = status(m1, ns, "nap")
    assert suspended["jobDeploymentStatus"] == "Suspended"
    assert "rayClusterName" not in suspended
    assert "jobStatus" not in suspended
    assert pods(m1, ns) == {}
    crd.patch_namespaced_custom_object(*RAY, ns, "rayjobs", "nap", {"spec": {"suspend": False}})
    sim_server.advance(0)
    assert status(m1, ns, "nap")["jobDeploymentStatus"] == "Initializing"


def test_suspend_without_shutdown_is_a_validation_failure(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m1, RAY, ns, "rayjobs", rayjob("bad", suspend=True))
    sim_server.advance(0)
    result = status(m1, ns, "bad")
    assert (result["jobDeploymentStatus"], result["reason"]) == (
        "ValidationFailed",
        "ValidationFailed",
    )


def test_names_longer_than_47_characters_fail_validation(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    name = "a" * 48
    create(m1, RAY, ns, "rayjobs", rayjob(name))
    sim_server.advance(0)
    result = status(m1, ns, name)
    assert result["jobDeploymentStatus"] == "ValidationFailed"
    assert result["message"] == "RayJob name should be no more than 47 characters"
    assert pods(m1, ns) == {}
    create(m1, RAY, ns, "rayjobs", rayjob("a" * 47))
    sim_server.advance(0)
    assert status(m1, ns, "a" * 47)["jobDeploymentStatus"] == "Initializing"


def test_shutdown_after_finish_with_ttl_deletes_the_cluster_keeps_the_submitter(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    body = rayjob("ttl", shutdownAfterJobFinishes=True, ttlSecondsAfterFinished=20)
    create(m1, RAY, ns, "rayjobs", body)
    sim_server.advance(0)
    sim_server.advance(95)
    cluster = status(m1, ns, "ttl")["rayClusterName"]
    assert pods(m1, ns, f"ray.io/cluster={cluster}")
    sim_server.advance(19)
    assert pods(m1, ns, f"ray.io/cluster={cluster}")
    sim_server.advance(2)
    assert pods(m1, ns, f"ray.io/cluster={cluster}") == {}
    assert len(pods(m1, ns, "job-name=ttl")) == 1
    with pytest.raises(ApiException) as gone:
        client.CustomObjectsApi(m1).get_namespaced_custom_object(
            "ray.io", "v1", ns, "rayclusters", cluster
        )
    assert gone.value.status == 404


def test_deleting_a_running_rayjob_goes_through_its_finalizer(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m1, RAY, ns, "rayjobs", rayjob("stop"))
    sim_server.advance(0)
    sim_server.advance(40)
    assert pods(m1, ns)
    client.CustomObjectsApi(m1).delete_namespaced_custom_object(*RAY, ns, "rayjobs", "stop")
    sim_server.advance(0)
    with pytest.raises(ApiException) as gone:
        get(m1, RAY, ns, "rayjobs", "stop")
    assert gone.value.status == 404
    assert pods(m1, ns) == {}


def test_interactive_mode_waits_for_a_job_id(
    m1: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m1, RAY, ns, "rayjobs", rayjob("chat", submissionMode="InteractiveMode"))
    sim_server.advance(0)
    sim_server.advance(30)
    waiting = status(m1, ns, "chat")
    assert waiting["jobDeploymentStatus"] == "Waiting"
    assert pods(m1, ns, "job-name=chat") == {}
    client.CustomObjectsApi(m1).patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "chat", {"spec": {"jobId": "mine-1"}}
    )
    sim_server.advance(0)
    assert status(m1, ns, "chat")["jobStatus"] == "PENDING"
    sim_server.advance(65)
    done = status(m1, ns, "chat")
    assert (done["jobDeploymentStatus"], done["jobId"]) == ("Complete", "mine-1")
