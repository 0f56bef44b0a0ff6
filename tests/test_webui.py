"""The web UI next to the API: its built files at ``/`` (SPA fallback, cache headers), the
answer without a build, and the build ``ml-platform dev`` runs when the build is stale."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from ml_platform.config import Settings
from ml_platform.webui import IMMUTABLE, build_reason, build_ui, with_default_ui_dir
from tests_support import AppFactory, app_client

INDEX = "<!doctype html><title>ml-platform</title><script src='/assets/index-Ab12.js'></script>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A built UI as Vite writes it."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "index-Ab12.js").write_text("console.log('ui')")
    (root / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside the build")
    return root


def with_ui(settings: Settings, ui_dir: Path) -> Settings:
    return settings.model_copy(update={"http": settings.http.model_copy(update={"ui_dir": ui_dir})})


async def test_built_ui_is_served_beside_the_api(
    settings: Settings, app_factory: AppFactory, dist: Path
) -> None:
    async with app_factory(with_ui(settings, dist)) as app, app_client(app) as client:
        index = await client.get("/")
        assert index.status_code == 200
        assert index.text == INDEX
        assert index.headers["cache-control"] == "no-cache"

        asset = await client.get("/assets/index-Ab12.js")
        assert asset.status_code == 200
        assert asset.headers["cache-control"] == IMMUTABLE

        # A deep link is a client-side route: index.html, revalidated every time.
        deep = await client.get("/jobs/abc-123")
        assert (deep.status_code, deep.text) == (200, INDEX)
        assert deep.headers["cache-control"] == "no-cache"
        assert (await client.get("/favicon.svg")).text == "<svg/>"

        # The API and its neighbours keep their own answers.
        assert (await client.get("/api/v1/jobs")).json() == []
        assert (await client.get("/health")).json()["status"] == "ok"
        assert (await client.get("/openapi.json")).json()["info"]["title"] == "ml-platform"


async def test_unknown_api_paths_and_assets_stay_404(
    settings: Settings, app_factory: AppFactory, dist: Path
) -> None:
    async with app_factory(with_ui(settings, dist)) as app, app_client(app) as client:
        api = await client.get("/api/v1/no-such-route")
        assert api.status_code == 404
        assert api.json()["error"].startswith("no route")
        # A stale hashed name must not turn into HTML a browser would run as JavaScript.
        missing = await client.get("/assets/index-Old1.js")
        assert missing.status_code == 404
        assert "immutable" not in missing.headers.get("cache-control", "")
        # Nothing outside the build directory is reachable.
        escape = await client.get("/%2e%2e/secret.txt")
        assert "outside the build" not in escape.text


async def test_without_a_build_the_api_runs_and_root_says_where_the_ui_is(
    settings: Settings, app_factory: AppFactory, tmp_path: Path
) -> None:
    async with (
        app_factory(with_ui(settings, tmp_path / "not-built")) as app,
        app_client(app) as client,
    ):
        root = await client.get("/")
        assert root.status_code == 200
        assert "not built" in root.text
        assert "npm --prefix web" in root.text
        assert (await client.get("/api/v1/jobs")).status_code == 200
        assert (await client.get("/jobs/abc")).status_code == 404


def test_serve_and_dev_default_to_the_checkouts_web_dist(tmp_path: Path) -> None:
    settings = with_default_ui_dir(Settings())
    assert settings.http.ui_dir is not None
    assert settings.http.ui_dir.parts[-2:] == ("web", "dist")
    configured = Settings(http={"ui_dir": tmp_path})
    assert with_default_ui_dir(configured).http.ui_dir == tmp_path


# --- the build ml-platform dev runs ---------------------------------------------------------

FAKE_NPM = """#!/usr/bin/env bash
# Records each call; `npm run build -- --outDir X` writes a build into X.
set -euo pipefail
echo "$*" >> "$NPM_CALLS"
if [ "$1" = ci ]; then mkdir -p node_modules && touch node_modules/.package-lock.json; fi
if [ "$1" = run ]; then
  [ -n "${NPM_FAIL:-}" ] && { echo "src/App.tsx: error TS2322" >&2; exit 2; }
  out="${@: -1}"
  mkdir -p "$out/assets" && echo "<html>built</html>" > "$out/index.html"
fi
"""


@pytest.fixture
def web_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A web/ source folder and an `npm` on PATH that builds it."""
    web = tmp_path / "web"
    (web / "src").mkdir(parents=True)
    (web / "src" / "main.tsx").write_text("export {}")
    (web / "package.json").write_text("{}")
    (web / "package-lock.json").write_text("{}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM)
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NPM_CALLS", str(tmp_path / "calls.txt"))
    return web


def npm_calls(web_dir: Path) -> list[str]:
    calls = web_dir.parent / "calls.txt"
    return calls.read_text().splitlines() if calls.exists() else []


def test_dev_builds_a_missing_ui_once_and_then_only_when_sources_change(web_dir: Path) -> None:
    said: list[str] = []
    assert build_reason(web_dir) == "missing"
    assert build_ui(web_dir, say=said.append)
    assert (web_dir / "dist" / "index.html").read_text() == "<html>built</html>\n"
    assert [c.split()[0:2] for c in npm_calls(web_dir)] == [["ci", "--no-audit"], ["run", "build"]]
    assert any("building" in line for line in said)
    assert not [p.name for p in web_dir.iterdir() if p.name.startswith("dist.")]

    assert build_reason(web_dir) is None
    assert build_ui(web_dir, say=said.append)
    assert len(npm_calls(web_dir)) == 2  # current: nothing ran

    source = web_dir / "src" / "main.tsx"
    later = (web_dir / "dist" / "index.html").stat().st_mtime + 5
    os.utime(source, (later, later))
    assert build_reason(web_dir) == "stale"
    assert build_ui(web_dir, say=said.append)
    # Packages are installed already: only the build ran again.
    assert npm_calls(web_dir)[2].startswith("run build")


def test_a_failed_build_keeps_the_previous_one_and_says_why(
    web_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build_ui(web_dir, say=lambda _: None)
    later = (web_dir / "dist" / "index.html").stat().st_mtime + 5
    os.utime(web_dir / "src" / "main.tsx", (later, later))
    monkeypatch.setenv("NPM_FAIL", "1")
    said: list[str] = []
    assert not build_ui(web_dir, say=said.append)
    assert any("error TS2322" in line for line in said)
    assert (web_dir / "dist" / "index.html").read_text() == "<html>built</html>\n"
    assert not [p.name for p in web_dir.iterdir() if p.name.startswith("dist.")]


def test_concurrent_dev_starts_build_once(web_dir: Path) -> None:
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(build_ui(web_dir, say=lambda _: None)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [True, True, True]
    assert sum(call.startswith("run build") for call in npm_calls(web_dir)) == 1


def test_without_npm_dev_says_how_to_get_the_ui(
    web_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    said: list[str] = []
    assert not build_ui(web_dir, say=said.append)
    assert any("Node.js" in line for line in said)
