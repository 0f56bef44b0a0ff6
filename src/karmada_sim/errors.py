"""API errors rendered as Kubernetes `Status` objects with the apiserver's reasons and messages."""

from __future__ import annotations

from typing import Any

from karmada_sim.resources import Resource


class ApiError(Exception):
    """An error the API server answers with a `Status` body and this HTTP code."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details: dict[str, Any] = details or {}

    def status(self) -> dict[str, Any]:
        """The Kubernetes `Status` object for this error."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(res: Resource, name: str, kind: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if res.group:
        details["group"] = res.group
    details["kind"] = kind or res.plural
    return details


def not_found(res: Resource, name: str) -> ApiError:
    """404: `rayjobs.ray.io "x" not found`."""
    return ApiError(
        404, "NotFound", f'{res.group_resource} "{name}" not found', _details(res, name)
    )


def already_exists(res: Resource, name: str) -> ApiError:
    """409: `rayjobs.ray.io "x" already exists`."""
    return ApiError(
        409, "AlreadyExists", f'{res.group_resource} "{name}" already exists', _details(res, name)
    )


def conflict(res: Resource, name: str, why: str | None = None) -> ApiError:
    """409 Conflict: a stale resourceVersion, or a failed precondition when `why` is given."""
    why = why or (
        "the object has been modified; please apply your changes to the latest version and "
        "try again"
    )
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {res.group_resource} "{name}": {why}',
        _details(res, name),
    )


def field_error(field: str, reason: str, detail: str, value: Any = None) -> dict[str, Any]:
    """One cause of an Invalid error, as `field.Error` renders it.

    `reason` is the cause type (FieldValueRequired, FieldValueInvalid, FieldValueForbidden, ...).
    """
    labels = {
        "FieldValueRequired": "Required value",
        "FieldValueInvalid": "Invalid value",
        "FieldValueForbidden": "Forbidden",
        "FieldValueNotSupported": "Unsupported value",
        "FieldValueDuplicate": "Duplicate value",
        "FieldValueTooLong": "Too long",
    }
    label = labels.get(reason, reason)
    if reason in ("FieldValueInvalid", "FieldValueNotSupported", "FieldValueDuplicate"):
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        message = f"{label}: {shown}: {detail}"
    else:
        message = f"{label}: {detail}"
    return {"reason": reason, "message": message, "field": field}


def invalid(res: Resource, name: str, causes: list[dict[str, Any]]) -> ApiError:
    """422: `RayJob.ray.io "x" is invalid: field: message` with `details.causes[]`."""
    rendered = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    details = _details(res, name, kind=res.kind)
    details["causes"] = causes
    return ApiError(422, "Invalid", f'{res.group_kind} "{name}" is invalid: {summary}', details)


def bad_request(message: str) -> ApiError:
    """400 BadRequest with the given message."""
    return ApiError(400, "BadRequest", message)


def expired(message: str) -> ApiError:
    """410 Expired, e.g. for a continue token whose list is gone."""
    return ApiError(410, "Expired", message)


def gone(message: str) -> ApiError:
    """410 Gone, e.g. a watch from a compacted resourceVersion."""
    return ApiError(410, "Expired", message)


def too_large_resource_version(requested: int, current: int) -> ApiError:
    """504 Timeout for a resourceVersion the server has not reached (client-go relists on it)."""
    return ApiError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {requested}, current: {current}",
        {
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        },
    )


def path_not_found() -> ApiError:
    """404 for a URL that names no resource at all."""
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed() -> ApiError:
    """405 for a verb the resource does not support."""
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(*, strategic: bool) -> ApiError:
    """415 for a PATCH content type the resource does not accept, listing the ones it does
    (strategic merge only for built-in kinds; server-side apply is not simulated)."""
    accepted = ["application/json-patch+json", "application/merge-patch+json"]
    if strategic:
        accepted.append("application/strategic-merge-patch+json")
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def service_unavailable(message: str) -> ApiError:
    """503 ServiceUnavailable."""
    return ApiError(503, "ServiceUnavailable", message)


def too_many_requests(retry_after_seconds: int = 1) -> ApiError:
    """429 TooManyRequests with a retry hint, as priority-and-fairness answers."""
    return ApiError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": retry_after_seconds},
    )


def internal_error(message: str) -> ApiError:
    """500 InternalError."""
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")


def success_status(res: Resource, name: str, uid: str) -> dict[str, Any]:
    """The `Status{Success}` body a DELETE answers once the object is gone."""
    details = _details(res, name)
    details["uid"] = uid
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
