import json

import jsonschema
import pytest
from pydantic import BaseModel

from ml_platform.algorithms import (
    ALGORITHMS,
    HyperparameterError,
    WorkloadKind,
    catalogue_document,
    get_algorithm,
    validate_hyperparameters,
)

EXPECTED_KINDS = {
    "xgboost": WorkloadKind.RAY_JOB,
    "lightgbm": WorkloadKind.RAY_JOB,
    "pytorch": WorkloadKind.PYTORCH_JOB,
    "deepspeed-zero3": WorkloadKind.PYTORCH_JOB,
    "tensorflow-cnn": WorkloadKind.TF_JOB,
    "tensorflow-transformer": WorkloadKind.TF_JOB,
    "tf-distributed": WorkloadKind.TF_JOB,
    "horovod-mpi": WorkloadKind.MPI_JOB,
    "torch-mpi": WorkloadKind.MPI_JOB,
    "jax-pjit": WorkloadKind.JOB,
    "container": WorkloadKind.JOB,
}


def test_catalogue_holds_exactly_the_designed_algorithms() -> None:
    assert set(ALGORITHMS) == set(EXPECTED_KINDS)


@pytest.mark.parametrize(("algorithm_id", "kind"), EXPECTED_KINDS.items())
def test_each_algorithm_has_its_kind_and_a_model(algorithm_id: str, kind: WorkloadKind) -> None:
    algorithm = get_algorithm(algorithm_id)
    assert algorithm is not None
    assert algorithm.id == algorithm_id
    assert algorithm.workload_kind is kind
    assert issubclass(algorithm.hyperparameters, BaseModel)
    assert algorithm.title
    assert algorithm.description


def test_unknown_algorithm() -> None:
    assert get_algorithm("sklearn") is None
    with pytest.raises(KeyError):
        validate_hyperparameters("sklearn", {})


def test_document_is_json_and_lists_every_algorithm_in_catalogue_order() -> None:
    document = json.loads(json.dumps(catalogue_document()))
    assert [entry["name"] for entry in document] == list(ALGORITHMS)
    for entry in document:
        assert set(entry) == {
            "name",
            "title",
            "framework",
            "workloadKind",
            "description",
            "hyperparameterSchema",
            "defaults",
        }
        assert entry["workloadKind"] == EXPECTED_KINDS[entry["name"]].value


def test_document_is_a_fresh_copy_each_time() -> None:
    first = catalogue_document()
    first[0]["defaults"]["num_round"] = 7
    assert catalogue_document()[0]["defaults"]["num_round"] == 100


@pytest.mark.parametrize("entry", catalogue_document(), ids=lambda entry: entry["name"])
def test_schema_is_valid_and_accepts_the_defaults(entry: dict) -> None:
    schema = entry["hyperparameterSchema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(entry["defaults"], schema)
    # Defaults are themselves valid input and come back unchanged.
    assert validate_hyperparameters(entry["name"], entry["defaults"]) == entry["defaults"]
    assert validate_hyperparameters(entry["name"], None) == entry["defaults"]


def test_error_carries_pydantic_style_details() -> None:
    with pytest.raises(HyperparameterError) as caught:
        validate_hyperparameters("pytorch", {"epochs": 0, "optimizer": "magic"})
    errors = caught.value.errors
    assert [error["loc"] for error in errors] == [["epochs"], ["optimizer"]]
    assert all(set(error) == {"loc", "msg", "type"} for error in errors)
    assert errors[0]["type"] == "greater_than_equal"
    assert "pytorch" in str(caught.value)
    assert "epochs" in str(caught.value)
    json.dumps(errors)


def test_non_object_hyperparameters_are_an_error_not_a_crash() -> None:
    with pytest.raises(HyperparameterError) as caught:
        validate_hyperparameters("lightgbm", ["num_leaves", 3])  # type: ignore[arg-type]
    assert caught.value.errors[0]["loc"] == []
