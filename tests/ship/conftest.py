"""Shared fixtures for the packaging and deployment checks."""

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout these tests run in."""
    return REPO_ROOT
