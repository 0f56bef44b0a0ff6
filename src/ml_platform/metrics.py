"""Prometheus metrics of one app instance (own registry, so several apps can coexist)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Buckets sized for an API whose reads should stay far below 20 ms.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15)
# A monitor tick should stay under 250 ms at 10,000 jobs; the upper buckets show overruns.
_TICK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
_CALL_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500)


@dataclass
class Metrics:
    """The app's collectors."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "ml_platform_http_requests_total",
            "HTTP requests by route template, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "ml_platform_http_request_duration_seconds",
            "HTTP request latency by route template, method and status.",
            ("route", "method", "status"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jobs = Gauge(
            "ml_platform_jobs", "Stored jobs by status.", ("status",), registry=self.registry
        )

        self.tick_seconds = Histogram(
            "ml_platform_monitor_tick_seconds",
            "Duration of one monitor tick (leader only).",
            buckets=_TICK_BUCKETS,
            registry=self.registry,
        )
        self.api_calls = Histogram(
            "ml_platform_monitor_api_calls",
            "Karmada API calls made by one monitor tick.",
            buckets=_CALL_BUCKETS,
            registry=self.registry,
        )
        self.karmada_retries = Counter(
            "ml_platform_karmada_retries_total",
            "Karmada steps (submit, stop, delete) deferred to a later attempt.",
            registry=self.registry,
        )
        self.submission_failures = Counter(
            "ml_platform_submission_failures_total",
            "Submissions that ended Failed (rejected or given up).",
            registry=self.registry,
        )
        self.leader = Gauge(
            "ml_platform_monitor_leader",
            "1 while this replica's monitor leads, else 0.",
            registry=self.registry,
        )

    def observe_request(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        labels = (route, method, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def set_job_counts(self, counts: dict[str, int]) -> None:
        """Replace the jobs-by-status gauge with fresh counts."""
        self.jobs.clear()
        for status, count in counts.items():
            self.jobs.labels(status).set(count)
