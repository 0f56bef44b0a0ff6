"""The algorithm catalogue: which algorithms exist, how each runs, what it accepts.

Served by ``GET /api/v1/algorithms``; used by request validation and the workload renderers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError

from ml_platform.algorithms.container import ContainerHyperparameters
from ml_platform.algorithms.environment import NO_RENAMES, environment_variables
from ml_platform.algorithms.jax import JaxPjitHyperparameters
from ml_platform.algorithms.lightgbm import LightGBMHyperparameters
from ml_platform.algorithms.mpi import HorovodHyperparameters, TorchMPIHyperparameters
from ml_platform.algorithms.pytorch import DeepSpeedZero3Hyperparameters, PyTorchHyperparameters
from ml_platform.algorithms.tensorflow import (
    TensorFlowCNNHyperparameters,
    TensorFlowTransformerHyperparameters,
    TFDistributedHyperparameters,
)
from ml_platform.algorithms.xgboost import ENVIRONMENT_RENAMES as XGBOOST_ENVIRONMENT_RENAMES
from ml_platform.algorithms.xgboost import XGBoostHyperparameters
from ml_platform.workloads.spec import WorkloadKind


@dataclass(frozen=True)
class Algorithm:
    """One entry of the catalogue."""

    id: str
    title: str
    framework: str
    workload_kind: WorkloadKind
    hyperparameters: type[BaseModel]
    description: str
    # Environment names that differ from the upper-cased key (the images' existing contract).
    environment_renames: Mapping[str, str] = field(default_factory=lambda: NO_RENAMES)


class HyperparameterError(ValueError):
    """Hyperparameters that the algorithm's model rejects.

    ``errors`` holds one ``{"loc": [...], "msg": str, "type": str}`` per problem, ``loc``
    relative to the algorithm's hyperparameter object.
    """

    def __init__(self, algorithm_id: str, errors: list[dict[str, Any]]) -> None:
        self.algorithm_id = algorithm_id
        self.errors = errors
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(object)'}: {error['msg']}"
            for error in errors
        )
        super().__init__(f"invalid hyperparameters for {algorithm_id}: {problems}")


_ALGORITHM_LIST = (
    Algorithm(
        id="xgboost",
        title="XGBoost",
        framework="xgboost",
        workload_kind=WorkloadKind.RAY_JOB,
        hyperparameters=XGBoostHyperparameters,
        description="Gradient-boosted trees with XGBoost on a Ray cluster.",
        environment_renames=XGBOOST_ENVIRONMENT_RENAMES,
    ),
    Algorithm(
        id="lightgbm",
        title="LightGBM",
        framework="lightgbm",
        workload_kind=WorkloadKind.RAY_JOB,
        hyperparameters=LightGBMHyperparameters,
        description="Gradient-boosted trees with LightGBM on a Ray cluster.",
    ),
    Algorithm(
        id="pytorch",
        title="PyTorch",
        framework="pytorch",
        workload_kind=WorkloadKind.PYTORCH_JOB,
        hyperparameters=PyTorchHyperparameters,
        description="Distributed data-parallel PyTorch training.",
    ),
    Algorithm(
        id="deepspeed-zero3",
        title="DeepSpeed ZeRO-3",
        framework="deepspeed",
        workload_kind=WorkloadKind.PYTORCH_JOB,
        hyperparameters=DeepSpeedZero3Hyperparameters,
        description="Large-model PyTorch training with DeepSpeed ZeRO stage 3 partitioning.",
    ),
    Algorithm(
        id="tensorflow-cnn",
        title="TensorFlow CNN",
        framework="tensorflow",
        workload_kind=WorkloadKind.TF_JOB,
        hyperparameters=TensorFlowCNNHyperparameters,
        description="Image classification with a convolutional network in TensorFlow.",
    ),
    Algorithm(
        id="tensorflow-transformer",
        title="TensorFlow Transformer",
        framework="tensorflow",
        workload_kind=WorkloadKind.TF_JOB,
        hyperparameters=TensorFlowTransformerHyperparameters,
        description="Sequence modelling with a Transformer in TensorFlow.",
    ),
    Algorithm(
        id="tf-distributed",
        title="TensorFlow multi-worker",
        framework="tensorflow",
        workload_kind=WorkloadKind.TF_JOB,
        hyperparameters=TFDistributedHyperparameters,
        description="Multi-worker TensorFlow training through a tf.distribute strategy.",
    ),
    Algorithm(
        id="horovod-mpi",
        title="Horovod (MPI)",
        framework="horovod",
        workload_kind=WorkloadKind.MPI_JOB,
        hyperparameters=HorovodHyperparameters,
        description="Data-parallel training with Horovod, launched by mpirun.",
    ),
    Algorithm(
        id="torch-mpi",
        title="PyTorch (MPI)",
        framework="pytorch",
        workload_kind=WorkloadKind.MPI_JOB,
        hyperparameters=TorchMPIHyperparameters,
        description="PyTorch torch.distributed training on the MPI backend, launched by mpirun.",
    ),
    Algorithm(
        id="jax-pjit",
        title="JAX pjit",
        framework="jax",
        workload_kind=WorkloadKind.JOB,
        hyperparameters=JaxPjitHyperparameters,
        description="JAX training partitioned over a device mesh with pjit, as an Indexed Job.",
    ),
    Algorithm(
        id="container",
        title="Custom container",
        framework="container",
        workload_kind=WorkloadKind.JOB,
        hyperparameters=ContainerHyperparameters,
        description="A user-supplied training image (algorithm.imageUri), run as an Indexed Job.",
    ),
)

ALGORITHMS: Mapping[str, Algorithm] = MappingProxyType({a.id: a for a in _ALGORITHM_LIST})


def get_algorithm(algorithm_id: str) -> Algorithm | None:
    """Return the algorithm with this id, or ``None`` when it is not in the catalogue."""
    return ALGORITHMS.get(algorithm_id)


def _without_float_noise(value: Any) -> Any:
    """Print integral floats as integers so ``1`` from the UI comes back as ``1``, not ``1.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, list):
        return [_without_float_noise(item) for item in value]
    if isinstance(value, dict):
        return {key: _without_float_noise(item) for key, item in value.items()}
    return value


