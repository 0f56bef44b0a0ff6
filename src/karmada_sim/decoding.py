"""Decoding a request body as the apiserver does: prune unknown fields, apply `fieldValidation`,
reject wrong types and invalid values.

Custom resources follow apiextensions-apiserver (structural pruning, then OpenAPI validation:
422 Invalid with `FieldValueTypeInvalid` causes). Built-in kinds follow the Go JSON decoder
(a wrong type is a 400 "cannot be handled as", unknown fields are dropped) and then the kind's
validation (422). Either way `fieldValidation=Strict` turns unknown fields into a 400
`strict decoding error`, `Warn` (the default) into `Warning` headers, and `Ignore` drops them.
"""

from __future__ import annotations

import binascii
import copy
import functools
import re
from dataclasses import dataclass
from typing import Any

import orjson

from karmada_sim import errors
from karmada_sim.crds import CUSTOM_SCHEMAS
from karmada_sim.resources import Resource
from karmada_sim.schema import Node, compile_schema, definition

FIELD_VALIDATION = ("Ignore", "Strict", "Warn")
CONTAINER = "io.k8s.api.core.v1.Container"
# What a custom resource's schema says of a quantity (controller-gen's pattern).
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|"
    r"([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QUANTITY = re.compile(QUANTITY_PATTERN)
# resource.ParseQuantity's message for a malformed quantity (a decode error for built-ins).
_QUANTITY_DECODE_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_DROP = object()


@dataclass(frozen=True)
class Decoded:
    """The object as it would be stored, and the warnings to send with the answer."""

    obj: dict[str, Any]
    warnings: list[str]


def field_validation(raw: str | None) -> str:
    """The `fieldValidation` directive (default Warn); another value is a 422 as the apiserver
    validates CreateOptions/UpdateOptions/PatchOptions."""
    if not raw:
        return "Warn"
    if raw not in FIELD_VALIDATION:
        supported = ", ".join(f'"{v}"' for v in ("", *FIELD_VALIDATION))
        raise _options_invalid(
            "fieldValidation",
            "FieldValueNotSupported",
            f'Unsupported value: "{raw}": supported values: {supported}',
        )
    return raw


def dry_run(values: list[str]) -> bool:
    """Whether `dryRun` asks for a dry run; only `All` is a valid value (else 422)."""
    if not values:
        return False
    if any(v != "All" for v in values):
        shown = ", ".join(f'"{v}"' for v in values)
        raise _options_invalid(
            "dryRun",
            "FieldValueNotSupported",
            f'Unsupported value: []string{{{shown}}}: supported values: "All"',
        )
    return True


def _options_invalid(field: str, reason: str, message: str) -> errors.ApiError:
    return errors.ApiError(
        422,
        "Invalid",
        f'CreateOptions.meta.k8s.io "" is invalid: {field}: {message}',
        {
            "group": "meta.k8s.io",
            "kind": "CreateOptions",
            "causes": [{"reason": reason, "message": message, "field": field}],
        },
    )


def builtin_definition(res: Resource) -> str:
    """The official definition of a built-in kind: `io.k8s.api.core.v1.Pod`,
    `io.k8s.api.batch.v1.Job` (the group's first label, `core` for the core group)."""
    return f"io.k8s.api.{res.group.split('.')[0] or 'core'}.{res.version}.{res.kind}"


@functools.cache
def schema_for(res: Resource) -> Node:
    """The compiled schema of a kind (compiled once)."""
    if res.custom:
        return compile_schema(CUSTOM_SCHEMAS[res.kind])
    return definition(builtin_definition(res))


def decode(res: Resource, obj: dict[str, Any], *, directive: str, patched: bool = False) -> Decoded:
    """Prune and validate `obj` for `res` under a `fieldValidation` directive; `patched` when
    `obj` is the result of a PATCH (its decode errors are answered differently)."""
    decoder = _Decoder(custom=res.custom)
    pruned = decoder.walk(schema_for(res), obj, "", res.kind)
    result: dict[str, Any] = pruned if isinstance(pruned, dict) else {}
    meta = result.get("metadata")
    name = str(meta.get("name") or "") if isinstance(meta, dict) else ""
    unknown = sorted(decoder.unknown)
    problem = decoder.decode_error
    if problem is None and unknown and directive == "Strict":
        problem = "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in unknown)
    if problem is not None:
        raise _patch_error(obj, problem) if patched else _decode_error(res, obj, problem)
    if decoder.causes:
        raise errors.invalid(res, name, decoder.causes)
    warnings = [f'unknown field "{p}"' for p in unknown] if directive == "Warn" else []
    return Decoded(result, warnings)


