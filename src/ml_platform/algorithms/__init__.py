"""The algorithm catalogue: algorithm -> workload kind, hyperparameter models, defaults."""

from ml_platform.algorithms.catalogue import (
    ALGORITHMS,
    Algorithm,
    HyperparameterError,
    WorkloadKind,
    catalogue_document,
    get_algorithm,
    hyperparameter_environment,
    validate_hyperparameters,
)
from ml_platform.algorithms.environment import (
    environment_name,
    environment_value,
    environment_variables,
)

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "HyperparameterError",
    "WorkloadKind",
    "catalogue_document",
    "environment_name",
    "environment_value",
    "environment_variables",
    "get_algorithm",
    "hyperparameter_environment",
    "validate_hyperparameters",
]
