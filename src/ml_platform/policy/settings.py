"""Settings of the job policy (env `ML_PLATFORM_POLICY__<FIELD>`)."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import NoDecode

# Namespaces of the cluster's own machinery: no job may ever run there.
RESERVED_NAMESPACE_PREFIXES = ("kube-", "karmada-")
RESERVED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
ANY = "*"


def is_reserved_namespace(namespace: str) -> bool:
    """kube-system and its kind, and Karmada's own namespaces."""
    return namespace in RESERVED_NAMESPACES or namespace.startswith(RESERVED_NAMESPACE_PREFIXES)


def _split(value: object) -> object:
    """Accept a comma-separated string as well as a list (a JSON list also works)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


def _no_reserved(namespaces: list[str]) -> list[str]:
    reserved = [ns for ns in namespaces if ns != ANY and is_reserved_namespace(ns)]
    if reserved:
        raise ValueError(f"jobs can never run in {', '.join(reserved)}")
    return namespaces


StrList = Annotated[list[str], NoDecode]


class PolicySettings(BaseModel):
    """What a job may ask for; a request breaking a rule is refused with the rule's name."""

    namespaces: StrList = Field(
        default_factory=lambda: ["default"],
        description="Namespaces jobs may use, comma-separated; '*' is any namespace except "
        "kube-* and karmada-* (which are never allowed).",
    )
    existing_claims: StrList = Field(
        default_factory=list,
        description="PVCs a job may mount by `pvcName`, comma-separated; '*' is any; empty "
        "(default): none, jobs get a claim of their own from volumeSizeGB.",
    )
    image_prefixes: StrList = Field(
        default_factory=lambda: [ANY],
        description="Prefixes (registry/repository) that images named in a request must start "
        "with, comma-separated, e.g. 'registry.example.com/ml/'; '*' allows any image.",
    )
    custom_entrypoints: bool = Field(
        default=True, description="Whether a request may replace the image's command."
    )
    max_cpu_cores: int = Field(default=256, ge=1, description="Most CPU cores per instance.")
    max_memory_gib: int = Field(default=4096, ge=1, description="Most memory (GiB) per instance.")
    max_gpu_count: int = Field(default=64, ge=0, description="Most GPUs per instance.")
    max_instance_count: int = Field(default=1000, ge=1, description="Most instances per job.")
    max_volume_size_gb: int = Field(default=65536, ge=0, description="Largest volumeSizeGB.")

    _split_lists = field_validator(
        "namespaces", "existing_claims", "image_prefixes", mode="before"
    )(_split)
    _reserved = field_validator("namespaces")(_no_reserved)
