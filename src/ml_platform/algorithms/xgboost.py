"""XGBoost hyperparameters: the exact parameter set the existing UI sends.

Ranges and choices follow the XGBoost parameter documentation; legacy parameters the UI still
sends (``dsplit``, ``updater``, ``lambda_bias``, ...) are kept so old requests stay valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from ml_platform.algorithms.base import ClosedHyperparameters
from ml_platform.algorithms.fields import Flag, ThreadCount

# Names the existing training images read that differ from the plain upper-cased key.
ENVIRONMENT_RENAMES: Mapping[str, str] = MappingProxyType(
    {"num_round": "NUM_BOOST_ROUND", "csv_weights": "CSV_WEIGHT"}
)

Objective = Literal[
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:absoluteerror",
    "reg:quantileerror",
    "reg:gamma",
    "reg:tweedie",
    "reg:linear",
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "count:poisson",
    "survival:cox",
    "survival:aft",
    "multi:softmax",
    "multi:softprob",
    "rank:ndcg",
    "rank:map",
    "rank:pairwise",
]

_UPDATERS = (
    "grow_colmaker|grow_histmaker|grow_local_histmaker|grow_quantile_histmaker|grow_gpu_hist|"
    "grow_gpu_approx|grow_skmaker|sync|refresh|prune|shotgun|coord_descent"
)
# "auto" lets XGBoost choose; otherwise a comma-separated sequence of tree updaters.
UPDATER_PATTERN = rf"^(auto|({_UPDATERS})(,({_UPDATERS}))*)$"

_FLOAT = r"[0-9]+(\.[0-9]+)?"
# Metric names of the XGBoost docs, with the documented "@threshold" / "@n" / "-" suffixes.
EVAL_METRIC_PATTERN = (
    r"^(rmse|rmsle|mae|mape|mphe|logloss|merror|mlogloss|auc|aucpr|poisson-nloglik|"
    r"gamma-nloglik|cox-nloglik|gamma-deviance|aft-nloglik|interval-regression-accuracy|"
    rf"error(@{_FLOAT})?|tweedie-nloglik(@{_FLOAT})?|pre(@[0-9]+)?|"
    r"(ndcg|map)(@[0-9]+)?-?)$"
)
EvalMetric = Annotated[str, StringConstraints(max_length=64, pattern=EVAL_METRIC_PATTERN)]

UnitFraction = Annotated[float, Field(gt=0, le=1)]


class XGBoostHyperparameters(ClosedHyperparameters):
    """Every parameter of the UI's XGBoost form, defaulting to the values the UI sends."""

    early_stopping_rounds: int | None = Field(
        None,
        ge=1,
        description="Stop when the validation metric has not improved for this many rounds; "
        "0 or null: off.",
    )
    csv_weights: Flag = Field(0, description="1: the second CSV column holds instance weights.")
    num_round: int = Field(100, ge=1, le=1_000_000, description="Number of boosting rounds.")
    booster: Literal["gbtree", "gblinear", "dart"] = "gbtree"
    verbosity: int = Field(1, ge=0, le=3, description="0 silent, 1 warning, 2 info, 3 debug.")
    nthread: ThreadCount = Field("auto", description='Threads per worker, or "auto".')
    eta: float = Field(0.3, ge=0, le=1, description="Step size shrinkage (learning rate).")
    gamma: float = Field(0, ge=0, description="Minimum loss reduction to split a leaf.")
    max_depth: int = Field(6, ge=0, description="Maximum tree depth; 0 means no limit.")
    min_child_weight: float = Field(1, ge=0)
    max_delta_step: float = Field(0, ge=0, description="0 means no constraint.")
    subsample: UnitFraction = 1
    sampling_method: Literal["uniform", "gradient_based"] = "uniform"
    colsample_bytree: UnitFraction = 1
    colsample_bylevel: UnitFraction = 1
    colsample_bynode: UnitFraction = 1
    lambda_: float = Field(1, ge=0, alias="lambda", description="L2 regularisation on weights.")
    alpha: float = Field(0, ge=0, description="L1 regularisation on weights.")
    tree_method: Literal["auto", "exact", "approx", "hist", "gpu_hist"] = "auto"
    sketch_eps: float = Field(0.03, gt=0, lt=1)
    scale_pos_weight: float = Field(1, ge=0)
    updater: Annotated[str, StringConstraints(max_length=256, pattern=UPDATER_PATTERN)] = "auto"
    dsplit: Literal["auto", "row", "col"] = "row"
    refresh_leaf: Flag = 1
    process_type: Literal["default", "update"] = "default"
    grow_policy: Literal["depthwise", "lossguide"] = "depthwise"
    max_leaves: int = Field(0, ge=0, description="0 means no limit.")
    max_bin: int = Field(256, ge=2)
    num_parallel_tree: int = Field(1, ge=1)
    sample_type: Literal["uniform", "weighted"] = "uniform"
    normalize_type: Literal["tree", "forest"] = "tree"
    rate_drop: float = Field(0, ge=0, le=1)
    one_drop: Flag = 0
    skip_drop: float = Field(0, ge=0, le=1)
    lambda_bias: float = Field(0, ge=0)
    tweedie_variance_power: float = Field(1.5, gt=1, lt=2)
    objective: Objective = "reg:squarederror"
    base_score: float = 0.5
    eval_metric: list[EvalMetric] = Field(["rmse"], max_length=16)

    @field_validator("early_stopping_rounds", mode="before")
    @classmethod
    def _zero_means_off(cls, value: object) -> object:
        """The earlier UI sends 0 for "no early stopping"; the images read that as empty."""
        return None if value == 0 and not isinstance(value, bool) else value
