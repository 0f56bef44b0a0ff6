from typing import Any

import pytest

from ml_platform.algorithms import environment_name, environment_value, environment_variables


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("eta", "ETA"),
        ("max_depth", "MAX_DEPTH"),
        ("warmup-ratio", "WARMUP_RATIO"),
        ("data.path", "DATA_PATH"),
        ("lr2", "LR2"),
    ],
)
def test_names_are_upper_cased_with_non_alphanumerics_as_underscores(key: str, name: str) -> None:
    assert environment_name(key) == name


def test_renames_win_over_the_rule() -> None:
    assert environment_name("num_round", {"num_round": "NUM_BOOST_ROUND"}) == "NUM_BOOST_ROUND"
    assert environment_name("num_round") == "NUM_ROUND"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-3, "-3"),
        (1.0, "1"),
        (0.3, "0.3"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e-05, "1e-05"),
        (2.5e20, "2.5e+20"),
        ("reg:squarederror", "reg:squarederror"),
        (["rmse", "mae"], "rmse,mae"),
        ([], ""),
        ([2, 4.0], "2,4"),
    ],
)
def test_values_are_strings_the_images_parse(value: Any, text: str) -> None:
    assert environment_value(value) == text


def test_variables_for_custom_hyperparameters() -> None:
    assert environment_variables({"label-col": "y", "alpha": 0.5, "debug": False}) == {
        "LABEL_COL": "y",
        "ALPHA": "0.5",
        "DEBUG": "false",
    }
