"""Credentials are referenced, never written inline: a request whose text looks like it holds
one (URL userinfo, keys named like a secret, access keys, private keys, ``--password=...``) is
refused with a 422 saying how to reference a Kubernetes Secret instead. The refusal names the
field, never the value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ml_platform.errors import InvalidRequestError

# scheme://anything-but-slash@ : userinfo, with or without a password.
_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]*@")
_SECRET_WORD = r"(?:password|passwd|passphrase|secret|token|credential|api[_-]?key|private[_-]?key)"
# A name that says it holds a secret: *password*, *secret*, *token*, ..., or *_KEY.
_SECRET_NAME = re.compile(rf"(?i)^.*{_SECRET_WORD}.*$|^.*_key$")
# `password=x`, `TOKEN: x`, `--api-key x` inside free text such as an entrypoint.
_SECRET_ASSIGNMENT = re.compile(
    rf"(?i)[\w-]*{_SECRET_WORD}[\w-]*\s*[=:]\s*\S|--?[\w-]*{_SECRET_WORD}[\w-]*\s+[^-\s]"
)
_VALUE_PATTERNS = (
    ("URL with user info", _URL_USERINFO),
    ("inline secret assignment", _SECRET_ASSIGNMENT),
    ("cloud access key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
# Free-text fields that hold names and paths, where a word like "token" is not an assignment;
# URL userinfo and key material are still refused there.
_NAME_FIELDS = frozenset({"jobName", "channelName", "id", "bucket", "prefix", "sourceType"})

HOW_TO = (
    'reference a Kubernetes Secret instead: "secretEnv": [{"name": "<ENV_VAR>", "secretName":'
    ' "<secret in the job namespace>", "key": "<key in it>"}]; data-channel credentials come from'
    " the namespace's object-storage Secret (see USER_GUIDE.md, Access control)"
)


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
        if in_env and isinstance(loc[-1], str) and _SECRET_NAME.match(loc[-1]):
            findings.append({"loc": ["body", *loc], "reason": "name says it holds a secret"})
            continue
        if not isinstance(value, str):
            continue
        for reason, pattern in _VALUE_PATTERNS:
            if reason == "inline secret assignment" and field in _NAME_FIELDS:
                continue
            if pattern.search(value):
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
