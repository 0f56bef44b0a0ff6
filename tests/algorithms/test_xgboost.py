import math
from typing import Any

import jsonschema
import pytest

from ml_platform.algorithms import (
    HyperparameterError,
    catalogue_document,
    hyperparameter_environment,
    validate_hyperparameters,
)
from tests_support import UI_XGBOOST_ENVIRONMENT


def _xgboost_schema() -> dict[str, Any]:
    return next(e for e in catalogue_document() if e["name"] == "xgboost")["hyperparameterSchema"]


def test_ui_object_validates_unchanged(ui_xgboost: dict[str, Any]) -> None:
    validated = validate_hyperparameters("xgboost", ui_xgboost)
    assert validated == ui_xgboost
    # Same types too: integers the UI sends stay integers.
    assert {k: type(v) for k, v in validated.items()} == {k: type(v) for k, v in ui_xgboost.items()}


def test_defaults_are_the_ui_object(ui_xgboost: dict[str, Any]) -> None:
    assert validate_hyperparameters("xgboost", {}) == ui_xgboost
    defaults = next(e for e in catalogue_document() if e["name"] == "xgboost")["defaults"]
    assert defaults == ui_xgboost


def test_partial_input_keeps_given_values_and_fills_the_rest() -> None:
    validated = validate_hyperparameters(
        "xgboost", {"eta": 0.05, "nthread": 8, "early_stopping_rounds": 10, "lambda": 2.5}
    )
    assert validated["eta"] == 0.05
    assert validated["nthread"] == 8
    assert validated["early_stopping_rounds"] == 10
    assert validated["lambda"] == 2.5
    assert validated["max_depth"] == 6


@pytest.mark.parametrize(
    ("sent", "validated"),
    [
        ({"nthread": "4"}, {"nthread": 4}),
        ({"num_round": "100"}, {"num_round": 100}),
        ({"max_depth": "0"}, {"max_depth": 0}),
        ({"early_stopping_rounds": "7"}, {"early_stopping_rounds": 7}),
        ({"early_stopping_rounds": 0}, {"early_stopping_rounds": None}),
        ({"early_stopping_rounds": "0"}, {"early_stopping_rounds": None}),
    ],
)
def test_the_earlier_ui_spellings_are_read_as_it_means_them(
    sent: dict[str, Any], validated: dict[str, Any]
) -> None:
    assert validate_hyperparameters("xgboost", sent).items() >= validated.items()


@pytest.mark.parametrize(
    "good",
    [
        {"eta": 0},
        {"eta": 1},
        {"max_depth": 0},
        {"booster": "dart"},
        {"tree_method": "gpu_hist"},
        {"grow_policy": "lossguide"},
        {"sampling_method": "gradient_based"},
        {"objective": "multi:softprob"},
        {"objective": "rank:ndcg"},
        {"updater": "grow_colmaker,prune"},
        {"eval_metric": ["error@0.7", "ndcg@5-", "auc", "tweedie-nloglik@1.2"]},
        {"eval_metric": []},
        {"nthread": 1},
        {"subsample": 0.5},
    ],
)
def test_documented_values_are_accepted(good: dict[str, Any]) -> None:
    assert validate_hyperparameters("xgboost", good).items() >= good.items()


