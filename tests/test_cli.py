"""The real ``ml-platform`` console script: help, usage errors, and graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from ml_platform.monitor.leader import MONITOR_LOCK_KEY
from ml_platform.readiness import free_port, wait_ready
from tests_support import KUBECONFIG

CLI = str(Path(sys.executable).parent / "ml-platform")


def run_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *argv], capture_output=True, text=True, timeout=30, env=env, check=False
    )


def clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ML_PLATFORM_")}
    for name in ("KARMADA_KUBECONFIG", "DATABASE_URL", "PORT"):
        env.pop(name, None)
    return env


def test_help_lists_commands() -> None:
    result = run_cli("--help", env=clean_env())
    assert result.returncode == 0
    for command in ("serve", "migrate", "dev"):
        assert command in result.stdout
    serve_help = run_cli("serve", "--help", env=clean_env())
    assert "--karmada-kubeconfig" in serve_help.stdout
    assert "KARMADA_KUBECONFIG" in serve_help.stdout


@pytest.mark.parametrize(
    ("argv", "env_extra", "named"),
    [
        (["serve", "--port=abc"], {}, "--port"),
        (
            ["serve", "--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig"],
            {},
            "--karmada-kubeconfig",
        ),
        (["serve"], {"DATABASE_URL": "mysql://nope/x"}, "DATABASE_URL"),
        (["serve", "--no-such-flag"], {}, "--no-such-flag"),
        (["serve", "--workers=0"], {}, "--workers"),
        # SQLite (the default database) is served by one process only.
        (["serve", "--workers=2"], {}, "--workers 2 needs Postgres"),
        (["dev"], {"ML_PLATFORM_WORKERS": "2"}, "--workers 2 needs Postgres"),
        ([], {}, "command"),
    ],
)
def test_bad_setting_exits_2_with_one_line(
    argv: list[str], env_extra: dict[str, str], named: str
) -> None:
    result = run_cli(*argv, env={**clean_env(), **env_extra})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_creates_the_sqlite_schema(tmp_path: Path) -> None:
    database = tmp_path / "m.db"
    result = run_cli("migrate", f"--database-url=sqlite:///{database}", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert database.exists()
    assert "db.migrated" in result.stderr


def read_response(conn: socket.socket) -> bytes:
    """One complete HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def start_serve(
    tmp_path: Path, database_url: str, *flags: str
) -> tuple[subprocess.Popen[str], int]:
    """``ml-platform serve`` with JSON logs and an (unreachable) Karmada, so its monitor runs."""
    kubeconfig = tmp_path / "karmada-kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    port = free_port()
    process = subprocess.Popen(
        [
            CLI,
            "serve",
            "--allow-unauthenticated",
            *flags,
            f"--karmada-kubeconfig={kubeconfig}",
            f"--database-url={database_url}",
            f"--port={port}",
            "--http-host=127.0.0.1",
            "--log-format=json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        start_new_session=True,  # its own process group: cleanup reaches the workers too
    )
    return process, port


def kill_serve(process: subprocess.Popen[str]) -> None:
    """Kill a server started by start_serve, with any worker processes, if still running."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=5)


def test_sigterm_lets_in_flight_request_finish_and_exits_0(
    tmp_path: Path, database_url: str
) -> None:
    process, port = start_serve(tmp_path, database_url)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process, 60)
        body = json.dumps(
            {
                "jobName": "slow-upload",
                "algorithm": {"source": "builtin", "algorithmName": "xgboost"},
                "resources": {"instanceResources": {"cpuCores": 1, "memoryGiB": 1}},
            }
        ).encode()
        head = (
            f"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Request-ID: slow-1\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            # A slow client: headers and half the body, then the server is told to stop.
            conn.sendall(head + body[: len(body) // 2])
            time.sleep(0.3)
            signalled = time.monotonic()
            process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            conn.sendall(body[len(body) // 2 :])
            response = read_response(conn)
        assert response.startswith(b"HTTP/1.1 201"), response[:200]
        assert b'"slow-upload-' in response
        _, stderr = process.communicate(timeout=15)
        elapsed = time.monotonic() - signalled
        assert process.returncode == 0, stderr[-2000:]
        assert elapsed < 10
        lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
        requests = [line for line in lines if line.get("event") == "http.request"]
        assert any(
            line["status"] == 201 and line["request_id"] == "slow-1" and "duration_ms" in line
            for line in requests
        )
        assert "127.0.0.1:5443" not in stderr
    finally:
        kill_serve(process)


def test_serve_with_database_down_exits_4_without_traceback(tmp_path: Path) -> None:
    result = run_cli(
        "serve",
        "--allow-unauthenticated",
        "--database-url=postgresql://postgres:secret-pw@127.0.0.1:1/none",
        f"--port={free_port()}",
        "--log-format=json",
        env=clean_env(),
    )
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    assert "db.migration_failed" in result.stderr
    assert "secret-pw" not in result.stderr


def test_idle_keep_alive_connection_is_closed_after_the_timeout(sqlite_url: str) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            CLI,
            "serve",
            "--allow-unauthenticated",
            f"--database-url={sqlite_url}",
            f"--port={port}",
            "--http-host=127.0.0.1",
            "--http-keep-alive-seconds=1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process, 60)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(conn).startswith(b"HTTP/1.1 200")
            idle_since = time.monotonic()
            closed = conn.recv(1) == b""
            idle = time.monotonic() - idle_since
        assert closed
        assert 0.8 < idle < 3
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_two_workers_serve_one_port_and_one_of_them_runs_the_monitor(
    tmp_path: Path, postgres_url: str
) -> None:
    # Warnings only: the stderr pipe is read at the end.
    process, port = start_serve(tmp_path, postgres_url, "--workers=2", "--log-level=warning")
    try:
        base = f"http://127.0.0.1:{port}"
        # Three interpreters import the app one after another on a shared machine: be patient.
        wait_ready(base, process, 120)
        # Each request on a new connection: the kernel hands them to either worker. Both
        # answer, and exactly one of them leads (its monitor holds the advisory lock).
        leaders: set[bool] = set()
        deadline = time.monotonic() + 30
        while leaders != {True, False} and time.monotonic() < deadline:
            health = httpx.get(f"{base}/health", timeout=5).json()
            leaders.add(health["components"]["monitor"]["leader"])
            time.sleep(0.05)
        assert leaders == {True, False}
        assert _monitor_locks_held(postgres_url) == 1
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
        assert process.returncode == 0, stderr[-2000:]
        assert "Traceback" not in stderr
        assert _monitor_locks_held(postgres_url) == 0
    finally:
        kill_serve(process)


def _monitor_locks_held(database_url: str) -> int:
    """Holders of the monitor's advisory lock in this database."""
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        count = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND (classid::bigint << 32 | objid::bigint) = %s",
            (MONITOR_LOCK_KEY,),
        ).fetchone()
    assert count is not None
    return int(count[0])