def _error_details(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def validate_hyperparameters(algorithm_id: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check ``values`` against the algorithm's model and return them with defaults filled.

    Keys are spelled as the user spells them (``lambda``, not ``lambda_``) and the result is
    JSON-ready. Raises ``KeyError`` for an unknown algorithm and ``HyperparameterError`` for
    invalid values.
    """
    algorithm = ALGORITHMS[algorithm_id]
    payload: Any = {} if values is None else values
    if isinstance(payload, Mapping):
        payload = dict(payload)
    try:
        model = algorithm.hyperparameters.model_validate(payload)
    except ValidationError as exc:
        raise HyperparameterError(algorithm_id, _error_details(exc)) from None
    validated: dict[str, Any] = _without_float_noise(model.model_dump(mode="json", by_alias=True))
    return validated


@cache
def _catalogue_document() -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "name": algorithm.id,
            "title": algorithm.title,
            "framework": algorithm.framework,
            "workloadKind": algorithm.workload_kind.value,
            "description": algorithm.description,
            "hyperparameterSchema": algorithm.hyperparameters.model_json_schema(
                by_alias=True, mode="validation"
            ),
            "defaults": validate_hyperparameters(algorithm.id, None),
        }
        for algorithm in ALGORITHMS.values()
    )


def catalogue_document() -> list[dict[str, Any]]:
    """Return what ``GET /algorithms`` serves: one JSON-ready entry per algorithm."""
    return copy.deepcopy(list(_catalogue_document()))


def hyperparameter_environment(algorithm_id: str, values: Mapping[str, Any]) -> dict[str, str]:
    """Return the algorithm's hyperparameters as environment variables of its container.

    ``values`` is validated first (defaults filled), so the result always covers every
    declared parameter. Raises like ``validate_hyperparameters``.
    """
    validated = validate_hyperparameters(algorithm_id, values)
    return environment_variables(validated, ALGORITHMS[algorithm_id].environment_renames)
