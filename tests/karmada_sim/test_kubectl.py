"""`kubectl` against the simulator through a generated kubeconfig."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from api_helpers import api_client
from kubernetes import client

from karmada_sim.members import ClusterSpec
from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import Simulator

KUBECTL = "/usr/bin/kubectl"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    clusters = [ClusterSpec.parse("member1@eu-west/a"), ClusterSpec.parse("member2@us-east/b")]
    with SimulatorServer(Simulator(clusters, seed=1)) as srv:
        yield srv


@pytest.fixture(scope="module")
def kubeconfig(server: SimulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="module")
def submitted(server: SimulatorServer) -> str:
    """A namespace holding one RayJob propagated to exactly one cluster."""
    ns = f"k-{uuid.uuid4().hex[:6]}"
    server.create_namespace(ns)
    policy = {
        "apiVersion": "policy.karmada.io/v1alpha1",
        "kind": "PropagationPolicy",
        "metadata": {"name": "train-pp"},
        "spec": {
            "resourceSelectors": [{"apiVersion": "ray.io/v1", "kind": "RayJob", "name": "train"}],
            "placement": {
                "clusterAffinity": {"clusterNames": ["member1", "member2"]},
                "spreadConstraints": [{"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}],
            },
        },
    }
    job = {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "train", "labels": {"team": "vision"}},
        "spec": {"entrypoint": "python train.py"},
    }
    with api_client(server.url) as api:
        crd = client.CustomObjectsApi(api)
        crd.create_namespaced_custom_object(
            "policy.karmada.io", "v1alpha1", ns, "propagationpolicies", policy
        )
        crd.create_namespaced_custom_object("ray.io", "v1", ns, "rayjobs", job)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            bindings = crd.list_namespaced_custom_object(
                "work.karmada.io", "v1alpha2", ns, "resourcebindings"
            )["items"]
            if bindings and bindings[0].get("spec", {}).get("clusters"):
                return ns
            time.sleep(0.05)
    raise AssertionError("the RayJob was never bound to a cluster")


def kubectl(kubeconfig: Path, *args: str) -> str:
    done = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def kubectl_json(kubeconfig: Path, *args: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(kubectl(kubeconfig, *args, "-o", "json"))
    return loaded


def test_get_rayjobs_in_all_namespaces(kubeconfig: Path, submitted: str) -> None:
    table = kubectl(kubeconfig, "get", "rayjobs", "-A")
    assert table.splitlines()[0].split()[:4] == ["NAMESPACE", "NAME", "JOB", "STATUS"]
    assert any(line.split()[:2] == [submitted, "train"] for line in table.splitlines())
    selected = kubectl_json(kubeconfig, "get", "rayjobs", "-A", "-l", "team=vision")
    assert [
        i["metadata"]["name"] for i in selected["items"] if i["metadata"]["namespace"] == submitted
    ] == ["train"]
    assert kubectl_json(kubeconfig, "get", "rayjobs", "-A", "-l", "team=none")["items"] == []


def test_get_clusters(kubeconfig: Path) -> None:
    clusters = kubectl_json(kubeconfig, "get", "clusters")
    assert [c["metadata"]["name"] for c in clusters["items"]] == ["member1", "member2"]
    assert clusters["items"][0]["spec"]["region"] == "eu-west"
    lines = kubectl(kubeconfig, "get", "clusters").splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "MODE", "READY", "AGE"]
    assert lines[2].split()[:4] == ["member2", lines[2].split()[1], "Push", "True"]


def test_get_policies_and_bindings_by_short_name(kubeconfig: Path, submitted: str) -> None:
    policies = kubectl_json(kubeconfig, "get", "pp", "-n", submitted)
    assert [p["metadata"]["name"] for p in policies["items"]] == ["train-pp"]
    bindings = kubectl_json(kubeconfig, "get", "rb", "-A")
    mine = [b for b in bindings["items"] if b["metadata"]["namespace"] == submitted]
    assert [b["metadata"]["name"] for b in mine] == ["train-rayjob"]
    assert len(mine[0]["spec"]["clusters"]) == 1


def test_member_context_goes_through_the_cluster_proxy(kubeconfig: Path, submitted: str) -> None:
    found = []
    for member in ("member1", "member2"):
        listed = kubectl_json(kubeconfig, "--context", member, "get", "rayjobs", "-n", submitted)
        found += [(member, i["metadata"]["name"]) for i in listed["items"]]
    assert len(found) == 1
    assert found[0][1] == "train"


def run_kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


MANIFEST = """
apiVersion: ray.io/v1
kind: RayJob
metadata: {{name: demo, namespace: {ns}, labels: {{team: a}}}}
spec:
  entrypoint: python train.py
  rayClusterSpec:
    headGroupSpec:
      rayStartParams: {{}}
      template:
        spec:
          containers: [{{name: ray-head, image: rayproject/ray}}]
