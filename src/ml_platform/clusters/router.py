"""HTTP routes of the clusters API (``/api/v1/proxy/clusters``); thin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ml_platform.api import API_PREFIX
from ml_platform.auth.caller import Caller, Role
from ml_platform.auth.deps import require
from ml_platform.clusters import service
from ml_platform.clusters.schemas import ClusterListResponse, ClusterResourcesResponse
from ml_platform.deps import ClusterDirectoryDep, GatewayDep
from ml_platform.wire import DNS_1123_LABEL, ErrorResponse

router = APIRouter(prefix=f"{API_PREFIX}/proxy/clusters", tags=["clusters"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (404, 422, 503)
}
# The resources proxy shows what runs in member clusters: admins only.
AdminDep = Annotated[Caller, Depends(require(Role.ADMIN))]


@router.get("", response_model=ClusterListResponse, responses=_ERRORS)
async def list_clusters(gateway: GatewayDep, directory: ClusterDirectoryDep) -> ClusterListResponse:
    """Member clusters: name, readiness, region, zone and capacity when known."""
    return ClusterListResponse(
        clusters=await service.list_clusters(gateway=gateway, directory=directory)
    )


@router.get("/{cluster}/resources", response_model=ClusterResourcesResponse, responses=_ERRORS)
async def list_cluster_resources(
    cluster: str,
    caller: AdminDep,
    gateway: GatewayDep,
    directory: ClusterDirectoryDep,
    namespace: Annotated[str, Query(max_length=63, pattern=DNS_1123_LABEL)] = "default",
    type_: Annotated[str, Query(alias="type", max_length=63)] = "pods",
) -> ClusterResourcesResponse:
    """Objects of one allowed type (see the 422 for the list) in a namespace of a cluster;
    admins only, in their namespaces."""
    caller.require_namespace(namespace)
    return await service.list_resources(
        gateway=gateway,
        directory=directory,
        cluster=cluster,
        namespace=namespace,
        type_name=type_,
    )
