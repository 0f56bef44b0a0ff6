"""Fixtures of the algorithm catalogue tests."""

import copy
from typing import Any

import pytest

# The exact `hyperparameters.xgboost` object the existing UI sends (ui-contract.md).
UI_XGBOOST_HYPERPARAMETERS: dict[str, Any] = {
    "early_stopping_rounds": None,
    "csv_weights": 0,
    "num_round": 100,
    "booster": "gbtree",
    "verbosity": 1,
    "nthread": "auto",
    "eta": 0.3,
    "gamma": 0,
    "max_depth": 6,
    "min_child_weight": 1,
    "max_delta_step": 0,
    "subsample": 1,
    "sampling_method": "uniform",
    "colsample_bytree": 1,
    "colsample_bylevel": 1,
    "colsample_bynode": 1,
    "lambda": 1,
    "alpha": 0,
    "tree_method": "auto",
    "sketch_eps": 0.03,
    "scale_pos_weight": 1,
    "updater": "auto",
    "dsplit": "row",
    "refresh_leaf": 1,
    "process_type": "default",
    "grow_policy": "depthwise",
    "max_leaves": 0,
    "max_bin": 256,
    "num_parallel_tree": 1,
    "sample_type": "uniform",
    "normalize_type": "tree",
    "rate_drop": 0,
    "one_drop": 0,
    "skip_drop": 0,
    "lambda_bias": 0,
    "tweedie_variance_power": 1.5,
    "objective": "reg:squarederror",
    "base_score": 0.5,
    "eval_metric": ["rmse"],
}


@pytest.fixture
def ui_xgboost() -> dict[str, Any]:
    """A fresh copy of the UI's XGBoost hyperparameters object."""
    return copy.deepcopy(UI_XGBOOST_HYPERPARAMETERS)
