"""Domain errors that carry their HTTP status, and the handlers that render every error as
``{"error": "<one line>", "details": ...}``."""

from __future__ import annotations

from typing import Any

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

log = structlog.get_logger()


class AppError(Exception):
    """Base of the errors the API answers with a 4xx/5xx and a one-line message."""

    status_code = 500
    headers: dict[str, str] | None = None

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class UnauthorizedError(AppError):
    """No credentials, or credentials that do not check out (401)."""

    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class ForbiddenError(AppError):
    """The caller is known but its role, namespaces or the job policy do not allow this (403)."""

    status_code = 403


class NotFoundError(AppError):
    """The addressed resource does not exist."""

    status_code = 404


class ConflictError(AppError):
    """The request conflicts with the resource's current state."""

    status_code = 409


class InvalidRequestError(AppError):
    """The request is well-formed JSON but breaks a rule (422)."""

    status_code = 422


class BadRequestError(AppError):
    """The request cannot be parsed (400)."""

    status_code = 400


class ServiceUnavailableError(AppError):
    """A dependency (the database) is down or saturated."""

    status_code = 503


def error_body(message: str, details: Any = None) -> dict[str, Any]:
    """The one error shape of the API."""
    return {"error": message, "details": details}


def error_response(
    status_code: int, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON error response in the API's error shape."""
    return JSONResponse(error_body(message, details), status_code=status_code, headers=headers)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def validation_details(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors reduced to {loc, msg, type} with JSON-safe values."""
    details: list[dict[str, Any]] = []
    for error in errors:
        details.append(
            {
                "loc": [
                    part if isinstance(part, int | str) else str(part) for part in error["loc"]
                ],
                "msg": _one_line(str(error.get("msg", ""))),
                "type": str(error.get("type", "")),
            }
        )
    return details


def summarize(details: list[dict[str, Any]]) -> str:
    """One line naming the first problem (and how many more there are)."""
    if not details:
        return "invalid request"
    first = details[0]
    where = ".".join(str(part) for part in first["loc"])
    line = f"{where}: {first['msg']}" if where else first["msg"]
    if len(details) > 1:
        line += f" (and {len(details) - 1} more)"
    return line


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.message, exc.details, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = _one_line(str(exc.detail)) if exc.detail else "error"
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no route for {request.method} {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, message, None, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(error.get("type") == "json_invalid" for error in raw):
        position = next(
            (error["loc"][-1] for error in raw if error.get("type") == "json_invalid"), None
        )
        return error_response(400, "malformed JSON body", {"position": position})
    details = validation_details(raw)
    return error_response(422, summarize(details), details)


def _is_unavailable(exc: Exception) -> bool:
    """Pool wait timeouts and lost/refused connections, as opposed to bugs in a statement
    (through SQLAlchemy, or psycopg's own on the read pool)."""
    # psycopg_pool.PoolTimeout is an OperationalError.
    if isinstance(exc, sa_exc.TimeoutError | psycopg.OperationalError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa_exc.OperationalError | sa_exc.InterfaceError
        )
    return False


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if _is_unavailable(exc):
        log.warning("database.unavailable", error=type(exc).__name__)
        return error_response(
            503, "database unavailable", {"reason": type(exc).__name__}, {"Retry-After": "1"}
        )
    return await _unexpected_error(request, exc)


async def _stale_error(request: Request, exc: Exception) -> JSONResponse:
    # The compare-and-set of a job's row failed: another writer changed it since it was read.
    log.info("job.write_conflict", path=request.url.path)
    return error_response(
        409,
        "the job changed while this request ran; read it again and retry",
        None,
        {"Retry-After": "1"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("request.unhandled_error", path=request.url.path, exc_info=exc)
    return error_response(500, "internal server error", None)


def install_exception_handlers(app: FastAPI) -> None:
    """Register the handlers that render every error in the API's shape."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _database_error)
    app.add_exception_handler(psycopg.Error, _database_error)
    app.add_exception_handler(StaleDataError, _stale_error)
    app.add_exception_handler(Exception, _unexpected_error)
