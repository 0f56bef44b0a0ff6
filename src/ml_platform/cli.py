"""``ml-platform serve | dev | migrate | sim``; every setting is also a flag (from Settings).

The Karmada simulator (package ``karmada_sim``) is imported only inside ``dev`` and ``sim``:
``serve`` and the production image never load it.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.util
import json
import signal
import sys
import tempfile
import typing
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import structlog
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from ml_platform.app import REQUEST_DRAIN_SHARE, create_app, freeze_startup_objects
from ml_platform.auth.authenticator import build_authenticator
from ml_platform.auth.tokens import AuthConfigError
from ml_platform.config import (
    Environment,
    LogFormat,
    SettingOption,
    Settings,
    iter_setting_options,
    option_for_location,
)
from ml_platform.db.engine import build_engine
from ml_platform.db.migrate import upgrade_to_head
from ml_platform.db.url import normalize_database_url
from ml_platform.logging import configure_logging
from ml_platform.webui import SOURCE_WEB_DIR, build_ui, with_default_ui_dir

DEV_CLUSTERS = ("member1@eu-west/eu-west-1a", "member2@us-east/us-east-1b")
# Created in the dev simulator: where jobs go unless they name another namespace.
DEV_NAMESPACES = ("default",)
SIM_HELP = "Run the Karmada simulator: a Kubernetes-API-compatible control plane."

log = structlog.get_logger()

EXIT_USAGE = 2
EXIT_STARTUP_FAILURE = 3
EXIT_DATABASE_UNAVAILABLE = 4

# A new worker answers the supervisor's health check only once it has imported the app, which
# takes seconds on a busy host; uvicorn's default (5 s) killed workers that were still starting.
WORKER_HEALTHCHECK_SECONDS = 30


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors print one line and exit 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        """Report a usage error."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_setting_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("settings (each also readable from its env var)")
    for option in iter_setting_options():
        description = option.field.description or ""
        # A yes/no setting also works as a bare switch: `--allow-unauthenticated`.
        switch = option.field.annotation is bool
        group.add_argument(
            option.flag,
            dest=option.dest,
            default=argparse.SUPPRESS,
            metavar="VALUE",
            nargs="?" if switch else None,
            const="true" if switch else None,
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
        (
            "dev",
            "All-in-one local mode: the API on SQLite with an in-process Karmada simulator of "
            "two member clusters (unless a Karmada kubeconfig is given).",
        ),
        ("migrate", "Upgrade the database schema to the newest revision and exit."),
    ):
        _add_setting_flags(commands.add_parser(name, help=text, description=text))
    # Listed for --help only: main() hands `sim` and its flags to the simulator's own parser,
    # so building this parser imports nothing from the simulator.
    commands.add_parser("sim", help=SIM_HELP, add_help=False)
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
        target[option.path[-1]] = _flag_value(option, getattr(namespace, option.dest))
    return values


def _flag_value(option: SettingOption, raw: str) -> Any:
    """Structured settings (mappings, lists) take JSON on the command line, as in env vars."""
    structured = typing.get_origin(option.field.annotation) in (dict, list, tuple)
    if structured and raw.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw  # reported by Settings validation, naming the flag
    return raw


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
        values.setdefault("allow_unauthenticated", "true")
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


def _uvicorn_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
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
        **options,
    )


def _serve(settings: Settings) -> int:
    """Refuse to start without authentication unless allowed, migrate (unless turned off),
    then serve in this process or in ``settings.workers``."""
    try:
        # Before anything else, so a service nobody has to sign in to never starts by accident.
        build_authenticator(
            auth=settings.auth,
            oidc=settings.oidc,
            allow_unauthenticated=settings.allow_unauthenticated,
        )
    except AuthConfigError as exc:
        sys.stderr.write(f"ml-platform: refusing to start: {exc}\n")
        return EXIT_USAGE
    if settings.database.migrate_on_start:
        try:
            asyncio.run(_migrate(settings))
        except (DBAPIError, SQLAlchemyTimeoutError, OSError) as exc:
            # One line, no traceback: the orchestrator restarts us once the database is up.
            log.error("db.migration_failed", error=type(exc).__name__, detail=_first_line(exc))
            return EXIT_DATABASE_UNAVAILABLE
    if settings.workers > 1:
        return _serve_workers(settings)  # each worker builds its own app
    return asyncio.run(_serve_here(create_app(settings), settings))


async def _serve_here(app: FastAPI, settings: Settings) -> int:
    server = uvicorn.Server(_uvicorn_config(app, settings))
    freeze_startup_objects()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _ignore_signal)
    log.info("server.starting", host=settings.http.host, port=settings.http.port)
    await server.serve()
    if not server.started:
        log.error("server.startup_failed")
        return EXIT_STARTUP_FAILURE
    log.info("server.stopped")
    return 0


