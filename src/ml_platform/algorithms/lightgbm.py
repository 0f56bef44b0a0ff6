"""LightGBM hyperparameters: the core parameters of the LightGBM documentation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ml_platform.algorithms.base import OpenHyperparameters

Objective = Literal[
    "regression",
    "regression_l1",
    "huber",
    "fair",
    "poisson",
    "quantile",
    "mape",
    "gamma",
    "tweedie",
    "binary",
    "multiclass",
    "multiclassova",
    "cross_entropy",
    "cross_entropy_lambda",
    "lambdarank",
    "rank_xendcg",
]

# Empty (the objective's default metric) or a comma-separated list of metric names.
METRIC_PATTERN = r"^([a-z0-9_@]+(,[a-z0-9_@]+)*)?$"


class LightGBMHyperparameters(OpenHyperparameters):
    """Core LightGBM training parameters with LightGBM's own defaults."""

    objective: Objective = "regression"
    boosting: Literal["gbdt", "rf", "dart"] = "gbdt"
    data_sample_strategy: Literal["bagging", "goss"] = "bagging"
    num_iterations: int = Field(100, ge=0, le=1_000_000, description="Boosting iterations.")
    learning_rate: float = Field(0.1, gt=0, le=1, description="Shrinkage rate.")
    num_leaves: int = Field(31, gt=1, le=131_072, description="Maximum leaves in one tree.")
    max_depth: int = Field(-1, ge=-1, description="Maximum tree depth; -1 means no limit.")
    min_data_in_leaf: int = Field(20, ge=0)
    min_sum_hessian_in_leaf: float = Field(1e-3, ge=0)
    bagging_fraction: float = Field(1.0, gt=0, le=1)
    bagging_freq: int = Field(0, ge=0, description="Bag every k iterations; 0 disables bagging.")
    feature_fraction: float = Field(1.0, gt=0, le=1)
    lambda_l1: float = Field(0.0, ge=0)
    lambda_l2: float = Field(0.0, ge=0)
    min_gain_to_split: float = Field(0.0, ge=0)
    max_bin: int = Field(255, gt=1)
    num_class: int = Field(1, ge=1, description="Number of classes for multiclass objectives.")
    metric: Annotated[str, StringConstraints(max_length=256, pattern=METRIC_PATTERN)] = Field(
        "", description="Comma-separated metrics; empty uses the objective's metric."
    )
    early_stopping_round: int = Field(0, ge=0, description="0 disables early stopping.")
    num_threads: int = Field(0, ge=0, le=1024, description="0 uses OpenMP's default.")
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    verbosity: int = Field(1, ge=-1, le=2, description="-1 fatal, 0 error, 1 info, 2 debug.")