BAD_VALUES = [
    ("eta", -0.1),
    ("eta", 1.5),
    ("gamma", -1),
    ("max_depth", -1),
    ("max_depth", 2.5),
    ("min_child_weight", -0.5),
    ("max_delta_step", -1),
    ("subsample", 0),
    ("subsample", 1.01),
    ("colsample_bytree", 0),
    ("colsample_bylevel", 2),
    ("colsample_bynode", -0.1),
    ("lambda", -1),
    ("alpha", -1),
    ("booster", "gbforest"),
    ("tree_method", "gpu_exact_fast"),
    ("grow_policy", "breadthwise"),
    ("sampling_method", "random"),
    ("sample_type", "stratified"),
    ("normalize_type", "leaf"),
    ("process_type", "rebuild"),
    ("dsplit", "diagonal"),
    ("objective", ""),
    ("objective", "reg:made_up"),
    ("objective", "rm -rf /"),
    ("eval_metric", "rmse"),
    ("eval_metric", ["rmse", "bogus"]),
    ("eval_metric", ["rmse\nEVIL=1"]),
    ("nthread", "all"),
    ("nthread", 0),
    ("nthread", True),
    ("num_round", 0),
    ("num_round", "1e2"),
    ("num_round", "+100"),
    ("early_stopping_rounds", -1),
    ("eta", "0.3"),
    ("verbosity", 4),
    ("csv_weights", 2),
    ("csv_weights", True),
    ("refresh_leaf", 1.0),
    ("one_drop", -1),
    ("rate_drop", 1.5),
    ("skip_drop", -0.1),
    ("sketch_eps", 0),
    ("sketch_eps", 1),
    ("scale_pos_weight", -1),
    ("max_leaves", -1),
    ("max_bin", 1),
    ("num_parallel_tree", 0),
    ("lambda_bias", -1),
    ("tweedie_variance_power", 1),
    ("tweedie_variance_power", 2),
    ("updater", "grow_colmaker;prune"),
    ("updater", "auto,prune"),
    ("base_score", float("nan")),
    ("eta", float("inf")),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_out_of_range_or_unknown_choice_is_rejected(
    ui_xgboost: dict[str, Any], key: str, value: Any
) -> None:
    payload = {**ui_xgboost, key: value}
    with pytest.raises(HyperparameterError) as caught:
        validate_hyperparameters("xgboost", payload)
    assert [error["loc"] for error in caught.value.errors] in ([[key]], [[key, 0]], [[key, 1]])


@pytest.mark.parametrize(
    ("key", "value"),
    # Left out: what JSON cannot carry (NaN, inf) and what JSON Schema counts as an integer
    # (true, 1.0); the model rejects those in strict mode.
    [
        (k, v)
        for k, v in BAD_VALUES
        if not isinstance(v, bool)
        and not (isinstance(v, float) and (not math.isfinite(v) or v.is_integer()))
    ],
)
def test_served_schema_rejects_what_the_model_rejects(
    ui_xgboost: dict[str, Any], key: str, value: Any
) -> None:
    payload = {**ui_xgboost, key: value}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, _xgboost_schema())


@pytest.mark.parametrize("extra", ["lambda_", "learning_rate_decay", "EVIL"])
def test_unknown_keys_are_rejected(ui_xgboost: dict[str, Any], extra: str) -> None:
    with pytest.raises(HyperparameterError) as caught:
        validate_hyperparameters("xgboost", {**ui_xgboost, extra: 1})
    assert caught.value.errors[0]["loc"] == [extra]
    assert caught.value.errors[0]["type"] == "extra_forbidden"


def test_environment_of_the_ui_object(ui_xgboost: dict[str, Any]) -> None:
    assert hyperparameter_environment("xgboost", ui_xgboost) == UI_XGBOOST_ENVIRONMENT


def test_environment_of_changed_values() -> None:
    env = hyperparameter_environment(
        "xgboost",
        {
            "early_stopping_rounds": 5,
            "num_round": 250,
            "csv_weights": 1,
            "nthread": 4,
            "eta": 0.1,
            "subsample": 0.8,
            "eval_metric": ["rmse", "mae", "error@0.5"],
        },
    )
    assert env["EARLY_STOPPING_ROUNDS"] == "5"
    assert env["NUM_BOOST_ROUND"] == "250"
    assert env["CSV_WEIGHT"] == "1"
    assert env["NTHREAD"] == "4"
    assert env["ETA"] == "0.1"
    assert env["SUBSAMPLE"] == "0.8"
    assert env["EVAL_METRIC"] == "rmse,mae,error@0.5"
    assert "NUM_ROUND" not in env
    assert "CSV_WEIGHTS" not in env


def test_environment_validates_first() -> None:
    with pytest.raises(HyperparameterError):
        hyperparameter_environment("xgboost", {"eta": 7})
