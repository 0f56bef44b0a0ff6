"""Settings of authentication: API tokens (env, or a file such as a mounted Kubernetes Secret),
OIDC, and which operational routes stay open."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from ml_platform.auth.caller import Role

CallerName = Annotated[
    str, StringConstraints(min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
]
NamespaceName = Annotated[
    str, StringConstraints(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
]
# Shorter tokens can be guessed; `openssl rand -hex 32` or `python -c "import secrets;
# print(secrets.token_urlsafe(32))"` make good ones.
MIN_TOKEN_LENGTH = 24
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class TokenEntry(BaseModel):
    """One API token: its plain value or the SHA-256 of it (hex), a name, a role and optionally
    the namespaces it may touch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: CallerName = Field(description="Logged with each request and stored as createdBy.")
    role: Role
    namespaces: list[NamespaceName] | None = Field(
        default=None, description="Namespaces this token may touch; absent: every namespace."
    )
    token: SecretStr | None = Field(default=None, description="The token itself.")
    sha256: str | None = Field(default=None, description="Hex SHA-256 of the token instead.")

    @model_validator(mode="after")
    def _one_secret(self) -> TokenEntry:
        if (self.token is None) == (self.sha256 is None):
            raise ValueError(f"token {self.name!r}: give exactly one of 'token' and 'sha256'")
        if self.token is not None and len(self.token.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"token {self.name!r} is shorter than {MIN_TOKEN_LENGTH} characters")
        if self.sha256 is not None and not _SHA256_HEX.fullmatch(self.sha256):
            raise ValueError(f"token {self.name!r}: sha256 must be 64 lowercase hex digits")
        return self


class GroupGrant(BaseModel):
    """A role given to the members of an OIDC group, optionally in some namespaces only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    role: Role
    namespaces: list[NamespaceName] | None = None


class AuthSettings(BaseModel):
    """API tokens and the routes that stay open (env `ML_PLATFORM_AUTH__<FIELD>`)."""

    tokens: list[TokenEntry] = Field(
        default_factory=list,
        description=(
            'API tokens as JSON: [{"name", "role": viewer|editor|admin, "namespaces"?: [...],'
            ' "token" | "sha256"}]. Prefer tokens_file with a mounted Kubernetes Secret.'
        ),
    )
    tokens_file: Path | None = Field(
        default=None,
        description="YAML/JSON file with a list of tokens in the same shape as `tokens` "
        "(e.g. the key of a Kubernetes Secret mounted as a volume); read at start.",
    )
    public_metrics: bool = Field(
        default=True, description="Serve /metrics without a token (false: any role may read it)."
    )
    public_docs: bool = Field(
        default=True,
        description="Serve /docs and /openapi.json without a token (false: any role may).",
    )


class OidcSettings(BaseModel):
    """People signing in with the company's SSO: a JWT verified against the issuer's keys,
    its groups mapped to roles (env `ML_PLATFORM_OIDC__<FIELD>`). Off while issuer is empty."""

    issuer: str | None = Field(default=None, description="Expected `iss` of the tokens.")
    audience: str | None = Field(default=None, description="Expected `aud` of the tokens.")
    jwks_url: str | None = Field(default=None, description="URL of the issuer's JWKS.")
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256"], description="Accepted signing algorithms."
    )
    groups_claim: str = Field(default="groups", description="Claim holding the group list.")
    name_claim: str = Field(
        default="email", description="Claim naming the person (logged, stored as createdBy)."
    )
    group_grants: list[GroupGrant] = Field(
        default_factory=list,
        description='Roles by group as JSON: [{"group", "role", "namespaces"?: [...]}].',
    )
    jwks_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Timeout of fetching the JWKS."
    )

    @property
    def enabled(self) -> bool:
        """Whether OIDC tokens are accepted."""
        return bool(self.issuer)

    @model_validator(mode="after")
    def _complete(self) -> OidcSettings:
        if self.issuer and not (self.audience and self.jwks_url and self.group_grants):
            raise ValueError("OIDC needs issuer, audience, jwks_url and group_grants together")
        return self
