"""`ml-platform sim`: run the Karmada simulator as its own process."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import structlog

from karmada_sim import versions
from karmada_sim.members import ClusterSpec
from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import Simulator
from karmada_sim.watchcache import WatchCacheSettings
from karmada_sim.workloads.common import Timings

log = structlog.get_logger()

# Karmada's own apiserver listens on 5443; 6443 is left free for a local kind/k3s cluster.
DEFAULT_PORT = 5443
DEFAULT_CLUSTERS = "member1,member2"
# With 10,000 jobs the stores hold ~2 million containers and a full collection stalls the
# event loop for seconds. Stored objects are acyclic JSON freed by reference counting, so
# freezing survivors now and then keeps full collections short at no real cost.
DEFAULT_GC_FREEZE_SECONDS = 30.0


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the `sim` flags to a parser (the main CLI registers this as a subcommand)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = free)"
    )
    parser.add_argument(
        "--clusters",
        default=DEFAULT_CLUSTERS,
        help="comma-separated member clusters, each `name[@region[/zone]]`, "
        "e.g. `member1@eu-west/a,member2@us-east/b`",
    )
    parser.add_argument(
        "--kubeconfig-out", type=Path, help="write a kubeconfig for the simulator to this path"
    )
    parser.add_argument(
        "--advertise-url",
        help="server URL written into the kubeconfig (e.g. for containers); default: listen URL",
    )
    parser.add_argument(
        "--namespaces",
        default="",
        help="comma-separated namespaces to create at start on Karmada and every member "
        "(creating into any other namespace answers 404, as on a real cluster)",
    )
    parser.add_argument(
        "--watch-lag-ms",
        type=float,
        default=WatchCacheSettings.lag_seconds * 1000,
        help="how far watch events trail the writes, in milliseconds "
        f"(default {WatchCacheSettings.lag_seconds * 1000:g})",
    )
    parser.add_argument(
        "--watch-jitter-ms",
        type=float,
        default=0.0,
        help="random extra watch delay of up to this many milliseconds (default 0)",
    )
    parser.add_argument(
        "--watch-window-seconds",
        type=float,
        default=WatchCacheSettings.window_seconds,
        help="how long the watch cache keeps events; resuming an older watch is 410 Gone "
        f"(default {WatchCacheSettings.window_seconds:g})",
    )
    parser.add_argument(
        "--karmada-version",
        default=versions.CURRENT,
        help="Karmada release to behave as; from 1.16 RayJob, PyTorchJob and TFJob take "
        "their dependencies along and every training kind gets status written back "
        f"(default {versions.CURRENT})",
    )
    parser.add_argument(
        "--failover",
        action="store_true",
        help="enable Karmada's Failover feature gate: a NotReady cluster gets a NoExecute "
        "taint and its workloads move to another cluster (off by default, as in Karmada)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        help="keep the Karmada control plane's objects and every resourceVersion counter in "
        "this file across restarts (written atomically every few seconds and at shutdown)",
    )
    parser.add_argument("--seed", type=int, help="seed for simulated randomness")
    parser.add_argument(
        "--gc-freeze-seconds",
        type=float,
        default=DEFAULT_GC_FREEZE_SECONDS,
        help="move surviving objects out of the garbage collector's reach this often "
        f"(default {DEFAULT_GC_FREEZE_SECONDS}; 0 disables)",
    )
    for spec in dataclasses.fields(Timings):
        default = spec.default
        parser.add_argument(
            "--" + spec.name.replace("_", "-"),
            type=float,
            default=default,
            help=f"simulated seconds (default {default})",
        )


def parse_clusters(text: str) -> list[ClusterSpec]:
    """Parse `--clusters`; a bad entry is an argparse-style error."""
    entries = [part for part in text.split(",") if part.strip()]
    if not entries:
        raise argparse.ArgumentTypeError("--clusters needs at least one cluster")
    try:
        return [ClusterSpec.parse(entry) for entry in entries]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def build_simulator(args: argparse.Namespace) -> Simulator:
    """The Simulator the flags describe."""
    timings = Timings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Timings)})
    watch_cache = WatchCacheSettings(
        lag_seconds=args.watch_lag_ms / 1000,
        jitter_seconds=args.watch_jitter_ms / 1000,
        window_seconds=args.watch_window_seconds,
    )
    return Simulator(
        parse_clusters(args.clusters),
        timings=timings,
        seed=args.seed,
        watch_cache=watch_cache,
        namespaces=[n.strip() for n in args.namespaces.split(",") if n.strip()],
        karmada_version=args.karmada_version,
        failover=args.failover,
        state_file=args.state_file,
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit code."""
    try:
        simulator = build_simulator(args)
        server = SimulatorServer(simulator, host=args.host, port=args.port).start()
    except (argparse.ArgumentTypeError, ValueError, OSError, RuntimeError) as exc:
        print(f"ml-platform sim: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if args.kubeconfig_out is not None:
            path = server.write_kubeconfig(args.kubeconfig_out, server_url=args.advertise_url)
            log.info("sim.kubeconfig.written", path=str(path))
        log.info("sim.ready", url=server.url, clusters=sorted(simulator.members))
        print(f"ml-platform simulator listening on {server.url}", flush=True)
        interval = args.gc_freeze_seconds if args.gc_freeze_seconds > 0 else None
        while not stop.wait(interval):
            gc.freeze()
    finally:
        server.stop()
    return 0
