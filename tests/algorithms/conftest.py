"""Fixtures of the algorithm catalogue tests."""

import copy
from typing import Any

import pytest

from tests_support import UI_XGBOOST_HYPERPARAMETERS


@pytest.fixture
def ui_xgboost() -> dict[str, Any]:
    """A fresh copy of the UI's XGBoost hyperparameters object."""
    return copy.deepcopy(UI_XGBOOST_HYPERPARAMETERS)
