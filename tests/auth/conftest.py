"""An app with authentication on: one API token per kind of caller, jobs allowed in team-a and
team-b, Karmada simulated over real HTTP."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from auth.callers import OTHER_TEAM, TEAM, Tokens, token_entries
from ml_platform.auth.settings import AuthSettings
from ml_platform.config import Settings
from ml_platform.policy.settings import PolicySettings
from tests_support import app_client, app_fixture


@pytest.fixture
def tokens() -> Tokens:
    """New tokens for each test."""
    return Tokens(*(secrets.token_urlsafe(32) for _ in range(6)))


def with_auth(settings: Settings, tokens: Tokens) -> Settings:
    """Production-like settings: tokens on, no unauthenticated access, no CORS origins."""
    return settings.model_copy(
        update={
            "environment": "production",
            "allow_unauthenticated": False,
            "auth": AuthSettings(tokens=token_entries(tokens)),
            "policy": PolicySettings(namespaces=[TEAM, OTHER_TEAM]),
        }
    )


@pytest.fixture
def auth_settings(karmada_settings: Settings, tokens: Tokens) -> Settings:
    """Authentication on, Karmada simulated."""
    return with_auth(karmada_settings, tokens)


# The app with authentication on.
auth_app = app_fixture("auth_settings")


@pytest.fixture
async def anon(auth_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the authenticated app that sends no token (add one per request)."""
    async with app_client(auth_app) as client:
        yield client
