"""Who sent a request, from its ``Authorization: Bearer`` header; built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from ml_platform.auth.caller import ANONYMOUS, Caller
from ml_platform.auth.settings import AuthSettings, OidcSettings
from ml_platform.auth.tokens import AuthConfigError, TokenTable, load_token_table
from ml_platform.errors import UnauthorizedError

if TYPE_CHECKING:
    from ml_platform.auth.oidc import OidcVerifier

log = structlog.get_logger()

UNAUTHENTICATED_WARNING = (
    "authentication is off (allow_unauthenticated): anyone who can reach the API may do anything"
)
REFUSAL = (
    "no API tokens or OIDC configured: set ML_PLATFORM_AUTH__TOKENS_FILE (or AUTH__TOKENS,"
    " OIDC__ISSUER), or pass --allow-unauthenticated to run without authentication"
)


@dataclass(frozen=True)
class Authenticator:
    """Bearer tokens to callers: API tokens first, then OIDC; ``open`` lets every request in as
    the anonymous admin (only when explicitly allowed)."""

    tokens: TokenTable
    oidc: OidcVerifier | None
    open: bool

    async def caller(self, authorization: str | None) -> Caller:
        """The caller of a request with this Authorization header (401 when unknown)."""
        if self.open:
            return ANONYMOUS
        token = _bearer_token(authorization)
        caller = self.tokens.lookup(token)
        if caller is not None:
            return caller
        if self.oidc is not None and looks_like_jwt(token):
            return await self.oidc.verify(token)
        raise UnauthorizedError("invalid bearer token", {"hint": _HINT})


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: worth verifying as a JWT (API tokens have no dots)."""
    return token.count(".") == 2


_HINT = "send Authorization: Bearer <token> (see USER_GUIDE.md, Access control)"


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise UnauthorizedError("authentication required", {"hint": _HINT})
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("authentication required: use the Bearer scheme", {"hint": _HINT})
    return token


def build_authenticator(
    *, auth: AuthSettings, oidc: OidcSettings, allow_unauthenticated: bool
) -> Authenticator:
    """The authenticator for these settings; AuthConfigError (one line) when nothing is
    configured and running without authentication was not explicitly allowed."""
    tokens = load_token_table(auth)
    verifier = None
    if oidc.enabled:
        # Imported only when used: the JOSE stack adds to every start otherwise.
        from ml_platform.auth.oidc import OidcVerifier

        verifier = OidcVerifier(oidc)
    configured = len(tokens) > 0 or verifier is not None
    if not configured and not allow_unauthenticated:
        raise AuthConfigError(REFUSAL)
    if not configured:
        log.warning("auth.disabled", warning=UNAUTHENTICATED_WARNING)
    return Authenticator(tokens=tokens, oidc=verifier, open=not configured)
