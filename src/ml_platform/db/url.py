"""Turns the accepted database URL spellings into one SQLAlchemy async URL."""

from __future__ import annotations

import shlex
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SQLITE_PATH = Path("ml-platform.db")
_ASYNC_DRIVERS = {"postgresql": "postgresql+psycopg", "sqlite": "sqlite+aiosqlite"}
_SCHEME_ALIASES = {"postgres": "postgresql", "postgresql+psycopg2": "postgresql"}
# libpq keywords that map onto URL parts; everything else becomes a query parameter.
_LIBPQ_PARTS = {"host", "hostaddr", "port", "user", "password", "dbname"}


class DatabaseUrlError(ValueError):
    """The database URL cannot be understood."""


def _from_libpq(conninfo: str) -> URL:
    """Parse a libpq ``key=value`` string (as the old deployment used)."""
    try:
        tokens = shlex.split(conninfo)
    except ValueError as exc:
        raise DatabaseUrlError(f"cannot parse key=value database string: {exc}") from None
    params: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise DatabaseUrlError(f"expected key=value, got {token.split('=')[0]!r}")
        params[key.strip()] = value
    port = params.get("port")
    if port is not None and not port.isdigit():
        raise DatabaseUrlError("port must be a number")
    query = {key: value for key, value in params.items() if key not in _LIBPQ_PARTS}
    return URL.create(
        "postgresql+psycopg",
        username=params.get("user"),
        password=params.get("password"),
        host=params.get("host") or params.get("hostaddr"),
        port=int(port) if port else None,
        database=params.get("dbname"),
        query=query,
    )


def normalize_database_url(raw: str | None) -> URL:
    """The async SQLAlchemy URL for any accepted spelling; SQLite file when empty."""
    if raw is None or not raw.strip():
        return URL.create("sqlite+aiosqlite", database=str(DEFAULT_SQLITE_PATH))
    raw = raw.strip()
    if "://" not in raw:
        if "=" in raw:
            return _from_libpq(raw)
        raise DatabaseUrlError("expected a URL like postgresql://… or a key=value string")
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseUrlError("malformed database URL") from None
    scheme = _SCHEME_ALIASES.get(url.drivername, url.drivername)
    if scheme in _ASYNC_DRIVERS:
        scheme = _ASYNC_DRIVERS[scheme]
    if scheme not in _ASYNC_DRIVERS.values():
        raise DatabaseUrlError(f"unsupported database driver {url.drivername!r}")
    return url.set(drivername=scheme)
