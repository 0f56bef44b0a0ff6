"""Constrained value types shared by the hyperparameter models.

Every string that reaches a workload manifest or an environment variable goes through one of
these types, so no hyperparameter can carry control characters or unbounded text.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import Field, PlainValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

MAX_TEXT_LENGTH = 1024
# C0 and C1 control characters and DEL: no hyperparameter value needs them.
_NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f-\x9f]*$"

EXTRA_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
MAX_EXTRA_KEY_LENGTH = 128

Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_LENGTH, pattern=_NO_CONTROL_CHARACTERS)]
"""Free text of bounded length without control characters."""

Flag = Annotated[int, Field(ge=0, le=1)]
"""A 0/1 switch, spelled as an integer the way XGBoost and the existing UI spell it."""


def _contains_control_character(text: str) -> bool:
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text)


def _check_scalar(value: Any) -> str | int | float | bool | None:
    """Accept one JSON scalar; reject containers, non-finite numbers and unsafe text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PydanticCustomError("finite_number", "Input should be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH:
            raise PydanticCustomError(
                "string_too_long",
                "String should have at most {max_length} characters",
                {"max_length": MAX_TEXT_LENGTH},
            )
        if _contains_control_character(value):
            raise PydanticCustomError(
                "string_control_character", "String must not contain control characters"
            )
        return value
    raise PydanticCustomError(
        "scalar_type", "Input should be a string, a number, a boolean or null"
    )


Scalar = Annotated[
    str | int | float | bool | None,
    PlainValidator(_check_scalar),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": MAX_TEXT_LENGTH, "pattern": _NO_CONTROL_CHARACTERS},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }
    ),
]
"""A free-form hyperparameter value: one JSON scalar (no objects or arrays)."""


def _check_thread_count(value: Any) -> int | str:
    if isinstance(value, str) and value == "auto":
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1024:
        return value
    raise PydanticCustomError("thread_count", 'Input should be "auto" or an integer from 1 to 1024')


ThreadCount = Annotated[
    int | str,
    PlainValidator(_check_thread_count),
    WithJsonSchema(
        {"anyOf": [{"const": "auto"}, {"type": "integer", "minimum": 1, "maximum": 1024}]}
    ),
]
"""A thread count: a positive integer, or "auto" to let the framework use every core."""
