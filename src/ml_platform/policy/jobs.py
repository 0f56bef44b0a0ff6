"""The job policy: namespaces, existing claims, images, entrypoints and resource caps. Each
refusal is a 403 naming the rule (the setting that decides it)."""

from __future__ import annotations

from typing import Any

from ml_platform.auth.caller import Caller
from ml_platform.errors import ForbiddenError
from ml_platform.jobs.schemas import TrainingJobRequest
from ml_platform.policy.settings import ANY, PolicySettings, is_reserved_namespace


class PolicyViolation(ForbiddenError):
    """A request the job policy does not allow; ``details.rule`` names the setting."""

    def __init__(self, rule: str, message: str, **details: Any) -> None:
        super().__init__(f"{message} (policy {rule})", {"rule": rule, **details})


def check_job_request(
    request: TrainingJobRequest, *, caller: Caller, policy: PolicySettings
) -> None:
    """Refuse a request outside the caller's namespaces or the job policy (403)."""
    caller.require_namespace(request.namespace)
    _check_namespace(request.namespace, policy)
    _check_claim(request.pvc_name, policy)
    _check_images(request, policy)
    if request.entrypoint is not None and not policy.custom_entrypoints:
        raise PolicyViolation(
            "custom_entrypoints", "this service does not allow a custom entrypoint"
        )
    _check_resources(request, policy)


def _check_namespace(namespace: str, policy: PolicySettings) -> None:
    allowed = policy.namespaces
    if is_reserved_namespace(namespace) or not (ANY in allowed or namespace in allowed):
        raise PolicyViolation(
            "namespaces",
            f"jobs may not run in namespace {namespace!r}",
            namespace=namespace,
            allowed=allowed,
        )


def _check_claim(pvc_name: str | None, policy: PolicySettings) -> None:
    allowed = policy.existing_claims
    if pvc_name is None or ANY in allowed or pvc_name in allowed:
        return
    raise PolicyViolation(
        "existing_claims",
        f"jobs may not mount the existing claim {pvc_name!r}",
        pvcName=pvc_name,
        allowed=allowed,
    )


def _check_images(request: TrainingJobRequest, policy: PolicySettings) -> None:
    prefixes = policy.image_prefixes
    if ANY in prefixes:
        return
    named = {
        "algorithm.imageUri": request.algorithm.image_uri,
        "headImage": request.head_image,
        "workerImage": request.worker_image,
    }
    for field, image in named.items():
        if image is not None and not image.startswith(tuple(prefixes)):
            raise PolicyViolation(
                "image_prefixes",
                f"{field} is not from an allowed registry",
                field=field,
                allowed=prefixes,
            )


def _check_resources(request: TrainingJobRequest, policy: PolicySettings) -> None:
    resources = request.resources
    instance = resources.instance_resources
    asked = (
        ("max_cpu_cores", "cpuCores", instance.cpu_cores, policy.max_cpu_cores),
        ("max_memory_gib", "memoryGiB", instance.memory_gi_b, policy.max_memory_gib),
        ("max_gpu_count", "gpuCount", instance.gpu_count, policy.max_gpu_count),
        (
            "max_instance_count",
            "instanceCount",
            resources.instance_count,
            policy.max_instance_count,
        ),
        ("max_volume_size_gb", "volumeSizeGB", resources.volume_size_gb, policy.max_volume_size_gb),
    )
    for rule, field, value, cap in asked:
        if value > cap:
            raise PolicyViolation(
                rule, f"{field} {value} is over the limit of {cap}", field=field, limit=cap
            )