def test_serve_without_authentication_configured_refuses_to_start_with_one_line(
    tmp_path: Path,
) -> None:
    result = run_cli(
        "serve", f"--database-url=sqlite+aiosqlite:///{tmp_path / 'x.db'}", env=clean_env()
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ml-platform: refusing to start: no API tokens or OIDC configured")
    assert "--allow-unauthenticated" in lines[0]
    assert not (tmp_path / "x.db").exists()  # refused before touching the database


def test_serve_with_a_tokens_file_asks_for_the_token_and_never_logs_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    token = "tok-" + "k" * 40
    tokens_file = tmp_path / "tokens.yaml"
    tokens_file.write_text(f"- name: ci\n  role: viewer\n  token: {token}\n")
    port = free_port()
    process = subprocess.Popen(
        [
            CLI,
            "serve",
            f"--database-url={sqlite_url}",
            f"--port={port}",
            "--http-host=127.0.0.1",
            "--log-format=json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**clean_env(), "ML_PLATFORM_AUTH__TOKENS_FILE": str(tokens_file)},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process, 60)
        jobs = f"{base}/api/v1/jobs"
        assert httpx.get(jobs).status_code == 401
        wrong = httpx.get(jobs, headers={"Authorization": "Bearer " + "x" * 40})
        assert wrong.status_code == 401
        assert httpx.get(jobs, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    assert token not in stdout + stderr
    assert "x" * 40 not in stdout + stderr
    assert '"caller": "ci"' in stdout + stderr


SERVE_WITHOUT_SIMULATOR = """
import asyncio, importlib, pkgutil, sys
import ml_platform
from ml_platform.app import create_app
from ml_platform.cli import build_parser
from ml_platform.config import Settings

for module in pkgutil.walk_packages(ml_platform.__path__, "ml_platform."):
    if not module.name.startswith("ml_platform.db.migrations"):  # Alembic scripts
        importlib.import_module(module.name)
build_parser().parse_args(["serve"])
app = create_app(Settings(database={"url": sys.argv[1]}, allow_unauthenticated=True))

async def start_and_stop():
    async with app.router.lifespan_context(app):
        pass

asyncio.run(start_and_stop())
print(sorted(name for name in sys.modules if name.split(".")[0] == "karmada_sim"))
"""


def test_serve_loads_nothing_from_the_simulator(tmp_path: Path) -> None:
    # The simulator is a development tool: the service, its CLI parser and every module of
    # ml_platform must run without it (the production image does not ship it).
    result = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_SIMULATOR, f"sqlite:///{tmp_path / 's.db'}"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_sim_command_has_its_own_flags() -> None:
    result = run_cli("sim", "--help", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert "--clusters" in result.stdout
    assert "ml-platform sim" in result.stdout
    assert "sim" in run_cli("--help", env=clean_env()).stdout
    bad = run_cli("sim", "--port=abc", env=clean_env())
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1, bad.stderr
