"""`python -m karmada_sim` as its own process, and the server handle's lifecycle."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from api_backend import BareBackend
from api_helpers import api_client
from kubernetes import client, watch

from karmada_sim.server import SimulatorServer


def test_process_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kube" / "config"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "karmada_sim",
            "--port",
            "0",
            "--clusters",
            "gpu-a@eu-west/a,gpu-b",
            "--kubeconfig-out",
            str(kubeconfig),
            "--running-seconds",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not kubeconfig.exists() and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)
        config = yaml.safe_load(kubeconfig.read_text())
        assert config["current-context"] == "karmada-apiserver"
        assert [c["name"] for c in config["contexts"]] == ["karmada-apiserver", "gpu-a", "gpu-b"]
        url = config["clusters"][0]["cluster"]["server"]
        with api_client(url) as api:
            clusters = client.CustomObjectsApi(api).list_cluster_custom_object(
                "cluster.karmada.io", "v1alpha1", "clusters"
            )["items"]
        assert [c["metadata"]["name"] for c in clusters] == ["gpu-a", "gpu-b"]
        assert clusters[0]["spec"]["region"] == "eu-west"
        assert clusters[0]["spec"]["zones"] == ["a"]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    assert code == 0


def test_bad_cluster_list_exits_with_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "karmada_sim", "--port", "0", "--clusters", "Bad_Name"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid cluster name" in done.stderr


def test_advertise_url_goes_into_the_kubeconfig(tmp_path: Path) -> None:
    with SimulatorServer(BareBackend()) as server:
        path = server.write_kubeconfig(tmp_path / "c", server_url="http://sim.internal:5443")
    config = yaml.safe_load(path.read_text())
    servers = [c["cluster"]["server"] for c in config["clusters"]]
    assert servers == [
        "http://sim.internal:5443",
        "http://sim.internal:5443/apis/cluster.karmada.io/v1alpha1/clusters/member1/proxy",
        "http://sim.internal:5443/apis/cluster.karmada.io/v1alpha1/clusters/member2/proxy",
    ]


def test_stop_ends_open_watches_and_frees_the_port() -> None:
    server = SimulatorServer(BareBackend()).start()
    url = server.url
    ended = threading.Event()

    def hold_a_watch() -> None:
        with api_client(url) as api:
            crd = client.CustomObjectsApi(api)
            try:
                for _ in watch.Watch().stream(
                    crd.list_cluster_custom_object, "ray.io", "v1", "rayjobs", timeout_seconds=60
                ):
                    pass
            except Exception:  # the connection is cut by the shutdown; that is the point
                pass
        ended.set()

    watcher = threading.Thread(target=hold_a_watch, daemon=True)
    watcher.start()
    time.sleep(0.3)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 10
    assert ended.wait(10)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/version", timeout=2)
    with pytest.raises(RuntimeError):
        server.call(lambda: None)


def test_call_runs_on_the_loop_and_reraises() -> None:
    with SimulatorServer(BareBackend()) as server:
        assert server.call(lambda: threading.current_thread().name).startswith("sim-api-")

        def boom() -> None:
            raise ValueError("from the loop")

        with pytest.raises(ValueError, match="from the loop"):
            server.call(boom)
