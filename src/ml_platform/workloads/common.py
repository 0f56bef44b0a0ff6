"""Building blocks shared by every renderer: labels, metadata, resources, env entries."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ml_platform.workloads.settings import WorkloadSettings
from ml_platform.workloads.spec import SecretEnvRef, WorkloadSpec

Manifest = dict[str, Any]

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "ml-platform"
JOB_ID_LABEL = "ml-platform.io/job-id"
ALGORITHM_LABEL = "ml-platform.io/algorithm"

GPU_RESOURCE = "nvidia.com/gpu"

_LABEL_VALUE_MAX = 63
_LABEL_VALUE_INVALID = re.compile(r"[^A-Za-z0-9._-]+")


def label_value(text: str) -> str:
    """`text` made into a valid label value (container algorithm names are free text)."""
    cleaned = _LABEL_VALUE_INVALID.sub("-", text)[:_LABEL_VALUE_MAX]
    # A label value must start and end with an alphanumeric character (or be empty).
    return cleaned.strip("-._")


def job_labels(spec: WorkloadSpec) -> dict[str, str]:
    """The labels every object and pod template of the job carries."""
    return {
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        JOB_ID_LABEL: spec.job_id,
        ALGORITHM_LABEL: label_value(spec.algorithm),
    }


def object_meta(spec: WorkloadSpec, name: str) -> Manifest:
    """`metadata` of a namespaced object owned by the job."""
    return {"name": name, "namespace": spec.namespace, "labels": job_labels(spec)}


def resource_requirements(*, cpu_cores: int, memory_gib: int, gpu_count: int) -> Manifest:
    """A `resources` block with requests equal to limits (Guaranteed QoS, exact GPU count)."""
    amounts: dict[str, str] = {"cpu": str(cpu_cores), "memory": f"{memory_gib}Gi"}
    if gpu_count > 0:
        amounts[GPU_RESOURCE] = str(gpu_count)
    return {"requests": dict(amounts), "limits": dict(amounts)}


def kubelet_literal(text: str) -> str:
    """`text` escaped so the kubelet passes it on unchanged: it expands `$(VAR)` in env
    values, command and args, and reads `$$` as a literal `$`."""
    return text.replace("$", "$$")


def env_entries(env: Mapping[str, str]) -> list[Manifest]:
    """Container `env` entries (`{name, value}`) for a mapping of plain string values."""
    return [{"name": name, "value": kubelet_literal(value)} for name, value in env.items()]


def credential_env_entries(settings: WorkloadSettings) -> list[Manifest]:
    """Object-storage credentials as Secret references; the values never pass through here."""
    refs = (
        (settings.s3_access_key_id_env, settings.s3_access_key_id_key),
        (settings.s3_secret_access_key_env, settings.s3_secret_access_key_key),
    )
    return [
        {
            "name": env_name,
            "valueFrom": {
                "secretKeyRef": {
                    "name": settings.s3_secret_name,
                    "key": secret_key,
                    "optional": settings.s3_secret_optional,
                }
            },
        }
        for env_name, secret_key in refs
    ]


def secret_env_entries(refs: Iterable[SecretEnvRef]) -> list[Manifest]:
    """The request's own Secret-backed variables (``secretEnv``), as Secret references."""
    return [
        {"name": ref.name, "valueFrom": {"secretKeyRef": {"name": ref.secret_name, "key": ref.key}}}
        for ref in refs
    ]


def shell_command(entrypoint: str) -> list[str]:
    """Run an entrypoint string the way a user typed it; it stays one argv element, and the
    kubelet's `$(VAR)` expansion is escaped so the shell sees exactly what was typed."""
    return ["/bin/sh", "-c", kubelet_literal(entrypoint)]
