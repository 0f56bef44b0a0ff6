"""OIDC bearer tokens: a JWT signed by the issuer's keys (JWKS), with the expected issuer and
audience, whose groups claim maps to roles. Verification is PyJWT's; this module only maps."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import structlog

from ml_platform.auth.caller import Caller, merged_grants
from ml_platform.auth.settings import OidcSettings
from ml_platform.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError

log = structlog.get_logger()

# How long fetched signing keys are trusted before the JWKS is read again.
JWKS_LIFESPAN_SECONDS = 300


class OidcVerifier:
    """Turns a verified OIDC token into a caller."""

    def __init__(self, settings: OidcSettings) -> None:
        assert settings.jwks_url is not None
        self._settings = settings
        self._keys = jwt.PyJWKClient(
            settings.jwks_url,
            cache_jwk_set=True,
            lifespan=JWKS_LIFESPAN_SECONDS,
            timeout=int(max(1, settings.jwks_timeout_seconds)),
        )

    async def verify(self, token: str) -> Caller:
        """The caller of a valid token; 401 for an invalid one, 403 when none of its groups has
        a role, 503 when the issuer's keys cannot be fetched."""
        try:
            # PyJWKClient reads the JWKS with blocking I/O (cached between calls).
            key = await asyncio.to_thread(self._keys.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError:
            log.warning("auth.jwks_unreachable")
            raise ServiceUnavailableError("cannot fetch the OIDC signing keys") from None
        except jwt.PyJWTError as exc:
            raise UnauthorizedError(
                "invalid bearer token", {"reason": type(exc).__name__}
            ) from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=self._settings.algorithms,
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise UnauthorizedError(
                "invalid bearer token", {"reason": type(exc).__name__}
            ) from None
        return self._caller(claims)

    def _caller(self, claims: dict[str, Any]) -> Caller:
        name = str(claims.get(self._settings.name_claim) or claims.get("sub") or "oidc-user")
        groups = claims.get(self._settings.groups_claim)
        member_of = {g for g in groups if isinstance(g, str)} if isinstance(groups, list) else set()
        grants = [
            (grant.role, None if grant.namespaces is None else frozenset(grant.namespaces))
            for grant in self._settings.group_grants
            if grant.group in member_of
        ]
        caller = merged_grants(name[:253], grants)
        if caller is None:
            raise ForbiddenError(
                f"{name[:253]!r} is in no group that has a role here",
                {"caller": name[:253], "groupsClaim": self._settings.groups_claim},
            )
        return caller
