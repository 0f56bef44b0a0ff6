"""Injected faults (latency, error responses, dropped connections) and request counters."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from karmada_sim import errors

_SUPPORTED_CODES = (429, 500, 503)


@dataclass
class Faults:
    """What to break, for which paths. The default breaks nothing."""

    latency_seconds: float = 0.0
    error_rate: float = 0.0
    error_codes: tuple[int, ...] = (500, 503, 429)
    drop_rate: float = 0.0
    # Path prefixes the faults apply to; empty means every API path (never /sim/).
    paths: tuple[str, ...] = ()
    seed: int | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Faults:
        """Build from the control API's camelCase document; bad values are a 400."""
        try:
            faults = cls(
                latency_seconds=float(body.get("latencySeconds", 0.0)),
                error_rate=float(body.get("errorRate", 0.0)),
                error_codes=tuple(int(c) for c in body.get("errorCodes", (500, 503, 429))),
                drop_rate=float(body.get("dropRate", 0.0)),
                paths=tuple(str(p) for p in body.get("paths") or ()),
                seed=None if body.get("seed") is None else int(body["seed"]),
            )
        except (TypeError, ValueError) as exc:
            raise errors.bad_request(f"invalid faults document: {exc}") from exc
        for rate in (faults.error_rate, faults.drop_rate):
            if not 0.0 <= rate <= 1.0:
                raise errors.bad_request("errorRate and dropRate must be between 0 and 1")
        if faults.latency_seconds < 0:
            raise errors.bad_request("latencySeconds must not be negative")
        if not faults.error_codes or any(c not in _SUPPORTED_CODES for c in faults.error_codes):
            raise errors.bad_request(f"errorCodes must be a non-empty subset of {_SUPPORTED_CODES}")
        if faults.seed is not None:
            faults._rng.seed(faults.seed)
        return faults

    def to_json(self) -> dict[str, Any]:
        """The control API's view of the current faults."""
        return {
            "latencySeconds": self.latency_seconds,
            "errorRate": self.error_rate,
            "errorCodes": list(self.error_codes),
            "dropRate": self.drop_rate,
            "paths": list(self.paths),
            "seed": self.seed,
        }

    def applies_to(self, path: str) -> bool:
        """Whether a request path is subject to the faults."""
        if path.startswith("/sim/"):
            return False
        return not self.paths or any(path.startswith(p) for p in self.paths)

    def should_drop(self) -> bool:
        """Roll for a dropped connection."""
        return self.drop_rate > 0 and self._rng.random() < self.drop_rate

    def injected_error(self) -> errors.ApiError | None:
        """Roll for an error response; the error to answer with, or None."""
        if self.error_rate <= 0 or self._rng.random() >= self.error_rate:
            return None
        code = self._rng.choice(self.error_codes)
        if code == 429:
            return errors.too_many_requests(1)
        if code == 503:
            return errors.service_unavailable(
                "the server is currently unable to handle the request"
            )
        return errors.internal_error("injected fault")


@dataclass
class RequestStats:
    """Counts of the requests the API server answered, by verb and resource."""

    total: int = 0
    by_request: Counter[str] = field(default_factory=Counter)
    by_verb: Counter[str] = field(default_factory=Counter)
    injected_errors: int = 0
    dropped_connections: int = 0

    def record(self, verb: str, target: str) -> None:
        """Count one request, e.g. `("list", "rayjobs.ray.io")`."""
        self.total += 1
        self.by_verb[verb] += 1
        self.by_request[f"{verb} {target}"] += 1

    def reset(self) -> None:
        """Start counting from zero."""
        self.total = 0
        self.by_request.clear()
        self.by_verb.clear()
        self.injected_errors = 0
        self.dropped_connections = 0

    def to_json(self) -> dict[str, Any]:
        """The control API's view of the counters."""
        return {
            "total": self.total,
            "byVerb": dict(sorted(self.by_verb.items())),
            "byRequest": dict(sorted(self.by_request.items())),
            "injectedErrors": self.injected_errors,
            "droppedConnections": self.dropped_connections,
        }
