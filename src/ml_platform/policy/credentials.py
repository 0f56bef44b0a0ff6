"""Credentials are referenced, never written inline: a request whose text looks like it holds
one (URL userinfo, keys named like a secret, access keys, private keys, ``--password=...``) is
refused with a 422 saying how to reference a Kubernetes Secret instead. The refusal names the
field, never the value."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ml_platform.errors import InvalidRequestError

# Every check looks only near the places a literal marker occurs ("://", a keyword, "AKIA"),
# with bounded patterns, and at most _MAX_MARKERS of them per value: values are up to 4 KiB,
# and a scan that backtracks or tries a pattern at every position would let one request keep
# a worker busy for seconds. Enough for any real value; the check guards against accidents.
_MAX_MARKERS = 64
_SECRET_WORD_RE = re.compile(
    r"password|passwd|passphrase|secret|token|credential|api[_-]?key|private[_-]?key"
)
# After "://": user info, ending in "@" before the host (possessive: no backtracking).
_USERINFO = re.compile(r"([^/?#\s@]{0,256}+)@")
# After a keyword: the rest of the name, then `=` or `:` and a value (`password=x`, `TOKEN: x`).
_ASSIGNED = re.compile(r"[\w-]{0,64}+\s{0,8}+[=:]\s{0,8}+\S")
# After a keyword inside a flag (`--api-key x`): the rest of the flag, a space, a value.
_FLAG_VALUE = re.compile(r"[\w-]{0,64}+\s{1,8}+[^-\s]")
_ACCESS_KEY = re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----")


def _marked(text: str, marker: str) -> Iterator[int]:
    """Where ``marker`` occurs in ``text``, at most _MAX_MARKERS times."""
    position = text.find(marker)
    for _ in range(_MAX_MARKERS):
        if position < 0:
            return
        yield position
        position = text.find(marker, position + 1)


def _url_userinfo(text: str) -> bool:
    """`scheme://user:password@` anywhere, or `scheme://token@` except the plain user names of
    ssh URLs (`git+ssh://git@host/...`)."""
    for at in _marked(text, "://"):
        found = _USERINFO.match(text, at + 3)
        if found and (":" in found[1] or text[max(0, at - 3) : at].lower() != "ssh"):
            return True
    return False


def _inline_secret(text: str) -> bool:
    """`password=x`, `TOKEN: x` or `--api-key x` somewhere in ``text``."""
    lowered = text.lower()
    for count, found in enumerate(_SECRET_WORD_RE.finditer(lowered)):
        if count >= _MAX_MARKERS:
            return False
        if _ASSIGNED.match(lowered, found.end()):
            return True
        # A flag: the keyword's word starts with "-" (looked for within the flag's length).
        window = lowered[max(0, found.start() - 64) : found.start()]
        word_start = window.split()[-1] if window and not window[-1].isspace() else ""
        if word_start.startswith("-") and _FLAG_VALUE.match(lowered, found.end()):
            return True
    return False


def _access_key(text: str) -> bool:
    return any(
        _ACCESS_KEY.match(text, at) and (at == 0 or not text[at - 1].isalnum())
        for marker in ("AKIA", "ASIA")
        for at in _marked(text, marker)
    )


def _private_key(text: str) -> bool:
    return any(_PRIVATE_KEY.match(text, at) for at in _marked(text, "-----BEGIN "))


_VALUE_CHECKS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("URL with user info", _url_userinfo),
    ("inline secret assignment", _inline_secret),
    ("cloud access key", _access_key),
    ("private key", _private_key),
)


# Free-text fields that hold names and paths, where a word like "token" is not an assignment;
# URL userinfo and key material are still refused there.
_NAME_FIELDS = frozenset({"jobName", "channelName", "id", "bucket", "prefix", "sourceType"})

HOW_TO = (
    'reference a Kubernetes Secret instead: "secretEnv": [{"name": "<ENV_VAR>", "secretName":'
    ' "<secret in the job namespace>", "key": "<key in it>"}]; data-channel credentials come from'
    " the namespace's object-storage Secret (see USER_GUIDE.md, Access control)"
)


def _secret_name(name: str) -> bool:
    """A name that says it holds a secret: *password*, *secret*, *token*, ..., or *_KEY."""
    lowered = name.lower()
    return bool(_SECRET_WORD_RE.search(lowered)) or lowered.endswith("_key")


def _walk(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    stack = [(loc, value)]
    while stack:
        where, item = stack.pop()
        yield where, item
        if isinstance(item, dict):
            stack.extend(((*where, str(key)), child) for key, child in item.items())
        elif isinstance(item, list):
            stack.extend(((*where, index), child) for index, child in enumerate(item))


def credential_findings(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Where a request body (wire names) looks like it holds a credential, and why; the
    findings carry locations and reasons only."""
    findings: list[dict[str, Any]] = []
    for loc, value in _walk(body, ()):
        field = next((part for part in reversed(loc) if isinstance(part, str)), "")
        in_env = len(loc) >= 2 and loc[0] in ("customHyperparameters", "hyperparameters")
        if in_env and isinstance(loc[-1], str) and _secret_name(loc[-1]):
            findings.append({"loc": ["body", *loc], "reason": "name says it holds a secret"})
            continue
        if not isinstance(value, str):
            continue
        for reason, found in _VALUE_CHECKS:
            if reason == "inline secret assignment" and field in _NAME_FIELDS:
                continue
            if found(value):
                findings.append({"loc": ["body", *loc], "reason": reason})
                break
    return sorted(findings, key=lambda finding: [str(part) for part in finding["loc"]])


def refuse_inline_credentials(body: dict[str, Any]) -> None:
    """422 when the request body holds anything that looks like a credential."""
    findings = credential_findings(body)
    if findings:
        first = ".".join(str(part) for part in findings[0]["loc"][1:])
        more = f" (and {len(findings) - 1} more)" if len(findings) > 1 else ""
        raise InvalidRequestError(
            f"{first} looks like a credential ({findings[0]['reason']}){more}; {HOW_TO}",
            {"findings": findings, "howTo": HOW_TO},
        )
