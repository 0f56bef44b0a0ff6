"""Hyperparameters every deep-learning training loop shares."""

from __future__ import annotations

from pydantic import Field

from ml_platform.algorithms.base import OpenHyperparameters


class TrainingHyperparameters(OpenHyperparameters):
    """Batch size, learning rate and seed, common to the deep-learning algorithms."""

    batch_size: int = Field(32, ge=1, le=1_048_576, description="Mini-batch size per worker.")
    learning_rate: float = Field(0.001, gt=0, le=10, description="Initial learning rate.")
    seed: int | None = Field(
        None, ge=0, le=2**32 - 1, description="Random seed; unset means not seeded."
    )


class EpochTrainingHyperparameters(TrainingHyperparameters):
    """A training loop that runs for a number of passes over the data."""

    epochs: int = Field(10, ge=1, le=100_000, description="Passes over the training data.")
