"""Structural schemas compiled for fast decoding: the official Kubernetes definitions (shipped
by the `kubernetes-validate` package) and the simulator's own custom resource schemas.

A schema is JSON-schema data (`type`, `properties`, `additionalProperties`, `items`, `$ref`,
`required`, `enum`, `pattern`, `x-kubernetes-preserve-unknown-fields`, ...). Each one is
compiled once into `Node`s; `$ref`s name a Kubernetes definition (`#/$defs/<name>`).
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

# The Kubernetes version whose definitions are served (the one `/version` reports).
KUBERNETES_SCHEMA_VERSION = "1.31.0"
REF_PREFIX = "#/$defs/"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@dataclass(eq=False)
class Node:
    """One compiled schema: what a value at this place may be."""

    # JSON types allowed ("object", "array", "string", "integer", "number", "boolean");
    # empty: anything (a definition without a type, e.g. RawExtension).
    types: frozenset[str] = frozenset()
    properties: dict[str, Node] | None = None
    additional: Node | None = None
    items: Node | None = None
    preserve: bool = False
    required: tuple[str, ...] = ()
    # (property, default) for properties with a default (custom resources only).
    defaults: tuple[tuple[str, Any], ...] = ()
    enum: tuple[Any, ...] | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    # "quantity", "int-or-string", "byte" or "" (decoded specially).
    special: str = ""
    minimum: int | None = None
    min_items: int | None = None
    max_length: int | None = None
    min_length: int | None = None
    format: str = ""
    # The Kubernetes definition this node was compiled from (e.g. io.k8s.api.core.v1.PodSpec).
    definition: str = ""
    description: str = ""
    source: dict[str, Any] = field(default_factory=dict, repr=False)


def _schema_dir() -> Path:
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the kubernetes-validate package (the dev extra) is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    return root / "kubernetes-json-schema" / f"v{KUBERNETES_SCHEMA_VERSION}-local-strict"


@functools.cache
def definitions() -> dict[str, dict[str, Any]]:
    """The official Kubernetes definitions by name (read once)."""
    loaded: dict[str, dict[str, Any]] = orjson.loads(
        (_schema_dir() / "_definitions.json").read_bytes()
    )["$defs"]
    return loaded


def ref_name(ref: str) -> str:
    """`io.k8s.api.core.v1.PodSpec` from `#/$defs/io.k8s.api.core.v1.PodSpec` (or any prefix)."""
    return ref.rsplit("/", 1)[-1]


_compiled: dict[str, Node] = {}


def definition(name: str) -> Node:
    """The compiled Kubernetes definition `name` (compiled once; recursion-safe)."""
    node = _compiled.get(name)
    if node is None:
        node = Node(definition=name)
        _compiled[name] = node
        _fill(node, definitions()[name])
    return node


def compile_schema(schema: dict[str, Any]) -> Node:
    """Compile one schema (a custom resource's, or part of one)."""
    ref = schema.get("$ref")
    if ref is not None:
        return definition(ref_name(ref))
    node = Node()
    _fill(node, schema)
    return node


def _fill(node: Node, schema: dict[str, Any]) -> None:
    node.source = schema
    node.description = schema.get("description", "")
    if node.definition == QUANTITY:
        node.special = "quantity"
        node.types = frozenset({"string", "integer", "number"})
        return
    if node.definition == INT_OR_STRING or schema.get("x-kubernetes-int-or-string"):
        node.special = "int-or-string"
        node.types = frozenset({"string", "integer"})
        return
    raw_type = schema.get("type")
    types = [raw_type] if isinstance(raw_type, str) else list(raw_type or [])
    node.types = frozenset(t for t in types if t != "null")
    node.format = schema.get("format", "")
    if node.format == "byte":
        node.special = "byte"
    if "properties" in schema:
        node.properties = {k: compile_schema(v) for k, v in schema["properties"].items()}
        node.defaults = tuple(
            (k, v["default"]) for k, v in schema["properties"].items() if "default" in v
        )
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        node.additional = compile_schema(extra)
    if "items" in schema:
        node.items = compile_schema(schema["items"])
    # An object the schema does not describe (FieldsV1, RawExtension) is kept as it is.
    node.preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields")) or (
        "object" in node.types and node.properties is None and node.additional is None
    )
    if not node.types and node.properties is None:
        node.preserve = True
    node.required = tuple(schema.get("required", ()))
    if "enum" in schema:
        node.enum = tuple(schema["enum"])
    if "pattern" in schema:
        node.pattern_text = schema["pattern"]
        node.pattern = re.compile(schema["pattern"])
    node.minimum = schema.get("minimum")
    node.min_items = schema.get("minItems")
    node.max_length = schema.get("maxLength")
    node.min_length = schema.get("minLength")
