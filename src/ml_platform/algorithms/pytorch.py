"""PyTorch and DeepSpeed ZeRO-3 hyperparameters."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from ml_platform.algorithms.fields import Text
from ml_platform.algorithms.training import EpochTrainingHyperparameters

OffloadDevice = Literal["none", "cpu", "nvme"]


class PyTorchHyperparameters(EpochTrainingHyperparameters):
    """The usual knobs of a PyTorch training script (names follow ``torch.optim``)."""

    optimizer: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "nadam"] = "adam"
    momentum: float = Field(0.0, ge=0, le=1, description="SGD/RMSprop momentum.")
    weight_decay: float = Field(0.0, ge=0, le=1)
    lr_scheduler: Literal["none", "step", "cosine", "exponential", "plateau", "onecycle"] = "none"
    gradient_accumulation_steps: int = Field(1, ge=1, le=4096)
    max_grad_norm: float | None = Field(
        None, gt=0, description="Clip gradients to this norm; unset means no clipping."
    )
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"
    num_workers: int = Field(2, ge=0, le=64, description="DataLoader worker processes.")


class DeepSpeedZero3Hyperparameters(PyTorchHyperparameters):
    """PyTorch under DeepSpeed ZeRO stage 3, with the DeepSpeed documentation's defaults.

    Stage 3 partitions parameters, gradients and optimizer state across the workers.
    """

    zero_stage: Literal[3] = Field(3, description="Fixed: this algorithm is ZeRO stage 3.")
    precision: Literal["fp32", "fp16", "bf16"] = "bf16"
    max_grad_norm: float | None = Field(1.0, gt=0, description="DeepSpeed gradient_clipping.")
    offload_optimizer_device: OffloadDevice = "none"
    offload_param_device: OffloadDevice = "none"
    nvme_path: Text | None = Field(None, description="Local NVMe path, required for nvme offload.")
    overlap_comm: bool = True
    contiguous_gradients: bool = True
    reduce_bucket_size: int = Field(500_000_000, ge=1)
    stage3_prefetch_bucket_size: int = Field(50_000_000, ge=0)
    stage3_param_persistence_threshold: int = Field(100_000, ge=0)
    stage3_max_live_parameters: int = Field(1_000_000_000, ge=1)
    stage3_max_reuse_distance: int = Field(1_000_000_000, ge=0)
    stage3_gather_16bit_weights_on_model_save: bool = False

    @model_validator(mode="after")
    def _nvme_offload_needs_path(self) -> Self:
        uses_nvme = "nvme" in (self.offload_optimizer_device, self.offload_param_device)
        if uses_nvme and not self.nvme_path:
            raise ValueError("nvme_path is required when offloading to nvme")
        return self
