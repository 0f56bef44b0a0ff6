"""The API resources the gateway reads and writes, looked up by a manifest's apiVersion/kind."""

from __future__ import annotations

from ml_platform.workloads.kinds import (
    PROPAGATION_POLICY_API,
    VOLUME_CLAIM_API,
    WORKLOAD_APIS,
    ApiResource,
)

RESOURCE_BINDING = ApiResource("work.karmada.io", "v1alpha2", "resourcebindings", "ResourceBinding")
CLUSTER = ApiResource("cluster.karmada.io", "v1alpha1", "clusters", "Cluster", namespaced=False)
POD = ApiResource("", "v1", "pods", "Pod")

_BY_KIND = {
    (res.api_version, res.kind): res
    for res in (
        *WORKLOAD_APIS.values(),
        PROPAGATION_POLICY_API,
        VOLUME_CLAIM_API,
        RESOURCE_BINDING,
        CLUSTER,
        POD,
    )
}


def resource_for(api_version: str, kind: str) -> ApiResource:
    """The resource of a manifest; KeyError for a kind ml-platform never handles."""
    return _BY_KIND[(api_version, kind)]