def _decode_error(res: Resource, obj: dict[str, Any], problem: str) -> errors.ApiError:
    """A body that cannot be decoded: 400, as the apiserver's transformDecodeError words it."""
    if obj.get("kind"):
        return errors.bad_request(
            f'{obj["kind"]} in version "{res.version}" cannot be handled as a {res.kind}: {problem}'
        )
    raw = orjson.dumps(obj).decode()
    summary = raw if len(raw) <= 30 else raw[:30] + " ..."
    return errors.bad_request(
        f"the object provided is unrecognized (must be of type {res.kind}): {problem} ({summary})"
    )


def _patch_error(obj: dict[str, Any], problem: str) -> errors.ApiError:
    """A patch whose result cannot be decoded: 422 on the field `patch` (the apiserver's
    jsonPatcher), with the patched object as the value."""
    cause = errors.field_error("patch", "FieldValueInvalid", problem, orjson.dumps(obj).decode())
    return errors.ApiError(
        422,
        "Invalid",
        f' "" is invalid: patch: {cause["message"]}',
        {"causes": [cause]},
    )


_JSON_TYPES: dict[type, str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    dict: "object",
    list: "array",
}


def _json_type(value: Any) -> str:
    """The JSON type of a decoded value (orjson gives exactly these Python types)."""
    return _JSON_TYPES.get(type(value), "null")


_GO_JSON = {"boolean": "bool", "integer": "number", "number": "number"}


def _go_type(node: Node) -> str:
    """The Go type a built-in field decodes into, as encoding/json names it."""
    if node.definition:
        return "v1." + node.definition.rsplit(".", 1)[-1]
    if node.items is not None:
        return "[]" + _go_type(node.items)
    if node.additional is not None:
        return "map[string]" + _go_type(node.additional)
    if "integer" in node.types:
        return node.format or "int"
    if "number" in node.types:
        return "float64"
    if "boolean" in node.types:
        return "bool"
    return "string"


