"""``ml-platform serve | dev | migrate``. Every setting is also a flag (derived from Settings)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any, NoReturn

import structlog
import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from ml_platform.app import REQUEST_DRAIN_SHARE, create_app
from ml_platform.config import Environment, Settings, iter_setting_options, option_for_location
from ml_platform.db.engine import build_engine
from ml_platform.db.migrate import upgrade_to_head
from ml_platform.logging import configure_logging

log = structlog.get_logger()

EXIT_USAGE = 2
EXIT_STARTUP_FAILURE = 3
EXIT_DATABASE_UNAVAILABLE = 4


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors print one line and exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        """Report a usage error."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (each also readable from its env var)")
    for option in iter_setting_options():
        description = option.field.description or ""
        group.add_argument(
            option.flag,
            dest=option.dest,
            default=argparse.SUPPRESS,
            metavar="VALUE",
            help=f"{description} [env {option.env}]",
        )


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = _OneLineParser(
        prog="ml-platform",
        description="Training-job service for Kubernetes clusters joined by Karmada.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    for name, text in (
        ("serve", "Migrate the database, then serve the HTTP API."),
        ("dev", "Serve on embedded defaults for local development (console logs, SQLite)."),
        ("migrate", "Upgrade the database schema to the newest revision and exit."),
    ):
        _add_setting_flags(commands.add_parser(name, help=text, description=text))
    return parser


def _flag_values(namespace: argparse.Namespace) -> dict[str, Any]:
    """Nested init kwargs for Settings from the flags that were given."""
    values: dict[str, Any] = {}
    for option in iter_setting_options():
        if not hasattr(namespace, option.dest):
            continue
        target = values
        for part in option.path[:-1]:
            target = target.setdefault(part, {})
        target[option.path[-1]] = getattr(namespace, option.dest)
    return values


def _describe_error(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        option = option_for_location(tuple(item["loc"]))
        name = f"{option.flag} / {option.env}" if option else ".".join(map(str, item["loc"]))
        problems.append(f"{name}: {item['msg']}")
    return "invalid setting " + "; ".join(problems)


def load_settings(namespace: argparse.Namespace, *, dev: bool = False) -> Settings:
    """Settings from flags over env vars; exits 2 with one line on an invalid value."""
    values = _flag_values(namespace)
    if dev:
        values.setdefault("environment", Environment.DEV.value)
    try:
        return Settings(**values)
    except ValidationError as exc:
        sys.stderr.write(f"ml-platform: {_describe_error(exc)}\n")
        raise SystemExit(EXIT_USAGE) from None


async def _migrate(settings: Settings) -> None:
    engine = build_engine(settings.database)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises the shutdown signal after a graceful stop; by then there is nothing
    # left to do, and the process should exit 0.
    log.debug("server.signal_after_shutdown", signal=signum)


async def _serve(settings: Settings) -> int:
    if settings.database.migrate_on_start:
        try:
            await _migrate(settings)
        except (DBAPIError, SQLAlchemyTimeoutError, OSError) as exc:
            # One line, no traceback: the orchestrator restarts us once the database is up.
            log.error("db.migration_failed", error=type(exc).__name__, detail=_first_line(exc))
            return EXIT_DATABASE_UNAVAILABLE
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http.host,
        port=settings.http.port,
        timeout_keep_alive=settings.http.keep_alive_seconds,
        timeout_graceful_shutdown=max(
            1, round(settings.shutdown_timeout_seconds * REQUEST_DRAIN_SHARE)
        ),
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    server = uvicorn.Server(config)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _ignore_signal)
    log.info("server.starting", host=settings.http.host, port=settings.http.port)
    await server.serve()
    if not server.started:
        log.error("server.startup_failed")
        return EXIT_STARTUP_FAILURE
    log.info("server.stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ml-platform`` console script."""
    namespace = build_parser().parse_args(argv)
    settings = load_settings(namespace, dev=namespace.command == "dev")
    configure_logging(level=settings.log.level.value, log_format=settings.log_format)
    if namespace.command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    return asyncio.run(_serve(settings))


if __name__ == "__main__":
    sys.exit(main())
