"""Base classes of the hyperparameter models.

``ClosedHyperparameters`` rejects unknown keys (XGBoost, whose full parameter set is known).
``OpenHyperparameters`` type-checks its declared keys and also accepts unknown keys whose values
are JSON scalars: the earlier UI sent free objects of scalars for these algorithms.
"""

from __future__ import annotations

import re
import types
from functools import cache
from typing import Any, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ml_platform.algorithms.environment import environment_name
from ml_platform.algorithms.fields import EXTRA_KEY_PATTERN, MAX_EXTRA_KEY_LENGTH, Scalar

MAX_EXTRA_KEYS = 64

_EXTRA_KEY = re.compile(EXTRA_KEY_PATTERN)
# The earlier UI sends some integers as text ("nthread": "4"): plain digits, no sign or spaces.
_DECIMAL_INTEGER = re.compile(r"^[0-9]{1,18}$")

# Strict: no silent coercion of "5" to 5 or of true to 1; ints are still accepted for floats.
_COMMON_CONFIG = ConfigDict(strict=True, allow_inf_nan=False, frozen=True)


def _accepts_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return int in get_args(annotation)
    return False


class Hyperparameters(BaseModel):
    """What every hyperparameter model shares: an integer may arrive as a decimal string."""

    @classmethod
    @cache
    def integer_keys(cls) -> frozenset[str]:
        """The keys (as sent, so aliases) of the parameters that take an integer."""
        return frozenset(
            field.alias or name
            for name, field in cls.model_fields.items()
            if _accepts_int(field.annotation)
        )

    @model_validator(mode="before")
    @classmethod
    def _integers_from_decimal_text(cls, data: Any) -> Any:
        """``"4"`` becomes ``4`` for integer parameters; the field's own limits still apply."""
        if not isinstance(data, dict):
            return data
        integers = cls.integer_keys()
        return {
            key: int(value)
            if key in integers and isinstance(value, str) and _DECIMAL_INTEGER.match(value)
            else value
            for key, value in data.items()
        }


class ClosedHyperparameters(Hyperparameters):
    """Hyperparameters whose complete set of keys is declared; anything else is an error."""

    model_config = ConfigDict(**_COMMON_CONFIG, extra="forbid")


class OpenHyperparameters(Hyperparameters):
    """Declared hyperparameters plus free extra keys whose values must be scalars."""

    model_config = ConfigDict(
        **_COMMON_CONFIG,
        extra="allow",
        json_schema_extra={
            "propertyNames": {"pattern": EXTRA_KEY_PATTERN, "maxLength": MAX_EXTRA_KEY_LENGTH}
        },
    )

    __pydantic_extra__: dict[str, Scalar] = Field(init=False)

    @model_validator(mode="after")
    def _check_extra_keys(self) -> Self:
        """Extra keys become environment variable names, so they must be plain and distinct."""
        extras = self.__pydantic_extra__ or {}
        if len(extras) > MAX_EXTRA_KEYS:
            raise ValueError(f"at most {MAX_EXTRA_KEYS} extra hyperparameters are allowed")
        seen = {environment_name(name): name for name in type(self).model_fields}
        for key in extras:
            if len(key) > MAX_EXTRA_KEY_LENGTH or not _EXTRA_KEY.fullmatch(key):
                raise ValueError(
                    f"hyperparameter name {key!r} must match {EXTRA_KEY_PATTERN} and have at "
                    f"most {MAX_EXTRA_KEY_LENGTH} characters"
                )
            name = environment_name(key)
            if name in seen:
                raise ValueError(
                    f"hyperparameters {seen[name]!r} and {key!r} map to the same "
                    f"environment variable {name}"
                )
            seen[name] = key
        return self
