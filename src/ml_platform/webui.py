"""The web UI: serve its built files at ``/`` next to the API, and build it for ``ml-platform dev``.

The built UI is ``index.html`` plus content-hashed files under ``assets/`` (Vite). Hashed files
are cached for a year; ``index.html`` (which names the current hashes) is revalidated on every
load, and every path that is not an API or a file is a client-side route answered with it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ml_platform.api import API_PREFIX
from ml_platform.config import Settings
from ml_platform.errors import NotFoundError

log = structlog.get_logger()

# The source checkout's web/ (this file is src/ml_platform/webui.py); absent in a wheel install.
SOURCE_WEB_DIR = Path(__file__).resolve().parents[2] / "web"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# What a build reads: when any is newer than the built index.html, the build is stale.
BUILD_INPUTS = (
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.ts",
    "tsconfig.json",
)
NPM_TIMEOUT_SECONDS = 900


def with_default_ui_dir(settings: Settings) -> Settings:
    """The settings ``serve`` and ``dev`` run with: the UI directory defaults to web/dist of
    the source checkout (an app built without one serves only the API)."""
    if settings.http.ui_dir is not None:
        return settings
    http = settings.http.model_copy(update={"ui_dir": SOURCE_WEB_DIR / "dist"})
    return settings.model_copy(update={"http": http})


class _HashedAssets(StaticFiles):
    """Vite's content-hashed files: a changed file gets a new name, so cache them for a year."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, marked immutable (a 304 keeps the headers the browser already has)."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def mount_ui(app: FastAPI, dist: Path) -> None:
    """Serve the built UI at ``/`` when ``dist/index.html`` exists; otherwise answer ``/`` with
    where to get the UI, so ``serve`` without a build still runs the API."""
    index = dist / "index.html"
    if not index.is_file():
        log.info(
            "webui.not_built",
            expected=str(dist),
            hint="build it with `npm --prefix web ci && npm --prefix web run build`, run"
            " `ml-platform dev` (builds it), or use the UI image (nginx) from build-images.sh",
        )

        @app.get("/", include_in_schema=False)
        async def ui_missing() -> PlainTextResponse:
            return PlainTextResponse(
                "ml-platform API: the web UI is not built on this server.\n"
                f"Expected it in {dist}. Build it with `npm --prefix web ci && npm --prefix web"
                " run build`, or run the UI image from build-images.sh.\n"
                f"API: {API_PREFIX}  docs: /docs\n"
            )

        return

    root = dist.resolve()
    if (root / "assets").is_dir():
        app.mount("/assets", _HashedAssets(directory=root / "assets"), name="ui-assets")

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def ui_page(path: str, request: Request) -> FileResponse:
        # API paths keep their JSON 404 instead of turning into the app's HTML.
        if f"/{path}".startswith(f"{API_PREFIX}/") or f"/{path}" == API_PREFIX:
            raise NotFoundError(f"no route {request.method} /{path}")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            target = candidate  # a top-level file of the build, e.g. favicon.svg
        else:
            target = root / "index.html"  # a client-side route (deep link)
        return FileResponse(target, headers={"Cache-Control": REVALIDATE})

    log.info("webui.serving", directory=str(root))


def _newest_mtime(paths: Iterator[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            newest = max(newest, _newest_mtime(path.rglob("*")))
    return newest


def build_reason(web_dir: Path) -> str | None:
    """Why the UI in ``web_dir`` needs a build ("missing" or "stale"), or None when current."""
    index = web_dir / "dist" / "index.html"
    if not index.is_file():
        return "missing"
    inputs = (web_dir / name for name in BUILD_INPUTS)
    return "stale" if _newest_mtime(inputs) > index.stat().st_mtime else None


def _needs_install(web_dir: Path) -> bool:
    # npm writes node_modules/.package-lock.json on every install.
    installed = web_dir / "node_modules" / ".package-lock.json"
    lock = web_dir / "package-lock.json"
    return not installed.is_file() or lock.stat().st_mtime > installed.stat().st_mtime


def build_ui(web_dir: Path, *, say: Callable[[str], None] = print) -> bool:
    """Build the UI in ``web_dir`` with npm when its build is missing or stale; True when a
    current build exists afterwards. Concurrent callers wait for each other (a file lock), and
    the build goes to a fresh directory swapped in at the end, so a build killed half-way
    leaves the old build or none, never a partial one."""
    if not (web_dir / "package.json").is_file():
        return False
    if build_reason(web_dir) is None:
        return True
    npm = shutil.which("npm")
    if npm is None:
        say(
            "  web UI   not built, and npm was not found: install Node.js 20+ (with npm) to get"
            " the UI; the API runs without it"
        )
        return False
    with open(web_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        reason = build_reason(web_dir)
        if reason is None:
            return True
        return _run_build(web_dir, npm=npm, reason=reason, say=say)


def _run_build(web_dir: Path, *, npm: str, reason: str, say: Callable[[str], None]) -> bool:
    staging = web_dir / f"dist.building-{os.getpid()}"
    steps: list[tuple[str, list[str]]] = []
    if _needs_install(web_dir):
        steps.append(("installing packages (npm ci)", [npm, "ci", "--no-audit", "--no-fund"]))
    steps.append(
        ("building (npm run build)", [npm, "run", "build", "--", "--outDir", staging.name])
    )
    say(f"  web UI   build {reason}: building {web_dir} (first start takes a minute or two)")
    try:
        for label, command in steps:
            say(f"  web UI   {label} ...")
            result = subprocess.run(
                command,
                cwd=web_dir,
                capture_output=True,
                text=True,
                timeout=NPM_TIMEOUT_SECONDS,
                check=False,
            )
            if result.returncode != 0:
                tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
                say(f"  web UI   {label} failed (exit {result.returncode}):\n{tail}")
                return False
        dist = web_dir / "dist"
        retired = web_dir / f"dist.old-{os.getpid()}"
        if dist.exists():
            dist.rename(retired)
        staging.rename(dist)
        shutil.rmtree(retired, ignore_errors=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        say(f"  web UI   build failed: {exc}")
        return False
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say("  web UI   built")
    return True
