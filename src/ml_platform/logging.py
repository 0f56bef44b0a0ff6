"""structlog setup shared by the service and uvicorn: JSON in production, console in dev."""

from __future__ import annotations

import logging
import sys

import structlog

from ml_platform.config import LogFormat

# uvicorn's access log is replaced by the request middleware's own line.
_QUIET_LOGGERS = ("uvicorn.access",)
_ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "sqlalchemy", "alembic")


def configure_logging(*, level: str, log_format: LogFormat) -> None:
    """Route structlog and stdlib logging (uvicorn, alembic) through one renderer."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.types.Processor
    if log_format is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer()
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers[:] = []
        routed.propagate = True
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = False
