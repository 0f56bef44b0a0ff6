"""Pod logs of simulated workloads through the Karmada cluster proxy, as
`GET /jobs/{id}/logs` will read them: lines appear over simulated time."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import KUBEFLOW, RAY, create, pods, pytorchjob, rayjob

from karmada_sim.server import SimulatorServer

Member = Callable[[str], client.ApiClient]


def test_driver_log_grows_with_simulated_time(
    member: Member, sim_server: SimulatorServer, ns: str
) -> None:
    m1 = member("member1")
    create(m1, RAY, ns, "rayjobs", rayjob("logs"))
    sim_server.advance(0)
    sim_server.advance(30)
    (submitter,) = pods(m1, ns, "job-name=logs")
    core = client.CoreV1Api(m1)
    early = core.read_namespaced_pod_log(submitter, ns).splitlines()
    assert early[0].startswith("Job submission server address: http://logs-")
    assert not any(line.startswith("epoch=") for line in early)
    sim_server.advance(5 + 30)  # pending, then 30 s of training at one line per 10 s
    training = [
        line
        for line in core.read_namespaced_pod_log(submitter, ns).splitlines()
        if line.startswith("epoch=")
    ]
    assert len(training) in (3, 4)
    sim_server.advance(30)
    full = core.read_namespaced_pod_log(submitter, ns).splitlines()
    assert full[-2].endswith("succeeded'") or full[-2].endswith("succeeded")
    assert core.read_namespaced_pod_log(submitter, ns, tail_lines=1).splitlines() == full[-1:]
    stamped = core.read_namespaced_pod_log(submitter, ns, timestamps=True).splitlines()
    assert stamped[0].split(" ", 1)[1] == full[0]
    assert stamped[0].split(" ", 1)[0].endswith("Z")


def test_head_pod_log_names_the_ray_runtime(
    member: Member, sim_server: SimulatorServer, ns: str
) -> None:
    m1 = member("member1")
    create(m1, RAY, ns, "rayjobs", rayjob("head"))
    sim_server.advance(0)
    sim_server.advance(30)
    # The preamble is printed a millisecond a line from the container's start: let it finish.
    sim_server.advance(1)
    (head,) = pods(m1, ns, "ray.io/node-type=head")
    log = client.CoreV1Api(m1).read_namespaced_pod_log(head, ns, container="ray-head")
    assert "Ray runtime started." in log


def test_log_errors_match_the_apiserver(
    member: Member, sim_server: SimulatorServer, ns: str
) -> None:
    m2 = member("member2")
    body = pytorchjob("two", workers=0)
    body["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"].append(
        {"name": "sidecar", "image": "busybox"}
    )
    create(m2, KUBEFLOW, ns, "pytorchjobs", body)
    sim_server.advance(0)
    core = client.CoreV1Api(m2)
    with pytest.raises(ApiException) as pending:
        core.read_namespaced_pod_log("two-master-0", ns, container="pytorch")
    assert pending.value.status == 400
    assert "is waiting to start: ContainerCreating" in pending.value.body
    sim_server.advance(30)
    with pytest.raises(ApiException) as ambiguous:
        core.read_namespaced_pod_log("two-master-0", ns)
    assert ambiguous.value.status == 400
    assert (
        "a container name must be specified for pod two-master-0, choose one of: "
        "[pytorch sidecar]" in ambiguous.value.body
    )
    with pytest.raises(ApiException) as wrong:
        core.read_namespaced_pod_log("two-master-0", ns, container="nope")
    assert wrong.value.status == 400
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod_log("no-such-pod", ns)
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["message"] == 'pods "no-such-pod" not found'
    assert "Starting training job" in core.read_namespaced_pod_log(
        "two-master-0", ns, container="pytorch"
    )
