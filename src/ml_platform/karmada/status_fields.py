"""Defensive readers for status documents written by Karmada and member clusters.

Anything a cluster writes may be missing, mistyped or hostile; these readers never raise and
turn whatever they cannot use into "absent" (None, 0 or an empty tuple).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeGuard

# A member cluster controls these strings; keep them bounded before they reach the database.
MAX_TEXT_LENGTH = 1024


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # Decoded JSON is a dict; the exact-type test skips the slower ABC check on the hot path.
    return type(value) is dict or isinstance(value, Mapping)


def as_mapping(value: object) -> Mapping[str, Any] | None:
    """Return ``value`` if it is a mapping, else None."""
    return value if _is_mapping(value) else None


def mappings(value: object) -> list[Mapping[str, Any]]:
    """Return the mapping items of a list (non-mappings dropped); anything else gives []."""
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if _is_mapping(item)]


def text(value: object) -> str | None:
    """Return a non-empty string cut to ``MAX_TEXT_LENGTH``, else None."""
    if not isinstance(value, str) or not value:
        return None
    return value if len(value) <= MAX_TEXT_LENGTH else value[: MAX_TEXT_LENGTH - 3] + "..."


def count(value: object) -> int:
    """Return a non-negative integer counter; bools, negatives and non-integers give 0."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(value, 0)


def timestamp(value: object) -> datetime | None:
    """Parse an RFC 3339 time (``2024-05-01T12:00:00Z``) to an aware datetime, else None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # RFC 3339 always carries an offset; a naive time would be guessed, so it counts as absent.
    return parsed if parsed.tzinfo is not None else None


def true_conditions(status: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Return ``status.conditions`` entries whose ``status`` is "True", in list order."""
    return [c for c in mappings(status.get("conditions")) if c.get("status") == "True"]


def condition(conditions: object, condition_type: str) -> Mapping[str, Any] | None:
    """Return the last condition of ``condition_type`` in a conditions list, or None."""
    found = [c for c in mappings(conditions) if c.get("type") == condition_type]
    return found[-1] if found else None
