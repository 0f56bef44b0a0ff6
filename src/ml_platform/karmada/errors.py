"""Errors of talking to Karmada, as domain errors with the HTTP status the API answers."""

from __future__ import annotations

from ml_platform.errors import AppError


class KarmadaUnavailable(AppError):
    """Karmada could not be reached or failed transiently; retrying later may succeed."""

    status_code = 503


class KarmadaRejected(AppError):
    """Karmada refused the request for good (invalid object, forbidden name, ...)."""

    status_code = 422
