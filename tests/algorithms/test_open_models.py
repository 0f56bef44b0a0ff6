"""The non-XGBoost algorithms: typed known keys plus free scalar extras."""

from typing import Any

import pytest

from ml_platform.algorithms import (
    ALGORITHMS,
    HyperparameterError,
    hyperparameter_environment,
    validate_hyperparameters,
)

OPEN_ALGORITHMS = [algorithm_id for algorithm_id in ALGORITHMS if algorithm_id != "xgboost"]


@pytest.mark.parametrize("algorithm_id", OPEN_ALGORITHMS)
def test_scalar_extras_are_kept(algorithm_id: str) -> None:
    extras = {
        "warmup_ratio": 0.06,
        "label_column": "target",
        "use_amp": True,
        "patience": 3,
        "notes": None,
        "data.path": "s3://bucket/key with spaces",
    }
    validated = validate_hyperparameters(algorithm_id, extras)
    assert validated.items() >= extras.items()


@pytest.mark.parametrize("algorithm_id", OPEN_ALGORITHMS)
@pytest.mark.parametrize(
    "value",
    [{"nested": 1}, [1, 2], "line\nbreak", "nul\x00byte", "x" * 1025, float("nan")],
    ids=["dict", "list", "newline", "nul", "too-long", "nan"],
)
def test_non_scalar_or_unsafe_extras_are_rejected(algorithm_id: str, value: Any) -> None:
    with pytest.raises(HyperparameterError) as caught:
        validate_hyperparameters(algorithm_id, {"custom_value": value})
    assert caught.value.errors[0]["loc"] == ["custom_value"]


@pytest.mark.parametrize(
    "key", ["", "has space", "new\nline", "9lives", "semi;colon", "k" * 129, "$(id)"]
)
def test_extra_keys_must_be_plain_names(key: str) -> None:
    with pytest.raises(HyperparameterError, match="must match"):
        validate_hyperparameters("container", {key: 1})


def test_extra_keys_must_not_collide_in_the_environment() -> None:
    with pytest.raises(HyperparameterError, match="LEARNING_RATE"):
        validate_hyperparameters("pytorch", {"learning-rate": 0.1})
    with pytest.raises(HyperparameterError, match="MY_KEY"):
        validate_hyperparameters("container", {"my.key": 1, "my_key": 2})


def test_extra_count_is_bounded() -> None:
    validate_hyperparameters("container", {f"k{i}": i for i in range(64)})
    with pytest.raises(HyperparameterError, match="at most 64"):
        validate_hyperparameters("container", {f"k{i}": i for i in range(65)})


@pytest.mark.parametrize(
    ("algorithm_id", "good"),
    [
        ("lightgbm", {"objective": "multiclass", "num_class": 3, "metric": "multi_logloss"}),
        ("lightgbm", {"boosting": "dart", "max_depth": -1, "metric": "auc,binary_logloss"}),
        ("pytorch", {"optimizer": "sgd", "momentum": 0.9, "lr_scheduler": "cosine"}),
        ("deepspeed-zero3", {"offload_param_device": "nvme", "nvme_path": "/local_nvme"}),
        ("deepspeed-zero3", {"offload_optimizer_device": "cpu", "precision": "fp16"}),
        ("tensorflow-cnn", {"num_classes": 1000, "image_size": 299}),
        ("tensorflow-transformer", {"d_model": 768, "num_heads": 12}),
        ("tf-distributed", {"distribution_strategy": "parameter_server"}),
        ("horovod-mpi", {"slots_per_worker": 4, "np": 8, "compression": "fp16"}),
        ("torch-mpi", {"slots_per_worker": 2, "optimizer": "adamw"}),
        ("jax-pjit", {"mesh_shape": [2, 4], "mesh_axis_names": ["data", "model"]}),
    ],
)
def test_documented_values_are_accepted(algorithm_id: str, good: dict[str, Any]) -> None:
    assert validate_hyperparameters(algorithm_id, good).items() >= good.items()


def test_jax_mesh_accepts_the_text_form_the_old_ui_sent() -> None:
    validated = validate_hyperparameters(
        "jax-pjit", {"mesh_shape": "2x4", "mesh_axis_names": "data, model"}
    )
    assert validated["mesh_shape"] == [2, 4]
    assert validated["mesh_axis_names"] == ["data", "model"]


