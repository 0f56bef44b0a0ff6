"""The API token table: tokens are kept only as SHA-256 digests and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from ml_platform.auth.caller import Caller
from ml_platform.auth.settings import AuthSettings, TokenEntry


class AuthConfigError(ValueError):
    """The authentication settings cannot be used; the message is one line."""


def token_digest(token: str) -> bytes:
    """SHA-256 of a token: what is stored and compared (tokens are long random strings, so a
    fast hash is enough; a slow one only matters for guessable passwords)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def _entry_digest(entry: TokenEntry) -> bytes:
    if entry.token is not None:
        return token_digest(entry.token.get_secret_value())
    assert entry.sha256 is not None
    return bytes.fromhex(entry.sha256)


class TokenTable:
    """Caller by token; built once at start, the plain tokens are not kept."""

    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        self._entries: list[tuple[bytes, Caller]] = []
        names: set[str] = set()
        digests: set[bytes] = set()
        for entry in entries:
            digest = _entry_digest(entry)
            if entry.name in names:
                raise AuthConfigError(f"two API tokens are named {entry.name!r}")
            if digest in digests:
                raise AuthConfigError(f"API token {entry.name!r} repeats another token")
            names.add(entry.name)
            digests.add(digest)
            namespaces = None if entry.namespaces is None else frozenset(entry.namespaces)
            self._entries.append((digest, Caller(entry.name, entry.role, namespaces)))

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, token: str) -> Caller | None:
        """The caller owning ``token``, or None. Every entry is compared (no early exit), so the
        time taken does not tell which entry, or how much of one, matched."""
        digest = token_digest(token)
        found: Caller | None = None
        for candidate, caller in self._entries:
            if hmac.compare_digest(candidate, digest):
                found = caller
        return found


_ENTRIES = TypeAdapter(list[TokenEntry])


def read_tokens_file(path: Path) -> list[TokenEntry]:
    """Token entries from a YAML/JSON file; AuthConfigError (one line, no token) otherwise."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuthConfigError(f"cannot read tokens file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError:
        raise AuthConfigError(f"tokens file {path} is not valid YAML") from None
    try:
        return _ENTRIES.validate_python(document or [])
    except ValidationError as exc:
        # Only locations and messages: never the input, which may hold a token.
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AuthConfigError(f"tokens file {path}: {where}: {first['msg']}") from None


def load_token_table(settings: AuthSettings) -> TokenTable:
    """Tokens from the settings and from the tokens file, when one is configured."""
    entries = list(settings.tokens)
    if settings.tokens_file is not None:
        entries.extend(read_tokens_file(settings.tokens_file))
    return TokenTable(entries)
