"""Opaque keyset cursors for the job list: base64url of ``[created_at, id]``."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

import orjson

from ml_platform.errors import InvalidRequestError
from ml_platform.jobs.repository import Position


def encode_cursor(position: Position) -> str:
    """The cursor that continues after ``position``."""
    raw = orjson.dumps([position.created_at.isoformat(), position.id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor stands for (422 if it was not made by encode_cursor)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, job_id = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        position = Position(datetime.fromisoformat(created_at), job_id)
    except (ValueError, TypeError, UnicodeError, binascii.Error, orjson.JSONDecodeError):
        raise InvalidRequestError("invalid cursor", {"cursor": cursor[:200]}) from None
    valid_id = isinstance(position.id, str) and "\x00" not in position.id
    if position.created_at.tzinfo is None or not valid_id:
        raise InvalidRequestError("invalid cursor", {"cursor": cursor[:200]})
    return position