def worker_app(settings: Settings) -> FastAPI:
    """The app of one worker process (a fresh interpreter: logging is set up again)."""
    configure_logging(level=settings.log.level.value, log_format=settings.log_format)
    app = create_app(settings)
    freeze_startup_objects()
    return app


def _serve_workers(settings: Settings) -> int:
    """uvicorn's supervisor: ``settings.workers`` processes share the listening socket; it
    restarts a worker that dies and, on SIGTERM/SIGINT, stops each one gracefully."""
    config = _uvicorn_config(
        functools.partial(worker_app, settings),
        settings,
        factory=True,
        workers=settings.workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    log.info(
        "server.starting",
        host=settings.http.host,
        port=settings.http.port,
        workers=settings.workers,
    )
    supervisor.run()
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        log.error("server.startup_failed")
        return EXIT_STARTUP_FAILURE
    log.info("server.stopped")
    return 0


def _refuse_sqlite_workers(settings: Settings) -> None:
    """SQLite is one process's database: one writer, and no lock to elect the monitor's leader."""
    sqlite = normalize_database_url(settings.database.url).get_backend_name() == "sqlite"
    if settings.workers > 1 and sqlite:
        sys.stderr.write(
            f"ml-platform: --workers {settings.workers} needs Postgres; SQLite serves from one"
            " process (set --database-url to a Postgres URL, or use --workers 1)\n"
        )
        raise SystemExit(EXIT_USAGE)


def _dev(settings: Settings) -> int:
    """Serve with an in-process simulator, unless a real Karmada is configured. The web UI of
    the source checkout is built first when its build is missing or stale."""
    if settings.http.ui_dir is None:
        build_ui(SOURCE_WEB_DIR)
    settings = with_default_ui_dir(settings)
    if settings.karmada.kubeconfig is not None:
        return _serve(settings)
    _require_simulator()
    # Imported here, not at module level: see the module docstring.
    from karmada_sim.members import ClusterSpec
    from karmada_sim.server import SimulatorServer
    from karmada_sim.simulator import Simulator

    simulator = Simulator([ClusterSpec.parse(c) for c in DEV_CLUSTERS], namespaces=DEV_NAMESPACES)
    with (
        tempfile.TemporaryDirectory(prefix="ml-platform-dev-") as workdir,
        SimulatorServer(simulator) as server,
    ):
        kubeconfig = server.write_kubeconfig(Path(workdir) / "karmada.kubeconfig")
        settings = settings.model_copy(
            update={"karmada": settings.karmada.model_copy(update={"kubeconfig": kubeconfig})}
        )
        api = f"http://{_display_host(settings.http.host)}:{settings.http.port}"
        built = settings.http.ui_dir is not None and (settings.http.ui_dir / "index.html").is_file()
        ui = f"{api}/" if built else "not built (see the log line webui.not_built)"
        print(
            f"ml-platform dev\n  UI       {ui}\n  API      {api}/api/v1  (docs: {api}/docs)\n"
            f"  Karmada  {server.url}  (simulated; kubectl --kubeconfig {kubeconfig})\n"
            f"  Auth     {_dev_auth_line(settings)}\n",
            flush=True,
        )
        return _serve(settings)


def _dev_auth_line(settings: Settings) -> str:
    configured = settings.auth.tokens or settings.auth.tokens_file or settings.oidc.enabled
    if settings.allow_unauthenticated and not configured:
        return "off: anyone who can reach the port may do anything (dev only)"
    return "on: send Authorization: Bearer <token>"


def _display_host(host: str) -> str:
    return "localhost" if host in ("0.0.0.0", "::", "") else host


def _require_simulator() -> None:
    """Exit 2 with one line where the simulator is not installed (the production image)."""
    if importlib.util.find_spec("karmada_sim") is None:
        sys.stderr.write(
            "ml-platform: the Karmada simulator is not installed here "
            "(it ships with the source checkout and the simulator image, not the service image)\n"
        )
        raise SystemExit(EXIT_USAGE)


def _sim(args: list[str]) -> int:
    """``ml-platform sim``: the simulator's own command line."""
    _require_simulator()
    from karmada_sim import cli as sim_cli

    parser = _OneLineParser(prog="ml-platform sim", description=SIM_HELP)
    sim_cli.configure_parser(parser)
    namespace = parser.parse_args(args)
    configure_logging(level="info", log_format=LogFormat.CONSOLE)
    return sim_cli.run(namespace)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ml-platform`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sim"]:
        return _sim(args[1:])
    namespace = build_parser().parse_args(args)
    settings = load_settings(namespace, dev=namespace.command == "dev")
    configure_logging(level=settings.log.level.value, log_format=settings.log_format)
    if namespace.command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    _refuse_sqlite_workers(settings)
    if namespace.command == "dev":
        return _dev(settings)
    return _serve(with_default_ui_dir(settings))


if __name__ == "__main__":
    sys.exit(main())
