"""The OpenAPI v3 documents (`/openapi/v3` and one per group-version), built from the same
schemas the API server decodes with, so `kubectl explain` finds every field.

As the apiserver serves them: the root lists each group-version with a `serverRelativeURL`
carrying `?hash=` (the document's SHA-512), and each document is OpenAPI 3.0 with
`components.schemas` named by reversed group (`io.ray.v1.RayJob`), the
`x-kubernetes-group-version-kind` extension, and `$ref`s to `#/components/schemas/...`
(wrapped in `allOf` where a description sits beside them). Operations declare the `dryRun`,
`fieldManager` and `fieldValidation` query parameters: kubectl reads `fieldValidation` there to
leave validation to the server.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson

from karmada_sim.crds import CUSTOM_SCHEMAS
from karmada_sim.decoding import builtin_definition
from karmada_sim.discovery import KUBERNETES_VERSION
from karmada_sim.resources import RESOURCES, Resource
from karmada_sim.schema import INT_OR_STRING, QUANTITY, definitions, ref_name

_COMPONENTS = "#/components/schemas/"


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def gv_path(res: Resource) -> str:
    """`apis/ray.io/v1` or `api/v1`: where the OpenAPI document of a kind's group-version is."""
    return _gv_path(res.group, res.version)


def schema_name(res: Resource) -> str:
    """`io.ray.v1.RayJob`, `io.k8s.api.batch.v1.Job`: the component a kind is described by."""
    if not res.custom:
        return builtin_definition(res)
    return ".".join([*reversed(res.group.split(".")), res.version, res.kind])


def _convert(schema: dict[str, Any], used: set[str]) -> dict[str, Any]:
    """A JSON-schema node as OpenAPI 3.0: one type, refs into components, no
    `additionalProperties: false`; records every referenced definition in `used`."""
    ref = schema.get("$ref")
    if ref is not None:
        name = ref_name(ref)
        used.add(name)
        target = {"$ref": _COMPONENTS + name}
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        return {"allOf": [target], **extra} if extra else target
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if types:
                out["type"] = types[0]
        elif key == "properties":
            out[key] = {k: _convert(v, used) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = _convert(value, used)
        elif key == "additionalProperties" or key == "oneOf":
            continue
        else:
            out[key] = value
    return out


def _definition(name: str, used: set[str]) -> dict[str, Any]:
    source = definitions()[name]
    if name == QUANTITY:
        return {"description": source.get("description", "quantity"), "type": "string"}
    if name == INT_OR_STRING:
        return {"type": "string", "format": "int-or-string"}
    return _convert(source, used)


@functools.cache
def _document(path: str) -> tuple[bytes, str] | None:
    served = [r for r in RESOURCES if _gv_path(r.group, r.version) == path]
    if not served:
        return None
    params = [
        {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for name in ("dryRun", "fieldManager", "fieldValidation")
    ]
    used: set[str] = set()
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for res in served:
        gvk = {"group": res.group, "version": res.version, "kind": res.kind}
        name = schema_name(res)
        if res.custom:
            schemas[name] = _convert(CUSTOM_SCHEMAS[res.kind], used)
        else:
            used.add(name)
        ref = {"$ref": _COMPONENTS + name}

        def operation(action: str, gvk: dict[str, str] = gvk, ref: dict[str, str] = ref) -> Any:
            return {
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": params,
                "responses": {"200": {"content": {"application/json": {"schema": ref}}}},
            }

        scope = "namespaces/{namespace}/" if res.namespaced else ""
        base = f"/{_gv_path(res.group, res.version)}/{scope}{res.plural}"
        writable = not res.read_only
        paths[base] = {"get": operation("list")} | ({"post": operation("post")} if writable else {})
        item: dict[str, Any] = {"get": operation("get")}
        if writable:
            item |= {
                "put": operation("put"),
                "patch": operation("patch"),
                "delete": operation("delete"),
            }
        paths[base + "/{name}"] = item
    done: set[str] = set()
    while used - done:
        name = min(used - done)
        done.add(name)
        schemas[name] = _definition(name, used)
    for res in served:
        gvk = {"group": res.group, "version": res.version, "kind": res.kind}
        schemas[schema_name(res)]["x-kubernetes-group-version-kind"] = [gvk]
    body = orjson.dumps(
        {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
            "paths": paths,
            "components": {"schemas": schemas},
        }
    )
    return body, hashlib.sha512(body).hexdigest().upper()


def root() -> dict[str, Any]:
    """`/openapi/v3`: one document per group-version, addressed with its hash."""
    gvs = sorted({(r.group, r.version) for r in RESOURCES})
    paths = {}
    for group, version in gvs:
        path = _gv_path(group, version)
        document = _document(path)
        assert document is not None
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={document[1]}"}
    return {"paths": paths}


def group_version(path: str) -> bytes | None:
    """`/openapi/v3/apis/{group}/{version}` (or `api/v1`) as JSON; None when not served."""
    document = _document(path)
    return None if document is None else document[0]