@pytest.mark.parametrize(
    ("algorithm_id", "bad"),
    [
        ("lightgbm", {"num_leaves": 1}),
        ("lightgbm", {"learning_rate": 0}),
        ("lightgbm", {"bagging_fraction": 1.5}),
        ("lightgbm", {"objective": "xentropy_magic"}),
        ("lightgbm", {"boosting": "xgb"}),
        ("lightgbm", {"max_depth": -2}),
        ("lightgbm", {"metric": "auc;rm -rf"}),
        ("lightgbm", {"num_iterations": "1e2"}),
        ("lightgbm", {"num_iterations": "-100"}),
        ("pytorch", {"epochs": 0}),
        ("pytorch", {"batch_size": -8}),
        ("pytorch", {"learning_rate": 0}),
        ("pytorch", {"optimizer": "adamax2"}),
        ("pytorch", {"momentum": 1.1}),
        ("pytorch", {"precision": "fp8"}),
        ("pytorch", {"epochs": True}),
        ("pytorch", {"seed": -1}),
        ("deepspeed-zero3", {"zero_stage": 2}),
        ("deepspeed-zero3", {"offload_optimizer_device": "gpu"}),
        ("deepspeed-zero3", {"offload_param_device": "nvme"}),
        ("deepspeed-zero3", {"nvme_path": "/mnt\n/evil", "offload_param_device": "nvme"}),
        ("deepspeed-zero3", {"overlap_comm": "yes"}),
        ("deepspeed-zero3", {"reduce_bucket_size": 0}),
        ("tensorflow-cnn", {"num_classes": 1}),
        ("tensorflow-cnn", {"dropout": 1}),
        ("tensorflow-cnn", {"optimizer": "adam!"}),
        ("tensorflow-transformer", {"d_model": 512, "num_heads": 7}),
        ("tensorflow-transformer", {"num_layers": 0}),
        ("tf-distributed", {"distribution_strategy": "one_device"}),
        ("tf-distributed", {"steps_per_epoch": 0}),
        ("horovod-mpi", {"slots_per_worker": 0}),
        ("horovod-mpi", {"np": 0}),
        ("horovod-mpi", {"compression": "bf16"}),
        ("torch-mpi", {"slots_per_worker": 1000}),
        ("torch-mpi", {"optimizer": "lbfgs2"}),
        ("jax-pjit", {"mesh_shape": [0, 4], "mesh_axis_names": ["data", "model"]}),
        ("jax-pjit", {"mesh_shape": [2, 4]}),
        ("jax-pjit", {"mesh_shape": "2,a", "mesh_axis_names": "data,model"}),
        ("jax-pjit", {"mesh_shape": [], "mesh_axis_names": []}),
        ("jax-pjit", {"mesh_axis_names": ["data", "data"]}),
        ("jax-pjit", {"mesh_axis_names": ["Data Axis"]}),
        ("jax-pjit", {"optimizer": "adam2"}),
    ],
)
def test_bad_known_values_are_rejected(algorithm_id: str, bad: dict[str, Any]) -> None:
    with pytest.raises(HyperparameterError) as caught:
        validate_hyperparameters(algorithm_id, bad)
    # Rejected for the value under test: a field error on one of its keys, or a rule
    # across fields (empty loc).
    for error in caught.value.errors:
        assert error["loc"] == [] or error["loc"][0] in bad


def test_environment_of_an_open_algorithm() -> None:
    env = hyperparameter_environment(
        "horovod-mpi", {"epochs": 3, "learning_rate": 0.0125, "warmup-ratio": 0.1, "tag": None}
    )
    assert env == {
        "BATCH_SIZE": "32",
        "LEARNING_RATE": "0.0125",
        "SEED": "",
        "EPOCHS": "3",
        "SLOTS_PER_WORKER": "1",
        "NP": "",
        "OPTIMIZER": "sgd",
        "MOMENTUM": "0.9",
        "FUSION_THRESHOLD_MB": "64",
        "COMPRESSION": "none",
        "USE_ADASUM": "false",
        "BACKWARD_PASSES_PER_STEP": "1",
        "WARMUP_RATIO": "0.1",
        "TAG": "",
    }


def test_environment_of_a_container_holds_only_what_was_given() -> None:
    assert hyperparameter_environment("container", {"mode": "fast", "retries": 2}) == {
        "MODE": "fast",
        "RETRIES": "2",
    }


def test_environment_of_jax_lists_is_comma_joined() -> None:
    env = hyperparameter_environment(
        "jax-pjit", {"mesh_shape": [2, 4], "mesh_axis_names": ["data", "model"]}
    )
    assert env["MESH_SHAPE"] == "2,4"
    assert env["MESH_AXIS_NAMES"] == "data,model"
