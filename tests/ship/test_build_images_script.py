"""build-images.sh: the docker calls it makes, its message without docker, its nginx.conf."""

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ml_platform.readiness import free_port

BASH = shutil.which("bash") or "/bin/bash"

# A docker stand-in: logs argv as JSON lines; `info` fails when FAKE_DOCKER_DOWN=1.
FAKE_DOCKER = """#!{python}
import json, os, sys
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:2] == ["info"] and os.environ.get("FAKE_DOCKER_DOWN") == "1":
    sys.exit(1)
"""


def run_script(
    repo_root: Path, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(repo_root / "build-images.sh"), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def docker_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable))
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DOCKER_LOG": str(tmp_path / "docker.log"),
    }


def docker_calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(env["FAKE_DOCKER_LOG"])
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_without_docker_it_says_so_and_fails(repo_root: Path, tmp_path: Path) -> None:
    # A PATH holding only the tools the script needs, so docker cannot be found wherever the
    # machine has it installed.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "cat", "git"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    env = {**os.environ, "PATH": str(bin_dir)}
    assert shutil.which("docker", path=env["PATH"]) is None
    result = run_script(repo_root, "--tag", "t1", env=env)
    assert result.returncode != 0
    assert "docker was not found on PATH" in result.stderr
    assert "no image was built" in result.stderr


def test_unreachable_daemon_is_reported(repo_root: Path, docker_env: dict[str, str]) -> None:
    result = run_script(repo_root, env={**docker_env, "FAKE_DOCKER_DOWN": "1"})
    assert result.returncode != 0
    assert "daemon is not reachable" in result.stderr
    assert [call[0] for call in docker_calls(docker_env)] == ["info"]


def test_backend_only_when_web_sources_are_absent(
    repo_root: Path, docker_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**docker_env, "WEB_DIR": str(tmp_path / "no-web")}
    result = run_script(repo_root, "--registry", "reg.local:5000/", "--tag", "v9", env=env)
    assert result.returncode == 0, result.stderr
    builds = [call for call in docker_calls(docker_env) if call[0] == "build"]
    assert len(builds) == 1
    build = builds[0]
    assert build[build.index("--tag") + 1] == "reg.local:5000/ml-platform:v9"
    assert build[build.index("--file") + 1] == str(repo_root / "Dockerfile")
    assert build[build.index("--target") + 1] == "runtime"
    assert build[-1] == str(repo_root)
    assert "skipping reg.local:5000/ml-platform-ui:v9" in result.stdout
    assert not any(call[0] == "push" for call in docker_calls(docker_env))


def test_both_images_built_and_pushed_with_web_sources(
    repo_root: Path, docker_env: dict[str, str], tmp_path: Path
) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "package.json").write_text("{}")
    env = {**docker_env, "WEB_DIR": str(web), "REGISTRY": "ghcr.example/org", "TAG": "abc"}
    result = run_script(repo_root, "--push", env=env)
    assert result.returncode == 0, result.stderr
    calls = docker_calls(docker_env)
    builds = [call for call in calls if call[0] == "build"]
    assert [b[b.index("--tag") + 1] for b in builds] == [
        "ghcr.example/org/ml-platform:abc",
        "ghcr.example/org/ml-platform-ui:abc",
    ]
    ui_build = builds[1]
    assert ui_build[ui_build.index("--file") + 1] == str(
        repo_root / "deploy" / "images" / "ui.Dockerfile"
    )
    assert ui_build[-1] == str(web)
    assert [call for call in calls if call[0] == "push"] == [
        ["push", "ghcr.example/org/ml-platform:abc"],
        ["push", "ghcr.example/org/ml-platform-ui:abc"],
    ]
    written = (web / "nginx.conf").read_text()
    assert written == (repo_root / "web" / "nginx.conf").read_text()


def test_unknown_option_is_refused(repo_root: Path, docker_env: dict[str, str]) -> None:
    result = run_script(repo_root, "--bogus", env=docker_env)
    assert result.returncode != 0
    assert "unknown option: --bogus" in result.stderr
    assert docker_calls(docker_env) == []


def test_committed_nginx_conf_is_what_the_script_writes(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "nginx.conf"
    env = {k: v for k, v in os.environ.items() if k != "BACKEND_UPSTREAM"}
    result = run_script(repo_root, "--write-nginx-conf", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == (repo_root / "web" / "nginx.conf").read_text()


def test_nginx_conf_content(repo_root: Path) -> None:
    conf = (repo_root / "web" / "nginx.conf").read_text()
    assert "gzip on;" in conf
    assert "location /api/ {" in conf
    assert "proxy_pass http://ml-platform-backend:8080;" in conf
    assert "try_files $uri $uri/ /index.html;" in conf
    assert 'add_header Cache-Control "public, max-age=31536000, immutable";' in conf
    assert 'add_header Cache-Control "no-cache" always;' in conf
    locations = conf.count("location ")
    # Each location sets its own headers, so each must repeat the security headers.
    for header in (
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Content-Security-Policy",
    ):
        assert conf.count(f"add_header {header} ") == locations, header


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def running_nginx(repo_root: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The generated server block served by a real nginx, proxying /api to a tiny backend."""
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light to run this check)")
    html = tmp_path / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text("<html>ml-platform</html>")
    (html / "assets" / "index-Bx7c9a.js").write_text("console.log('x');" * 200)
    backend_port, nginx_port = free_port(), free_port()
    conf = tmp_path / "server.conf"
    env = {**os.environ, "BACKEND_UPSTREAM": f"127.0.0.1:{backend_port}"}
    assert run_script(repo_root, "--write-nginx-conf", str(conf), env=env).returncode == 0
    text = conf.read_text()
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{nginx_port};")
    conf.write_text(text.replace("/usr/share/nginx/html", str(html)))
    # Started as root, nginx would run its workers as nobody, who cannot read the temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(
        f"{user}pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\ndaemon off;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};\n"
        "  types { text/html html; application/javascript js; }\n"
        f"  include {conf}; }}\n"
    )
    backend = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(backend_port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [nginx, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    (tmp_path / "api" / "v1").mkdir(parents=True)
    (tmp_path / "api" / "v1" / "jobs").write_text("[]")
    try:
        base = f"http://127.0.0.1:{nginx_port}"
        for _ in range(100):
            try:
                fetch(base + "/")
                fetch(f"http://127.0.0.1:{backend_port}/")
                break
            except OSError:
                time.sleep(0.05)
        yield {"base": base}
    finally:
        server.terminate()
        backend.terminate()
        server.wait(timeout=10)
        backend.wait(timeout=10)


def test_nginx_serves_spa_assets_and_api(running_nginx: dict[str, Any]) -> None:
    base = running_nginx["base"]
    status, headers, body = fetch(base + "/jobs/42")
    assert (status, body) == (200, b"<html>ml-platform</html>")
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in headers["Content-Security-Policy"]

    status, headers, _ = fetch(base + "/assets/index-Bx7c9a.js")
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"

    status, headers, _ = fetch(base + "/assets/gone-123.js")
    assert status == 404
    assert "Cache-Control" not in headers

    status, headers, body = fetch(base + "/api/v1/jobs")
    assert (status, body) == (200, b"[]")
    assert headers["X-Frame-Options"] == "DENY"

    request = urllib.request.Request(base + "/assets/index-Bx7c9a.js")
    request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Encoding"] == "gzip"
