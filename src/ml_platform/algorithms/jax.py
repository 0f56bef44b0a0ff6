"""JAX ``pjit`` hyperparameters: a step-based loop over a named device mesh."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, StringConstraints, model_validator

from ml_platform.algorithms.training import TrainingHyperparameters

MAX_MESH_AXES = 6
_SIZE_SEPARATOR = re.compile(r"\s*[,x]\s*")
_NAME_SEPARATOR = re.compile(r"\s*,\s*")


# The earlier UI only sent scalars, so the lists below also accept their text form.
def _split_sizes(value: Any) -> Any:
    """Accept "2,4" or "2x4" as well as [2, 4]."""
    if not isinstance(value, str):
        return value
    return [int(item) if item.isdigit() else item for item in _SIZE_SEPARATOR.split(value.strip())]


def _split_names(value: Any) -> Any:
    """Accept "data,model" as well as ["data", "model"]."""
    if not isinstance(value, str):
        return value
    return _NAME_SEPARATOR.split(value.strip())


AxisName = Annotated[str, StringConstraints(max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]


class JaxPjitHyperparameters(TrainingHyperparameters):
    """A step-based ``pjit`` training loop over a named device mesh.

    Unset ``mesh_shape`` puts every device on the first axis (pure data parallelism).
    """

    batch_size: int = Field(128, ge=1, le=1_048_576, description="Global batch size.")
    num_train_steps: int = Field(10_000, ge=1, le=100_000_000)
    warmup_steps: int = Field(0, ge=0)
    optimizer: Literal["adam", "adamw", "sgd", "adafactor", "lamb", "lion"] = "adamw"
    weight_decay: float = Field(0.0, ge=0, le=1)
    mesh_shape: Annotated[
        Annotated[
            list[Annotated[int, Field(ge=1, le=65_536)]],
            Field(min_length=1, max_length=MAX_MESH_AXES),
        ]
        | None,
        BeforeValidator(_split_sizes),
        Field(description="Devices along each mesh axis."),
    ] = None
    mesh_axis_names: Annotated[
        list[AxisName],
        BeforeValidator(_split_names),
        Field(min_length=1, max_length=MAX_MESH_AXES),
    ] = ["data"]
    param_dtype: Literal["float32", "bfloat16"] = "float32"
    checkpoint_every_steps: int = Field(1000, ge=1)

    @model_validator(mode="after")
    def _mesh_is_consistent(self) -> Self:
        if len(set(self.mesh_axis_names)) != len(self.mesh_axis_names):
            raise ValueError("mesh_axis_names must be distinct")
        if self.mesh_shape is not None and len(self.mesh_shape) != len(self.mesh_axis_names):
            raise ValueError("mesh_shape needs one size per entry of mesh_axis_names")
        return self
