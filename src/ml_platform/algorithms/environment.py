"""How hyperparameters become environment variables of a training container.

The single place that defines the naming rule (upper-case, non-alphanumerics to ``_``, with
per-algorithm renames) and the value rule (every value a string, in the spelling the existing
training images parse).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

NO_RENAMES: Mapping[str, str] = MappingProxyType({})

_NOT_ALPHANUMERIC = re.compile(r"[^A-Z0-9]")
# Beyond this magnitude an integral float no longer prints exactly as an integer.
_EXACT_INTEGER_LIMIT = 2**53


def environment_name(key: str, renames: Mapping[str, str] = NO_RENAMES) -> str:
    """Return the environment variable name for hyperparameter ``key``."""
    renamed = renames.get(key)
    if renamed is not None:
        return renamed
    return _NOT_ALPHANUMERIC.sub("_", key.upper())


def environment_value(value: Any) -> str:
    """Render one hyperparameter value as the string a training image reads.

    ``None`` is empty, booleans are ``true``/``false``, integral floats print as integers
    (``1.0`` -> ``"1"``), other floats in their shortest exact form (``0.3`` -> ``"0.3"``),
    lists are comma-joined.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < _EXACT_INTEGER_LIMIT:
            return str(int(value))
        return repr(value)
    if isinstance(value, list | tuple):
        return ",".join(environment_value(item) for item in value)
    return str(value)


def environment_variables(
    values: Mapping[str, Any], renames: Mapping[str, str] = NO_RENAMES
) -> dict[str, str]:
    """Map already-validated hyperparameters to environment variables.

    Also usable for a job's custom hyperparameters, which follow the same rule.
    """
    return {
        environment_name(key, renames): environment_value(value) for key, value in values.items()
    }
