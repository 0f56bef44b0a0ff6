"""The kinds the simulator serves and how each one is addressed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    """One REST resource (a kind at a group/version) as discovery describes it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str
    short_names: tuple[str, ...] = ()
    status_subresource: bool = True
    # Custom resources accept merge and JSON patch only; strategic merge is answered with 415.
    custom: bool = False
    # Field selectors beyond metadata.name / metadata.namespace that the apiserver accepts.
    extra_field_selectors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # Made by the simulator itself: the HTTP API serves get/list/watch only.
    read_only: bool = False
    subresources: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """`v1` for the core group, `group/version` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`rayjobs.ray.io`, or just `pods` for the core group (as error messages spell it)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """`RayJob.ray.io`, or just `Pod` for the core group (as Invalid messages spell it)."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def list_kind(self) -> str:
        """The kind of a LIST response."""
        return f"{self.kind}List"


NAMESPACE = Resource("", "v1", "namespaces", "Namespace", False, "namespace", ("ns",))
POD = Resource(
    "",
    "v1",
    "pods",
    "Pod",
    True,
    "pod",
    ("po",),
    extra_field_selectors=("status.phase", "spec.nodeName"),
    categories=("all",),
    subresources=("status", "log"),
)
SECRET = Resource("", "v1", "secrets", "Secret", True, "secret", status_subresource=False)
CONFIGMAP = Resource(
    "", "v1", "configmaps", "ConfigMap", True, "configmap", ("cm",), status_subresource=False
)
PVC = Resource(
    "",
    "v1",
    "persistentvolumeclaims",
    "PersistentVolumeClaim",
    True,
    "persistentvolumeclaim",
    ("pvc",),
)
SERVICE = Resource("", "v1", "services", "Service", True, "service", ("svc",), categories=("all",))
EVENT = Resource("", "v1", "events", "Event", True, "event", ("ev",), status_subresource=False)
JOB = Resource(
    "batch",
    "v1",
    "jobs",
    "Job",
    True,
    "job",
    extra_field_selectors=("status.successful",),
    categories=("all",),
)
RAYJOB = Resource(
    "ray.io", "v1", "rayjobs", "RayJob", True, "rayjob", custom=True, categories=("all",)
)
RAYCLUSTER = Resource(
    "ray.io",
    "v1",
    "rayclusters",
    "RayCluster",
    True,
    "raycluster",
    custom=True,
    categories=("all",),
)
PYTORCHJOB = Resource(
    "kubeflow.org", "v1", "pytorchjobs", "PyTorchJob", True, "pytorchjob", custom=True
)
TFJOB = Resource("kubeflow.org", "v1", "tfjobs", "TFJob", True, "tfjob", custom=True)
MPIJOB = Resource("kubeflow.org", "v2beta1", "mpijobs", "MPIJob", True, "mpijob", custom=True)
PROPAGATION_POLICY = Resource(
    "policy.karmada.io",
    "v1alpha1",
    "propagationpolicies",
    "PropagationPolicy",
    True,
    "propagationpolicy",
    ("pp",),
    status_subresource=False,
    custom=True,
)
RESOURCE_BINDING = Resource(
    "work.karmada.io",
    "v1alpha2",
    "resourcebindings",
    "ResourceBinding",
    True,
    "resourcebinding",
    ("rb",),
    custom=True,
    read_only=True,
)
CLUSTER = Resource(
    "cluster.karmada.io",
    "v1alpha1",
    "clusters",
    "Cluster",
    False,
    "cluster",
    custom=True,
    read_only=True,
    subresources=("status", "proxy"),
)

RESOURCES: tuple[Resource, ...] = (
    NAMESPACE,
    POD,
    SECRET,
    CONFIGMAP,
    PVC,
    SERVICE,
    EVENT,
    JOB,
    RAYJOB,
    RAYCLUSTER,
    PYTORCHJOB,
    TFJOB,
    MPIJOB,
    PROPAGATION_POLICY,
    RESOURCE_BINDING,
    CLUSTER,
)

_BY_PLURAL = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND = {(r.api_version, r.kind): r for r in RESOURCES}


def by_plural(group: str, version: str, plural: str) -> Resource | None:
    """The resource served at `/apis/{group}/{version}/{plural}` (group "" for core)."""
    return _BY_PLURAL.get((group, version, plural))


def by_kind(api_version: str, kind: str) -> Resource | None:
    """The resource of objects with this `apiVersion` and `kind`."""
    return _BY_KIND.get((api_version, kind))


def group_versions() -> dict[str, list[str]]:
    """Every non-core group with its served versions, in declaration order."""
    groups: dict[str, list[str]] = {}
    for res in RESOURCES:
        if res.group and res.version not in groups.setdefault(res.group, []):
            groups[res.group].append(res.version)
    return groups
