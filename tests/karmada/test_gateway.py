"""The Karmada gateway against the simulator over real HTTP."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from kubernetes import client

from karmada_sim.server import PROXY_PATH, SimulatorServer
from ml_platform.karmada.errors import KarmadaRejected, KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.karmada.resources import POD, RESOURCE_BINDING
from ml_platform.workloads.common import JOB_ID_LABEL
from ml_platform.workloads.kinds import PROPAGATION_POLICY_API


def _policy(name: str, job_id: str | None) -> dict[str, object]:
    labels = {JOB_ID_LABEL: job_id} if job_id else {}
    return {
        "apiVersion": PROPAGATION_POLICY_API.api_version,
        "kind": "PropagationPolicy",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {
            "resourceSelectors": [{"apiVersion": "ray.io/v1", "kind": "RayJob", "name": name}]
        },
    }


async def test_create_is_idempotent_for_our_own_object(gateway: KarmadaGateway) -> None:
    first = await gateway.create(_policy("p1", "job-1"))
    again = await gateway.create(_policy("p1", "job-1"))
    assert again["metadata"]["uid"] == first["metadata"]["uid"]


async def test_create_refuses_a_name_owned_by_someone_else(gateway: KarmadaGateway) -> None:
    await gateway.create(_policy("p2", None))
    with pytest.raises(KarmadaRejected, match="does not own"):
        await gateway.create(_policy("p2", "job-2"))


async def test_create_refuses_fields_the_api_server_does_not_know(
    gateway: KarmadaGateway,
) -> None:
    """Creates are strict: an unknown field fails the create instead of being pruned away."""
    policy = _policy("p-strict", "job-strict")
    policy["spec"] = {"resourceSelectors": [{"apiVersion": "v1", "kind": "Pod"}], "placment": {}}
    with pytest.raises(
        KarmadaRejected, match=re.escape('strict decoding error: unknown field "spec.placment"')
    ):
        await gateway.create(policy)
    assert await gateway.get(ObjectRef.of(policy)) is None


async def test_delete_reports_gone_and_tolerates_missing(gateway: KarmadaGateway) -> None:
    created = await gateway.create(_policy("p3", "job-3"))
    ref = ObjectRef.of(created)
    # Karmada's finalizer holds a deleted policy until its detector releases the claims, so
    # the first answer may be "not gone yet" (False) or, once released, True.
    await gateway.delete(ref)
    async with asyncio.timeout(10):
        while True:
            if await gateway.get(ref) is None:
                break
            await asyncio.sleep(0.02)
    assert await gateway.delete(ref) is True
    assert await gateway.delete(ref) is True


async def test_list_follows_continue_tokens(
    gateway: KarmadaGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ml_platform.karmada.gateway.LIST_PAGE_SIZE", 2)
    for index in range(5):
        await gateway.create(_policy(f"page-{index}", f"job-{index}"))
    names = {
        item["metadata"]["name"] for item in await gateway.list_objects(PROPAGATION_POLICY_API)
    }
    assert names == {f"page-{index}" for index in range(5)}
    assert await gateway.list_objects(RESOURCE_BINDING) == []


async def test_clusters_carry_readiness_and_location(
    gateway: KarmadaGateway, simulator: SimulatorServer
) -> None:
    simulator.set_cluster_ready("member2", False)
    clusters = {c.name: c for c in await gateway.clusters()}
    assert clusters["member1"].ready is True
    assert clusters["member1"].region == "eu-west"
    assert clusters["member1"].zone == "eu-west-1a"
    assert clusters["member2"].ready is False


async def test_server_errors_are_unavailable(
    gateway: KarmadaGateway, simulator: SimulatorServer
) -> None:
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    with pytest.raises(KarmadaUnavailable):
        await gateway.clusters()


async def test_unreachable_server_is_unavailable(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    gw = KarmadaGateway.from_kubeconfig(str(config), timeout_seconds=2.0)
    try:
        with pytest.raises(KarmadaUnavailable, match="unreachable"):
            await gw.clusters()
    finally:
        await gw.close()


async def test_cluster_reads_go_to_that_member_through_the_proxy(
    gateway: KarmadaGateway, simulator: SimulatorServer
) -> None:
    # A pod exists only in member1; Karmada itself and member2 have none.
    member1 = client.Configuration()
    member1.host = simulator.url + PROXY_PATH.format(name="member1")
    with client.ApiClient(member1) as api:
        client.CoreV1Api(api).create_namespaced_pod(
            "default",
            client.V1Pod(
                metadata=client.V1ObjectMeta(name="only-here"),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x")]),
            ),
        )
    in_member1 = await gateway.list_objects(POD, namespace="default", cluster="member1")
    assert [p["metadata"]["name"] for p in in_member1] == ["only-here"]
    assert await gateway.list_objects(POD, namespace="default", cluster="member2") == []
    assert await gateway.list_objects(POD, namespace="default") == []
