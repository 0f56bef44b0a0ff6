"""Callers of the authentication tests: their tokens and requests."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ml_platform.auth.settings import TokenEntry
from ml_platform.auth.tokens import token_digest
from tests_support import UI_REQUEST

TEAM = "team-a"
OTHER_TEAM = "team-b"


@dataclass(frozen=True)
class Tokens:
    """A fresh random token per caller of the matrix (and a bad one)."""

    viewer: str
    editor: str
    admin: str
    other_editor: str  # an editor of team-b only
    team_admin: str  # an admin of team-a only
    bad: str

    def values(self) -> list[str]:
        """Every token, for scans that must never find one."""
        return [
            self.viewer,
            self.editor,
            self.admin,
            self.other_editor,
            self.team_admin,
            self.bad,
        ]


def token_entries(tokens: Tokens) -> list[TokenEntry]:
    """The token table of the tests: plain values, and the admin's as a SHA-256 only."""
    return [
        TokenEntry(name="viewer", role="viewer", token=tokens.viewer),
        TokenEntry(name="editor", role="editor", token=tokens.editor),
        TokenEntry(name="admin", role="admin", sha256=token_digest(tokens.admin).hex()),
        TokenEntry(
            name="b-editor", role="editor", namespaces=[OTHER_TEAM], token=tokens.other_editor
        ),
        TokenEntry(name="a-admin", role="admin", namespaces=[TEAM], token=tokens.team_admin),
    ]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def team_request(namespace: str = TEAM, **changes: Any) -> dict[str, Any]:
    """The UI's request in ``namespace``."""
    body = copy.deepcopy(UI_REQUEST)
    body["namespace"] = namespace
    body.update(changes)
    return body
