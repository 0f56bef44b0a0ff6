"""Hyperparameters of a user-supplied container image: no typed parameters."""

from __future__ import annotations

from ml_platform.algorithms.base import OpenHyperparameters


class ContainerHyperparameters(OpenHyperparameters):
    """Any scalar key/value pairs; the image defines their meaning."""
