"""Container log lines of simulated pods, produced over simulated time.

A pod keeps one small `LogScript` per container; lines are generated only when someone reads
them, so 10,000 idle jobs cost no log memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

LogLine = tuple[datetime, str]

# Bound the lines one container can produce however long it runs.
_MAX_TRAINING_LINES = 500


@dataclass
class LogScript:
    """What one container prints: a preamble, periodic training lines, then an ending."""

    role: str
    """`ray-driver`, `ray-head`, `ray-worker`, `trainer` or `sidecar`."""
    title: str
    """Names the job in the lines (a Ray job id, a PyTorchJob name, ...)."""
    started: float
    """Container start (epoch seconds)."""
    run_start: float
    """Training start (epoch seconds)."""
    end: float | None
    """Planned end; None for containers that run until stopped (a Ray head)."""
    succeed: bool = True
    interval: float = 1.0
    stopped: float | None = None
    """When the container was killed before its planned end."""
    extra: dict[str, str] = field(default_factory=dict)

    def lines(self, now: float) -> list[LogLine]:
        """Every line printed up to `now`, oldest first."""
        killed = self.stopped is not None and (self.end is None or self.stopped < self.end)
        # A container that ran to its planned end prints its ending; a killed one stops short.
        cutoff = min(now, self.stopped) if killed and self.stopped is not None else now
        return [line for line in self._script() if line[0].timestamp() <= cutoff]

    def _script(self) -> list[LogLine]:
        lines = [(self.started + i * 0.001, text) for i, text in enumerate(self._preamble())]
        if self.role in ("ray-driver", "trainer"):
            lines.extend(self._training())
            if self.end is not None:
                lines.extend((self.end + i * 0.001, text) for i, text in enumerate(self._ending()))
        return [(datetime.fromtimestamp(t, tz=UTC), text) for t, text in lines]

    def _preamble(self) -> list[str]:
        if self.role == "ray-head":
            return [
                "Usage stats collection is disabled.",
                "Local node IP: " + self.extra.get("ip", "10.64.0.2"),
                "--------------------",
                "Ray runtime started.",
                "--------------------",
                "Next steps",
                "  To add another node to this Ray cluster, run",
                "    ray start --address='" + self.extra.get("ip", "10.64.0.2") + ":6379'",
                "  To connect to this Ray cluster:",
                "    import ray",
                "    ray.init()",
            ]
        if self.role == "ray-worker":
            return ["Local node IP: " + self.extra.get("ip", "10.64.0.3"), "Ray runtime started."]
        if self.role == "ray-driver":
            address = self.extra.get("dashboard", "127.0.0.1:8265")
            return [
                f"Job submission server address: http://{address}",
                "-------------------------------------------------------",
                f"Job '{self.title}' submitted successfully",
                "-------------------------------------------------------",
                "Next steps",
                "  Query the logs of the job:",
                f"    ray job logs {self.title}",
                "Tailing logs until the job exits (disable with --no-wait):",
            ]
        if self.role == "sidecar":
            return [f"sidecar for {self.title} started"]
        return [f"Starting training job {self.title}", "Loading dataset and building the model"]

    def _training(self) -> list[tuple[float, str]]:
        horizon = self.end if self.end is not None else self.run_start
        span = max(horizon - self.run_start, 0.0)
        if span <= 0:
            return []
        step = max(self.interval, span / _MAX_TRAINING_LINES)
        count = max(int(span // step), 1)
        result = []
        for i in range(count):
            progress = (i + 1) / count
            loss = 0.05 + 2.0 * math.exp(-3.0 * progress)
            accuracy = 0.5 + 0.45 * (1 - math.exp(-3.0 * progress))
            result.append(
                (
                    self.run_start + i * step,
                    f"epoch={i // 10 + 1} step={(i + 1) * 100} loss={loss:.4f} "
                    f"accuracy={accuracy:.4f} throughput={1200 + (i * 37) % 300}.0 samples/s",
                )
            )
        return result

    def _ending(self) -> list[str]:
        if self.role == "ray-driver":
            rule = "------------------------------------------"
            if self.succeed:
                return [rule, f"Job '{self.title}' succeeded", rule]
            return [
                *_traceback(),
                rule,
                f"Job '{self.title}' failed",
                rule,
                "Status message: Job entrypoint command failed with exit code 1",
            ]
        if self.succeed:
            return ["Training finished; model saved", f"{self.title}: SUCCEEDED"]
        return [*_traceback(), f"{self.title}: FAILED"]


def _traceback() -> list[str]:
    return [
        "Traceback (most recent call last):",
        '  File "/app/train.py", line 42, in <module>',
        "    main()",
        '  File "/app/train.py", line 37, in main',
        "    raise RuntimeError(msg)",
        "RuntimeError: simulated failure (sim.ml-platform.io/outcome=fail)",
    ]


class LogBook:
    """The log scripts of every pod in one member cluster."""

    def __init__(self) -> None:
        self._pods: dict[tuple[str, str], dict[str, LogScript]] = {}

    def add(self, namespace: str, pod: str, scripts: dict[str, LogScript]) -> None:
        """Register the containers of a new pod."""
        self._pods[(namespace, pod)] = scripts

    def stop(self, namespace: str, pod: str, at: float) -> None:
        """Containers of `pod` stop printing at `at` (killed, suspended, deadline)."""
        for script in self._pods.get((namespace, pod), {}).values():
            if script.stopped is None:
                script.stopped = at

    def remove(self, namespace: str, pod: str) -> None:
        """Forget a deleted pod's logs."""
        self._pods.pop((namespace, pod), None)

    def containers(self, namespace: str, pod: str) -> dict[str, LogScript] | None:
        """The scripts of `pod` by container name, or None for an unknown pod."""
        return self._pods.get((namespace, pod))