---
apiVersion: policy.karmada.io/v1alpha1
kind: PropagationPolicy
metadata: {{name: demo, namespace: {ns}}}
spec:
  resourceSelectors: [{{apiVersion: ray.io/v1, kind: RayJob, name: demo}}]
  placement:
    spreadConstraints: [{{spreadByField: cluster, maxGroups: 1, minGroups: 1}}]
"""


def test_create_apply_patch_and_logs(
    kubeconfig: Path, server: SimulatorServer, tmp_path: Path
) -> None:
    ns = f"k-{uuid.uuid4().hex[:6]}"
    manifest = tmp_path / "demo.yaml"
    manifest.write_text(MANIFEST.format(ns=ns))
    # As on a real cluster, the namespace must exist first.
    missing = run_kubectl(kubeconfig, "create", "-f", str(manifest))
    assert missing.returncode == 1
    assert f'namespaces "{ns}" not found' in missing.stderr
    assert f"namespace/{ns} created" in kubectl(kubeconfig, "create", "namespace", ns)
    assert "rayjob.ray.io/demo created" in kubectl(kubeconfig, "create", "-f", str(manifest))
    assert "rayjob.ray.io/demo configured" in kubectl(kubeconfig, "apply", "-f", str(manifest))
    strategic = run_kubectl(
        kubeconfig, "patch", "rayjob", "demo", "-n", ns, "-p", '{"metadata":{"labels":{"x":"y"}}}'
    )
    assert strategic.returncode != 0
    assert "application/strategic-merge-patch+json is not supported" in strategic.stderr
    kubectl(
        kubeconfig,
        "patch",
        "rayjob",
        "demo",
        "-n",
        ns,
        "--type=merge",
        "-p",
        '{"metadata":{"labels":{"x":"y"}}}',
    )
    labels = kubectl_json(kubeconfig, "get", "rayjob", "demo", "-n", ns)["metadata"]["labels"]
    assert (labels["team"], labels["x"]) == ("a", "y")
    server.advance(60)
    head = kubectl(
        kubeconfig,
        "get",
        "rayjob",
        "demo",
        "-n",
        ns,
        "-o",
        "jsonpath={.status.rayClusterStatus.head.podName}",
    )
    cluster = kubectl(
        kubeconfig, "get", "rb", "demo-rayjob", "-n", ns, "-o", "jsonpath={.spec.clusters[0].name}"
    )
    assert head
    logs = kubectl(kubeconfig, "--context", cluster, "logs", "-n", ns, head, "--tail", "2")
    assert len(logs.splitlines()) == 2
    assert 'rayjob.ray.io "demo" deleted' in kubectl(
        kubeconfig, "delete", "rayjob", "demo", "-n", ns, "--wait=false"
    )


def test_watch_prints_table_rows(kubeconfig: Path, submitted: str) -> None:
    watched = run_kubectl(
        kubeconfig, "get", "rayjobs", "-n", submitted, "-w", "--request-timeout=2s"
    )
    lines = watched.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "JOB", "STATUS"]
    assert lines[1].split()[0] == "train"