def _base64_error(text: str) -> str | None:
    """encoding/base64's error for a malformed value (None when it decodes)."""
    try:
        binascii.a2b_base64(text.encode(), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        alphabet = re.compile(r"[^A-Za-z0-9+/=]")
        bad = alphabet.search(text)
        return f"illegal base64 data at input byte {bad.start() if bad else len(text)}"
    return None


class _Decoder:
    """One walk over a body: the pruned copy, unknown field paths and errors."""

    __slots__ = ("causes", "custom", "decode_error", "unknown")

    def __init__(self, *, custom: bool) -> None:
        self.custom = custom
        self.unknown: list[str] = []
        self.causes: list[dict[str, Any]] = []
        # Built-in kinds: the first error of the Go JSON decoder (a 400).
        self.decode_error: str | None = None

    def walk(self, node: Node, value: Any, path: str, owner: str) -> Any:
        if value is None:
            return _DROP
        actual = _json_type(value)
        if (
            node.types
            and actual not in node.types
            and not (actual == "integer" and "number" in node.types)
        ):
            self.type_error(node, value, actual, path, owner)
            return value
        special = node.special
        if special:
            self.check_special(node, value, path)
            return value
        if actual == "object":
            return self.walk_object(node, value, path, owner)
        if actual == "array":
            if self.custom and node.min_items is not None and len(value) < node.min_items:
                self.causes.append(
                    errors.field_error(
                        path,
                        "FieldValueInvalid",
                        f"{path} in body should have at least {node.min_items} items",
                        len(value),
                    )
                )
            items = node.items
            if items is None:
                return value
            walked = [self.walk(items, item, f"{path}[{i}]", owner) for i, item in enumerate(value)]
            return [None if item is _DROP else item for item in walked]
        if self.custom:
            self.check_value(node, value, path)
        return value

    def walk_object(self, node: Node, value: dict[str, Any], path: str, owner: str) -> Any:
        if node.preserve and node.properties is None:
            return value
        owner = node.definition.rsplit(".", 1)[-1] if node.definition else owner
        properties = node.properties or {}
        additional = node.additional
        prefix = f"{path}." if path else ""
        out: dict[str, Any] = {}
        for key, item in value.items():
            child = properties.get(key) or additional
            if child is None:
                if node.preserve:
                    out[key] = item
                else:
                    self.unknown.append(prefix + key)
                continue
            walked = self.walk(child, item, prefix + key, owner)
            if walked is not _DROP:
                out[key] = walked
        if self.custom:
            for key, default in node.defaults:
                if key not in out:
                    out[key] = copy.deepcopy(default)
        for key in node.required:
            if key not in out:
                self.causes.append(
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value",
                        "field": prefix + key,
                    }
                )
        if node.definition == CONTAINER and not self.custom and "name" in out:
            self.check_container_name(out["name"], prefix + "name")
        return out

    def type_error(self, node: Node, value: Any, actual: str, path: str, owner: str) -> None:
        if self.custom:
            expected = ",".join(sorted(node.types))
            self.causes.append(
                {
                    "reason": "FieldValueTypeInvalid",
                    "message": f'Invalid value: "{actual}": {path} in body must be of type '
                    f'{expected}: "{actual}"',
                    "field": path,
                }
            )
        elif self.decode_error is None:
            self.decode_error = (
                f"json: cannot unmarshal {_GO_JSON.get(actual, actual)} into Go struct field "
                f"{owner}.{path} of type {_go_type(node)}"
            )

    def check_special(self, node: Node, value: Any, path: str) -> None:
        if node.special == "quantity" and isinstance(value, str) and not _QUANTITY.match(value):
            if self.custom:
                self.causes.append(
                    errors.field_error(
                        path,
                        "FieldValueInvalid",
                        f"{path} in body should match '{QUANTITY_PATTERN}'",
                        value,
                    )
                )
            elif self.decode_error is None:
                self.decode_error = _QUANTITY_DECODE_ERROR
        elif node.special == "byte" and not self.custom and isinstance(value, str):
            problem = _base64_error(value)
            if problem is not None and self.decode_error is None:
                self.decode_error = problem

    def check_value(self, node: Node, value: Any, path: str) -> None:
        """OpenAPI value checks of a custom resource's schema."""
        if node.enum is not None and value not in node.enum:
            supported = ", ".join(f'"{v}"' for v in node.enum)
            self.causes.append(
                errors.field_error(
                    path, "FieldValueNotSupported", f"supported values: {supported}", value
                )
            )
        if isinstance(value, str):
            if node.pattern is not None and not node.pattern.search(value):
                self.causes.append(
                    errors.field_error(
                        path,
                        "FieldValueInvalid",
                        f"{path} in body should match '{node.pattern_text}'",
                        value,
                    )
                )
            if node.max_length is not None and len(value) > node.max_length:
                self.causes.append(
                    errors.field_error(
                        path,
                        "FieldValueTooLong",
                        f"may not be more than {node.max_length} bytes",
                    )
                )
            if node.min_length is not None and len(value) < node.min_length:
                self.causes.append(
                    errors.field_error(
                        path,
                        "FieldValueInvalid",
                        f"{path} in body should be at least {node.min_length} chars long",
                        value,
                    )
                )
        elif isinstance(value, int) and node.minimum is not None and value < node.minimum:
            self.causes.append(
                errors.field_error(
                    path,
                    "FieldValueInvalid",
                    f"{path} in body should be greater than or equal to {node.minimum}",
                    value,
                )
            )

    def check_container_name(self, name: Any, path: str) -> None:
        """apimachinery ValidateDNS1123Label, as pod validation applies it to container names."""
        if isinstance(name, str) and (len(name) > 63 or not _DNS1123_LABEL.match(name)):
            self.causes.append(
                errors.field_error(path, "FieldValueInvalid", _DNS1123_LABEL_MSG, name)
            )
