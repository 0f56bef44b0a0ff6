"""Fixtures for the renderer tests."""

from __future__ import annotations

import pytest

from ml_platform.workloads import WorkloadKind, WorkloadSettings, WorkloadSpec

from .specs import reference_spec


@pytest.fixture
def settings() -> WorkloadSettings:
    return WorkloadSettings()


@pytest.fixture
def spec() -> WorkloadSpec:
    return reference_spec()


@pytest.fixture(params=list(WorkloadKind), ids=str)
def kind(request: pytest.FixtureRequest) -> WorkloadKind:
    return WorkloadKind(request.param)
