"""Helpers that look inside rendered manifests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes_validate

from ml_platform.workloads import RenderedJob

KUBERNETES_VERSION = "1.37.0"


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) in a manifest; list items are addressed by index."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, (*path, f"[{index}]"))


def key_paths(node: Any) -> set[tuple[str, ...]]:
    """The structure of a manifest without its leaf values."""
    return {path for path, _ in walk(node)}


def dicts_with_key(node: Any, key: str) -> list[dict[str, Any]]:
    """Every mapping in `node` that has `key`."""
    return [value for _, value in walk(node) if isinstance(value, dict) and key in value]


def pod_templates(workload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every pod template of a workload of any kind (found by its `containers` list)."""
    return [
        value
        for _, value in walk(workload)
        if isinstance(value, dict)
        and isinstance(value.get("spec"), dict)
        and "containers" in value["spec"]
    ]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every container of every pod template."""
    return [c for template in pod_templates(workload) for c in template["spec"]["containers"]]


def validate_strictly(manifest: dict[str, Any]) -> None:
    """Validate against the Kubernetes OpenAPI schema, rejecting unknown fields."""
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def validate_pod_templates(rendered: RenderedJob) -> None:
    """Every pod template, wrapped as a core/v1 PodTemplate, passes strict validation."""
    templates = pod_templates(rendered.workload)
    assert templates
    for index, template in enumerate(templates):
        validate_strictly(
            {
                "apiVersion": "v1",
                "kind": "PodTemplate",
                "metadata": {"name": f"template-{index}"},
                "template": template,
            }
        )
