"""What a workload needs in its namespace (Karmada's dependency interpreters): ConfigMaps,
Secrets and PersistentVolumeClaims named by its pod templates. With `propagateDeps: true`
they follow the workload to its clusters — only for kinds whose interpreter declares
dependencies in the simulated Karmada release (see `versions`).

The replica types read are the interpreters' own: PyTorchJob Master and Worker, TFJob PS,
Worker, Chief, Master and Evaluator (a pod template under another key names nothing), RayJob
head, worker groups and submitterPodTemplate, a Job its pod template."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .resources import CONFIGMAP, JOB, PVC, PYTORCHJOB, RAYJOB, SECRET, TFJOB, Resource
from .versions import KarmadaVersion, declares_dependencies

# (replica specs field, replica types the interpreter's GetDependencies walks)
_REPLICA_SPECS = {
    PYTORCHJOB: ("pytorchReplicaSpecs", ("Master", "Worker")),
    TFJOB: ("tfReplicaSpecs", ("PS", "Worker", "Chief", "Master", "Evaluator")),
}


def pod_templates(res: Resource, template: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod template specs inside a workload that its dependency interpreter reads."""
    spec = template.get("spec") or {}
    found: list[dict[str, Any] | None] = []
    if res == RAYJOB:
        cluster = spec.get("rayClusterSpec") or {}
        found.append((cluster.get("headGroupSpec") or {}).get("template"))
        found.extend(group.get("template") for group in cluster.get("workerGroupSpecs") or [])
        found.append(spec.get("submitterPodTemplate"))
    elif res in _REPLICA_SPECS:
        field, types = _REPLICA_SPECS[res]
        replicas = spec.get(field) or {}
        found.extend((replicas.get(kind) or {}).get("template") for kind in types)
    elif res == JOB:
        found.append(spec.get("template"))
    for pod_template in found:
        if pod_template and pod_template.get("spec"):
            yield pod_template["spec"]


def dependencies(
    res: Resource, template: dict[str, Any], version: KarmadaVersion
) -> set[tuple[Resource, str]]:
    """(kind, name) of every ConfigMap, Secret and PVC the workload's pods reference, as
    `version`'s interpreter for `res` declares them (none when it declares nothing)."""
    result: set[tuple[Resource, str]] = set()
    if not declares_dependencies(res, version):
        return result
    for pod in pod_templates(res, template):
        for ref in pod.get("imagePullSecrets") or []:
            _add(result, SECRET, ref.get("name"))
        for volume in pod.get("volumes") or []:
            _add(result, CONFIGMAP, (volume.get("configMap") or {}).get("name"))
            _add(result, SECRET, (volume.get("secret") or {}).get("secretName"))
            _add(result, PVC, (volume.get("persistentVolumeClaim") or {}).get("claimName"))
            for source in (volume.get("projected") or {}).get("sources") or []:
                _add(result, CONFIGMAP, (source.get("configMap") or {}).get("name"))
                _add(result, SECRET, (source.get("secret") or {}).get("name"))
        for container in [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]:
            for source in container.get("envFrom") or []:
                _add(result, CONFIGMAP, (source.get("configMapRef") or {}).get("name"))
                _add(result, SECRET, (source.get("secretRef") or {}).get("name"))
            for env in container.get("env") or []:
                value_from = env.get("valueFrom") or {}
                _add(result, CONFIGMAP, (value_from.get("configMapKeyRef") or {}).get("name"))
                _add(result, SECRET, (value_from.get("secretKeyRef") or {}).get("name"))
    return result


def _add(result: set[tuple[Resource, str]], res: Resource, name: object) -> None:
    if isinstance(name, str) and name:
        result.add((res, name))
