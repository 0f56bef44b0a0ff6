"""Kubeflow jobs and batch/v1 Jobs in a member cluster, through the proxy with the official
client. Timings: init 30 s, run 60 s (conftest.SLOW)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from sim_helpers import KUBEFLOW, condition, create, get, pods, pytorchjob

from karmada_sim.server import SimulatorServer

Member = Callable[[str], client.ApiClient]


@pytest.fixture
def m2(member: Member) -> client.ApiClient:
    return member("member2")


def test_pytorchjob_conditions_pods_and_replica_statuses(
    m2: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m2, KUBEFLOW, ns, "pytorchjobs", pytorchjob("ddp", workers=2))
    sim_server.advance(0)
    created = get(m2, KUBEFLOW, ns, "pytorchjobs", "ddp")
    cond = condition(created, "Created")
    assert cond is not None
    assert (cond["status"], cond["reason"]) == ("True", "PyTorchJobCreated")
    assert condition(created, "Running") is None
    found = pods(m2, ns, "training.kubeflow.org/job-name=ddp")
    assert sorted(found) == ["ddp-master-0", "ddp-worker-0", "ddp-worker-1"]
    master = found["ddp-master-0"].metadata.labels
    assert master["training.kubeflow.org/replica-type"] == "master"
    assert master["training.kubeflow.org/replica-index"] == "0"
    assert master["training.kubeflow.org/job-role"] == "master"

    sim_server.advance(30)
    running = get(m2, KUBEFLOW, ns, "pytorchjobs", "ddp")
    cond = condition(running, "Running")
    assert cond is not None
    assert (cond["status"], cond["reason"]) == ("True", "PyTorchJobRunning")
    assert running["status"]["replicaStatuses"] == {
        "Master": {"active": 1},
        "Worker": {"active": 2},
    }
    assert all(p.status.phase == "Running" for p in pods(m2, ns).values())

    sim_server.advance(60)
    done = get(m2, KUBEFLOW, ns, "pytorchjobs", "ddp")
    succeeded = condition(done, "Succeeded")
    assert succeeded is not None
    assert (succeeded["status"], succeeded["reason"]) == ("True", "PyTorchJobSucceeded")
    running_after = condition(done, "Running")
    assert running_after is not None
    assert running_after["status"] == "False"
    assert done["status"]["replicaStatuses"] == {
        "Master": {"succeeded": 1},
        "Worker": {"succeeded": 2},
    }
    assert "completionTime" in done["status"]
    assert all(p.status.phase == "Succeeded" for p in pods(m2, ns).values())
    log = client.CoreV1Api(m2).read_namespaced_pod_log("ddp-master-0", ns)
    assert "SUCCEEDED" in log.splitlines()[-1]


def test_pytorchjob_failure(m2: client.ApiClient, sim_server: SimulatorServer, ns: str) -> None:
    failing = {"sim.ml-platform.io/outcome": "fail"}
    body = pytorchjob("bad", workers=1, annotations=failing, restart_policy="Never")
    create(m2, KUBEFLOW, ns, "pytorchjobs", body)
    sim_server.advance(0)
    sim_server.advance(90)
    done = get(m2, KUBEFLOW, ns, "pytorchjobs", "bad")
    failed = condition(done, "Failed")
    assert failed is not None
    assert (failed["status"], failed["reason"]) == ("True", "PyTorchJobFailed")
    assert "1 Master replica(s) failed" in failed["message"]
    assert pods(m2, ns)["bad-master-0"].status.phase == "Failed"


def test_pytorchjob_restarts_on_failure_until_the_backoff_limit(
    m2: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    failing = {"sim.ml-platform.io/outcome": "fail"}
    body = pytorchjob("flaky", workers=1, annotations=failing, runPolicy={"backoffLimit": 1})
    create(m2, KUBEFLOW, ns, "pytorchjobs", body)
    sim_server.advance(0)
    sim_server.advance(90)  # first run fails: restarted in place
    job = get(m2, KUBEFLOW, ns, "pytorchjobs", "flaky")
    restarting = condition(job, "Restarting")
    assert restarting is not None
    assert (restarting["status"], restarting["reason"]) == ("True", "PyTorchJobRestarting")
    assert condition(job, "Failed") is None
    sim_server.advance(10)  # crash back-off, then running again
    running = condition(get(m2, KUBEFLOW, ns, "pytorchjobs", "flaky"), "Running")
    assert running is not None
    assert running["status"] == "True"
    master = pods(m2, ns)["flaky-master-0"]
    assert master.status.phase == "Running"
    assert master.status.container_statuses[0].restart_count == 1
    sim_server.advance(60)  # second run fails: backoff limit reached
    done = get(m2, KUBEFLOW, ns, "pytorchjobs", "flaky")
    failed = condition(done, "Failed")
    assert failed is not None
    assert "reached the specified backoff limit" in failed["message"]


def test_tfjob_and_mpijob_pods(m2: client.ApiClient, sim_server: SimulatorServer, ns: str) -> None:
    def replica(count: int, container: str) -> dict[str, Any]:
        return {
            "replicas": count,
            "template": {"spec": {"containers": [{"name": container, "image": "img"}]}},
        }

    tfjob = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "TFJob",
        "metadata": {"name": "tf"},
        "spec": {
            "tfReplicaSpecs": {
                "Chief": replica(1, "tensorflow"),
                "PS": replica(1, "tensorflow"),
                "Worker": replica(2, "tensorflow"),
            }
        },
    }
    mpijob = {
        "apiVersion": "kubeflow.org/v2beta1",
        "kind": "MPIJob",
        "metadata": {"name": "mpi"},
        "spec": {
            "mpiReplicaSpecs": {"Launcher": replica(1, "launcher"), "Worker": replica(2, "worker")}
        },
    }
    create(m2, KUBEFLOW, ns, "tfjobs", tfjob)
    create(m2, ("kubeflow.org", "v2beta1"), ns, "mpijobs", mpijob)
    sim_server.advance(0)
    assert sorted(pods(m2, ns, "training.kubeflow.org/job-name=tf")) == [
        "tf-chief-0",
        "tf-ps-0",
        "tf-worker-0",
        "tf-worker-1",
    ]
    mpi = sorted(pods(m2, ns, "training.kubeflow.org/job-name=mpi"))
    assert mpi[0].startswith("mpi-launcher-")
    assert mpi[1:] == ["mpi-worker-0", "mpi-worker-1"]
    sim_server.advance(90)
    tf = condition(get(m2, KUBEFLOW, ns, "tfjobs", "tf"), "Succeeded")
    assert tf is not None
    assert tf["reason"] == "TFJobSucceeded"
    mpi_done = condition(get(m2, ("kubeflow.org", "v2beta1"), ns, "mpijobs", "mpi"), "Succeeded")
    assert mpi_done is not None
    assert mpi_done["reason"] == "MPIJobSucceeded"


def test_pytorchjob_suspend_deletes_pods_and_resume_recreates_them(
    m2: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(m2, KUBEFLOW, ns, "pytorchjobs", pytorchjob("pause", workers=1))
    sim_server.advance(0)
    sim_server.advance(30)
    client.CustomObjectsApi(m2).patch_namespaced_custom_object(
        *KUBEFLOW, ns, "pytorchjobs", "pause", {"spec": {"runPolicy": {"suspend": True}}}
    )
    sim_server.advance(0)
    job = get(m2, KUBEFLOW, ns, "pytorchjobs", "pause")
    suspended = condition(job, "Suspended")
    assert suspended is not None
    assert (suspended["status"], suspended["reason"]) == ("True", "PyTorchJobSuspended")
    assert pods(m2, ns) == {}
    client.CustomObjectsApi(m2).patch_namespaced_custom_object(
        *KUBEFLOW, ns, "pytorchjobs", "pause", {"spec": {"runPolicy": {"suspend": False}}}
    )
    sim_server.advance(0)
    resumed = condition(get(m2, KUBEFLOW, ns, "pytorchjobs", "pause"), "Suspended")
    assert resumed is not None
    assert (resumed["status"], resumed["reason"]) == ("False", "PyTorchJobResumed")
    assert sorted(pods(m2, ns)) == ["pause-master-0", "pause-worker-0"]


def indexed_job(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "completionMode": "Indexed",
            "completions": 3,
            "parallelism": 3,
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "jax", "image": "jax"}],
                }
            },
            **spec,
        },
    }


def test_indexed_batch_job_runs_to_complete(
    m2: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    batch = client.BatchV1Api(m2)
    batch.create_namespaced_job(ns, indexed_job("pjit"))
    sim_server.advance(0)
    found = pods(m2, ns, "job-name=pjit")
    assert len(found) == 3
    indexes = sorted(
        p.metadata.labels["batch.kubernetes.io/job-completion-index"] for p in found.values()
    )
    assert indexes == ["0", "1", "2"]
    for name, pod in found.items():
        index = pod.metadata.labels["batch.kubernetes.io/job-completion-index"]
        assert name.startswith(f"pjit-{index}-")
    assert batch.read_namespaced_job("pjit", ns).status.active == 3
    sim_server.advance(30)
    assert batch.read_namespaced_job("pjit", ns).status.ready == 3
    sim_server.advance(60)
    status = batch.read_namespaced_job("pjit", ns).status
    assert (status.succeeded, status.active, status.completed_indexes) == (3, None, "0-2")
    assert [c.type for c in status.conditions] == ["SuccessCriteriaMet", "Complete"]
    assert status.completion_time is not None


def test_batch_job_backoff_limit_exceeded(
    m2: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    body = indexed_job("fails", completions=1, parallelism=1, backoffLimit=1)
    body["metadata"]["annotations"] = {
        "sim.ml-platform.io/outcome": "fail",
        "sim.ml-platform.io/duration-seconds": "5",
        "sim.ml-platform.io/init-seconds": "1",
    }
    batch = client.BatchV1Api(m2)
    batch.create_namespaced_job(ns, body)
    sim_server.advance(0)
    sim_server.advance(6)  # first pod fails; the replacement waits 10 s of back-off
    assert batch.read_namespaced_job("fails", ns).status.failed == 1
    assert len(pods(m2, ns, "job-name=fails")) == 1
    sim_server.advance(10)
    assert len(pods(m2, ns, "job-name=fails")) == 2
    sim_server.advance(6)
    status = batch.read_namespaced_job("fails", ns).status
    assert status.failed == 2
    failed = next(c for c in status.conditions if c.type == "Failed")
    assert (failed.status, failed.reason) == ("True", "BackoffLimitExceeded")
    assert status.completion_time is None
