"""What keeps a pod from starting because something it names does not exist, in the order
a real cluster finds out, with Kubernetes' own reasons and messages.

1. The scheduler's VolumeBinding PreFilter: a claim that does not exist (or is being
   deleted) leaves the pod unscheduled, `PodScheduled=False`, reason `Unschedulable`.
2. The kubelet's volume manager: a Secret or ConfigMap volume whose object is missing keeps
   the containers in `ContainerCreating` with `FailedMount` events.
3. The kubelet's container config: an env or envFrom reference to a missing object (or key)
   leaves the container waiting with `CreateContainerConfigError`.

References marked `optional: true` never block, as in the kubelet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from .. import resources
from ..store import Store

# The simulated member clusters have three nodes (members.NODES).
NODES = 3

Stage = Literal["schedule", "mount", "config"]


@dataclass(frozen=True)
class Blocker:
    """Why a pod cannot start yet: the stage that stops it and Kubernetes' message."""

    stage: Stage
    message: str
    volume: str = ""
    """The volume that cannot be mounted (stage `mount`)."""

    @property
    def scheduling_message(self) -> str:
        """The PodScheduled condition's message (scheduler FitError with preemption)."""
        return (
            f"0/{NODES} nodes are available: {self.message}. preemption: 0/{NODES} nodes are "
            f"available: {NODES} Preemption is not helpful for scheduling."
        )

    @property
    def event(self) -> tuple[str, str, str]:
        """(reason, message, source component) of the Warning event the pod gets."""
        if self.stage == "schedule":
            return "FailedScheduling", self.scheduling_message, "default-scheduler"
        if self.stage == "mount":
            return (
                "FailedMount",
                f'MountVolume.SetUp failed for volume "{self.volume}" : {self.message}',
                "kubelet",
            )
        return "Failed", f"Error: {self.message}", "kubelet"


def find_blocker(store: Store, namespace: str, spec: dict[str, Any]) -> Blocker | None:
    """The first thing stopping a pod with `spec` in `namespace`, or None when it can run."""
    volumes = spec.get("volumes") or []
    for volume in volumes:
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            continue
        found = store.find(resources.PVC, namespace, claim)
        if found is None:
            return Blocker("schedule", f'persistentvolumeclaim "{claim}" not found')
        if found["metadata"].get("deletionTimestamp"):
            return Blocker("schedule", f'persistentvolumeclaim "{claim}" is being deleted')
    for volume in volumes:
        for res, source in _volume_sources(volume):
            missing = _missing(store, namespace, res, source, "secretName" in source)
            if missing is not None:
                return Blocker("mount", missing, volume=str(volume.get("name", "")))
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        missing = _config_problem(store, namespace, container)
        if missing is not None:
            return Blocker("config", missing)
    return None


def _volume_sources(volume: dict[str, Any]) -> Iterator[tuple[resources.Resource, dict[str, Any]]]:
    if volume.get("secret"):
        yield resources.SECRET, volume["secret"]
    if volume.get("configMap"):
        yield resources.CONFIGMAP, volume["configMap"]
    for source in (volume.get("projected") or {}).get("sources") or []:
        if source.get("secret"):
            yield resources.SECRET, source["secret"]
        if source.get("configMap"):
            yield resources.CONFIGMAP, source["configMap"]


def _missing(
    store: Store,
    namespace: str,
    res: resources.Resource,
    ref: dict[str, Any],
    secret_volume: bool = False,
) -> str | None:
    """`secret "x" not found` when the referenced object is absent and not optional."""
    name = ref.get("secretName") if secret_volume else ref.get("name")
    if not name or ref.get("optional") or store.find(res, namespace, str(name)) is not None:
        return None
    return f'{res.kind.lower()} "{name}" not found'


def _config_problem(store: Store, namespace: str, container: dict[str, Any]) -> str | None:
    """What the kubelet's makeEnvironmentVariables refuses for one container."""
    for source in container.get("envFrom") or []:
        for res, field in ((resources.SECRET, "secretRef"), (resources.CONFIGMAP, "configMapRef")):
            if source.get(field):
                missing = _missing(store, namespace, res, source[field])
                if missing is not None:
                    return missing
    for env in container.get("env") or []:
        value_from = env.get("valueFrom") or {}
        for res, field in (
            (resources.SECRET, "secretKeyRef"),
            (resources.CONFIGMAP, "configMapKeyRef"),
        ):
            ref = value_from.get(field)
            if not ref or ref.get("optional"):
                continue
            obj = store.find(res, namespace, str(ref.get("name", "")))
            if obj is None:
                return f'{res.kind.lower()} "{ref.get("name", "")}" not found'
            key = str(ref.get("key", ""))
            present = {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
            present.update(obj.get("binaryData") or {})
            if key not in present:
                return f"couldn't find key {key} in {res.kind} {namespace}/{ref.get('name')}"
    return None
