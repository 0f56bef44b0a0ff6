"""MPI-launched training: Horovod and PyTorch with the MPI backend."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ml_platform.algorithms.base import OpenHyperparameters
from ml_platform.algorithms.pytorch import PyTorchHyperparameters
from ml_platform.algorithms.training import EpochTrainingHyperparameters


class MPILaunchHyperparameters(OpenHyperparameters):
    """How ``mpirun`` lays out processes over the worker pods."""

    slots_per_worker: int = Field(1, ge=1, le=256, description="Processes per worker pod.")
    np: int | None = Field(
        None, ge=1, le=65_536, description="Total processes; unset means workers x slots."
    )


class HorovodHyperparameters(MPILaunchHyperparameters, EpochTrainingHyperparameters):
    """Horovod data-parallel training (``hvd.DistributedOptimizer``)."""

    optimizer: Literal["sgd", "adam", "adamw", "rmsprop", "adagrad"] = "sgd"
    momentum: float = Field(0.9, ge=0, le=1)
    fusion_threshold_mb: int = Field(
        64, ge=0, le=4096, description="Tensor fusion buffer; 0 disables fusion."
    )
    compression: Literal["none", "fp16"] = Field("none", description="Allreduce compression.")
    use_adasum: bool = False
    backward_passes_per_step: int = Field(1, ge=1, le=1024)


class TorchMPIHyperparameters(MPILaunchHyperparameters, PyTorchHyperparameters):
    """PyTorch ``torch.distributed`` training on the MPI backend."""
