"""TensorFlow (Keras) hyperparameters: CNN, Transformer and multi-worker training."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from ml_platform.algorithms.training import EpochTrainingHyperparameters


class TensorFlowHyperparameters(EpochTrainingHyperparameters):
    """The usual arguments of a Keras ``compile``/``fit`` run."""

    optimizer: Literal["adam", "adamw", "sgd", "rmsprop", "adagrad", "nadam"] = "adam"
    steps_per_epoch: int | None = Field(None, ge=1, description="Unset: one pass over the data.")
    validation_steps: int | None = Field(None, ge=1)
    mixed_precision: bool = Field(False, description="Use the mixed_float16 policy.")


class TensorFlowCNNHyperparameters(TensorFlowHyperparameters):
    """An image-classification convolutional network."""

    num_classes: int = Field(10, ge=2, le=100_000)
    image_size: int = Field(224, ge=8, le=4096, description="Input height and width in pixels.")
    channels: int = Field(3, ge=1, le=4)
    dropout: float = Field(0.5, ge=0, lt=1)
    data_augmentation: bool = True


class TensorFlowTransformerHyperparameters(TensorFlowHyperparameters):
    """An encoder-decoder Transformer; defaults are the base model of the original paper."""

    num_layers: int = Field(6, ge=1, le=128)
    d_model: int = Field(512, ge=8, le=65_536, description="Embedding width.")
    num_heads: int = Field(8, ge=1, le=256)
    dff: int = Field(2048, ge=8, le=262_144, description="Feed-forward inner width.")
    dropout: float = Field(0.1, ge=0, lt=1)
    max_sequence_length: int = Field(512, ge=1, le=1_048_576)
    vocab_size: int = Field(32_000, ge=2, le=10_000_000)
    warmup_steps: int = Field(4000, ge=0)
    label_smoothing: float = Field(0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> Self:
        if self.d_model % self.num_heads:
            raise ValueError("d_model must be divisible by num_heads")
        return self


class TFDistributedHyperparameters(TensorFlowHyperparameters):
    """Multi-worker Keras training through a ``tf.distribute`` strategy."""

    distribution_strategy: Literal["multi_worker_mirrored", "parameter_server"] = (
        "multi_worker_mirrored"
    )
    communication: Literal["auto", "ring", "nccl"] = Field(
        "auto", description="Collective implementation of the mirrored strategy."
    )
    steps_per_execution: int = Field(1, ge=1, le=10_000)
