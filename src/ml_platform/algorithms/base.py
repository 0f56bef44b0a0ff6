"""Base classes of the hyperparameter models.

``ClosedHyperparameters`` rejects unknown keys (XGBoost, whose full parameter set is known).
``OpenHyperparameters`` type-checks its declared keys and also accepts unknown keys whose values
are JSON scalars: the earlier UI sent free objects of scalars for these algorithms.
"""

from __future__ import annotations

import re
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ml_platform.algorithms.environment import environment_name
from ml_platform.algorithms.fields import EXTRA_KEY_PATTERN, MAX_EXTRA_KEY_LENGTH, Scalar

MAX_EXTRA_KEYS = 64

_EXTRA_KEY = re.compile(EXTRA_KEY_PATTERN)

# Strict: no silent coercion of "5" to 5 or of true to 1; ints are still accepted for floats.
_COMMON_CONFIG = ConfigDict(strict=True, allow_inf_nan=False, frozen=True)


class ClosedHyperparameters(BaseModel):
    """Hyperparameters whose complete set of keys is declared; anything else is an error."""

    model_config = ConfigDict(**_COMMON_CONFIG, extra="forbid")


class OpenHyperparameters(BaseModel):
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
