"""Service settings: one root model with nested groups, read from env vars and CLI flags.

Naming rule (the single source of truth for env var and flag names):
- a field with ``json_schema_extra={"legacy_name": "PORT"}`` is read from that exact env var and
  from the flag ``--port`` (the names the old deployment used);
- every other field ``<group>.<field>`` is read from ``ML_PLATFORM_<GROUP>__<FIELD>`` and from
  the flag ``--<group>-<field>``; top-level fields from ``ML_PLATFORM_<FIELD>`` / ``--<field>``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ml_platform.auth.settings import AuthSettings, OidcSettings
from ml_platform.db.url import normalize_database_url
from ml_platform.policy.settings import PolicySettings
from ml_platform.workloads.settings import WorkloadSettings

ENV_PREFIX = "ML_PLATFORM_"
# Pooled connections the leading monitor holds: its leader lock and the tick's transaction.
MONITOR_CONNECTIONS = 2
NESTED_DELIMITER = "__"
# Setting groups renamed since an earlier release (old name: new name); the old env names are
# still read, so an existing deployment keeps its values. The new names win when both are set.
RENAMED_GROUPS = {"submission": "retries"}


class Environment(StrEnum):
    """Where the service runs; dev relaxes production-only checks."""

    DEV = "dev"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    """How log lines are rendered."""

    JSON = "json"
    CONSOLE = "console"


class LogLevel(StrEnum):
    """Minimum level that is logged."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def _check_kubeconfig(value: Path | None) -> Path | None:
    """A kubeconfig path, when given, must point at a readable YAML mapping."""
    if value is None:
        return None
    try:
        text = value.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {value}: {exc.strerror or exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError(f"{value} is not valid YAML") from None
    if not isinstance(document, dict):
        raise ValueError(f"{value} is not a kubeconfig (expected a YAML mapping)")
    return value


class KarmadaSettings(BaseModel):
    """How to reach the Karmada control plane."""

    kubeconfig: Path | None = Field(
        default=None,
        description="Kubeconfig of the Karmada API server; must exist and be valid YAML.",
        json_schema_extra={"legacy_name": "KARMADA_KUBECONFIG"},
    )

    request_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Timeout of one call to the Karmada API server (connect and read).",
    )

    _check = field_validator("kubeconfig")(_check_kubeconfig)


def _check_database_url(value: str | None) -> str | None:
    """Reject URLs the service cannot use (the parsed form is rebuilt when connecting)."""
    normalize_database_url(value)
    return value


class DatabaseSettings(BaseModel):
    """Database connection and pool."""

    url: str | None = Field(
        default=None,
        description=(
            "Database URL (postgresql+psycopg://, postgres://, postgresql://, sqlite+aiosqlite://)"
            " or a libpq key=value string; empty means the SQLite file ./ml-platform.db."
        ),
        json_schema_extra={"legacy_name": "DATABASE_URL"},
    )
    pool_size: int = Field(default=10, ge=1, le=1000, description="Connections kept open.")
    max_overflow: int = Field(
        default=10,
        ge=0,
        le=10000,
        description="Extra connections opened under load. Keep replicas x (pool_size + "
        "max_overflow) below Postgres' max_connections minus its reserved connections.",
    )
    read_pool_size: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Postgres connections kept for the job list and single-job reads, besides "
        "pool_size + max_overflow (they bypass the ORM for speed).",
    )
    pool_recycle_seconds: int = Field(
        default=3600, ge=1, description="Connections older than this are replaced."
    )
    pool_timeout_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How long a request waits for a pooled connection before answering 503.",
    )
    connect_timeout_seconds: int = Field(
        default=2, ge=1, le=60, description="Timeout for opening a new database connection."
    )
    _check_url = field_validator("url")(_check_database_url)

    migrate_on_start: bool = Field(
        default=True, description="Run the Alembic migrations when `serve` starts."
    )


def _split_origins(value: Any) -> Any:
    """Accept a comma-separated string as well as a list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class HttpSettings(BaseModel):
    """HTTP server behaviour."""

    host: str = Field(default="0.0.0.0", description="Address to listen on.")
    port: int = Field(
        default=8080,
        ge=1,
        le=65535,
        description="TCP port to listen on.",
        json_schema_extra={"legacy_name": "PORT"},
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Origins allowed by CORS, comma-separated; '*' allows any. Empty: none in"
            " production, any in dev (so a local UI dev server works)."
        ),
    )
    request_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="Requests running longer are answered 504 (streaming endpoints exempt).",
    )
    max_concurrent_requests: int | None = Field(
        default=None,
        ge=1,
        le=100000,
        description="Most requests handled at once (probes and log streams not counted); "
        "empty: the database pool's size minus the connections the monitor holds.",
    )
    queue_timeout_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="How long a request over the concurrency limit waits for a turn before "
        "it is answered 503 with Retry-After.",
    )
    keep_alive_seconds: int = Field(
        default=60, ge=1, le=3600, description="Idle keep-alive connections are closed after."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Larger request bodies are answered 413."
    )
    max_log_streams: int = Field(
        default=100,
        ge=1,
        le=10000,
        description="Most driver-log streams (GET /jobs/{id}/logs/stream) at once, each counted "
        "until its thread and its connection to a member cluster are gone (for a member that has "
        "not answered yet, until its request times out). More are answered 503.",
    )

    ui_dir: Path | None = Field(
        default=None,
        description="The built web UI (index.html, assets/) served at '/'; `serve` and `dev`"
        " default to web/dist of the source checkout.",
    )

    _split = field_validator("cors_origins", mode="before")(_split_origins)


class LogSettings(BaseModel):
    """Logging output."""

    level: LogLevel = Field(default=LogLevel.INFO, description="Minimum level logged.")
    format: LogFormat | None = Field(
        default=None,
        description="json or console; default json in production, console in dev.",
    )


class MonitorSettings(BaseModel):
    """The periodic status monitor."""

    enabled: bool = Field(
        default=True,
        description="Run the status monitor in this process (tests and tools may turn it off).",
    )
    interval_seconds: float = Field(
        default=1.0, gt=0, le=300, description="Seconds between monitor ticks."
    )
    workload_missing_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        le=86400,
        description="A submitted job whose workload is absent from Karmada this long is Failed "
        "(WorkloadMissing).",
    )
    batch_size: int = Field(
        default=100,
        ge=1,
        le=10000,
        description="Most submissions, stops and deletions one tick works on.",
    )
    observed_refresh_seconds: float = Field(
        default=15.0,
        gt=0,
        le=3600,
        description="How often an unchanged job's observed_at is refreshed (spread over the "
        "ticks of this period).",
    )
    event_window_seconds: float = Field(
        default=0.02,
        ge=0,
        le=5,
        description="Between ticks, watch events of the jobs' workloads and bindings are "
        "written in batches gathered over this many seconds; 0 leaves status changes to the "
        "ticks.",
    )


class RetrySettings(BaseModel):
    """Retries of every Karmada step of a job (submit, stop, delete) that Karmada could not
    take: the backoff applies to all three; a submission alone is eventually given up."""

    max_attempts: int = Field(
        default=20, ge=1, le=10000, description="Attempts before a submission is given up."
    )
    max_age_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A job still unsubmitted this long after creation is given up (Failed).",
    )
    backoff_base_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="Delay after the first failed attempt."
    )
    backoff_cap_seconds: float = Field(
        default=60.0, gt=0, le=86400, description="Longest delay between two attempts."
    )


class Settings(BaseSettings):
    """Root settings of the service."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        extra="ignore",
        validate_default=True,
    )

    environment: Environment = Field(
        default=Environment.PRODUCTION, description="dev or production."
    )
    shutdown_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="On SIGTERM/SIGINT, in-flight work gets this long before the process exits.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="HTTP worker processes of `serve`; more than 1 needs Postgres. Each has its"
        " own database pool; one of them runs the monitor (the others stand by).",
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="Serve without authentication when no API token or OIDC is configured "
        "(every caller is an admin of every namespace). `serve` refuses to start without auth "
        "unless this is set; `dev` sets it.",
    )
    karmada: KarmadaSettings = Field(default_factory=KarmadaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    monitor: MonitorSettings = Field(default_factory=MonitorSettings)
    retries: RetrySettings = Field(default_factory=RetrySettings)
    workloads: WorkloadSettings = Field(default_factory=WorkloadSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)

    @property
    def log_format(self) -> LogFormat:
        """The effective log format (explicit setting, else by environment)."""
        if self.log.format is not None:
            return self.log.format
        return LogFormat.CONSOLE if self.environment is Environment.DEV else LogFormat.JSON

    @property
    def max_concurrent_requests(self) -> int:
        """The effective request concurrency limit: explicit, else what the pool can serve
        while the monitor holds its connections."""
        if self.http.max_concurrent_requests is not None:
            return self.http.max_concurrent_requests
        pool = self.database.pool_size + self.database.max_overflow
        return max(1, pool - MONITOR_CONNECTIONS)

    @property
    def cors_origins(self) -> list[str]:
        """The effective CORS origins (explicit setting, else any in dev, none in production)."""
        if self.http.cors_origins:
            return self.http.cors_origins
        return ["*"] if self.environment is Environment.DEV else []

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """CLI flags (init kwargs) win over legacy env names, which win over prefixed ones,
        which win over the prefixed names of renamed groups."""
        return (
            init_settings,
            LegacyEnvSource(settings_cls),
            env_settings,
            RenamedGroupEnvSource(settings_cls),
        )


@dataclass(frozen=True)
class SettingOption:
    """One leaf setting with its path in the model and its env var and CLI flag names."""

    path: tuple[str, ...]
    field: FieldInfo
    env: str
    flag: str

    @property
    def dest(self) -> str:
        """Attribute name used by argparse."""
        return "setting__" + "__".join(self.path)


def _legacy_name(field: FieldInfo) -> str | None:
    extra = field.json_schema_extra
    if isinstance(extra, dict):
        name = extra.get("legacy_name")
        if isinstance(name, str):
            return name
    return None


def iter_setting_options() -> Iterator[SettingOption]:
    """Every leaf setting with its env var and flag, derived from the model."""
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub_name, sub_field in annotation.model_fields.items():
                yield _option((name, sub_name), sub_field)
        else:
            yield _option((name,), field)


def _option(path: tuple[str, ...], field: FieldInfo) -> SettingOption:
    legacy = _legacy_name(field)
    if legacy is not None:
        return SettingOption(path, field, legacy, "--" + legacy.lower().replace("_", "-"))
    env = ENV_PREFIX + NESTED_DELIMITER.join(part.upper() for part in path)
    return SettingOption(path, field, env, "--" + "-".join(path).replace("_", "-"))


def option_for_location(loc: tuple[int | str, ...]) -> SettingOption | None:
    """The setting a pydantic error location points at, if any."""
    parts = tuple(str(part) for part in loc)
    for option in iter_setting_options():
        if parts[: len(option.path)] == option.path:
            return option
    return None


class LegacyEnvSource(PydanticBaseSettingsSource):
    """Reads the unprefixed env names of the old deployment (PORT, DATABASE_URL, ...)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: values are produced as a whole by __call__."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Nested dict of the legacy env vars that are set."""
        values: dict[str, Any] = {}
        for option in iter_setting_options():
            if _legacy_name(option.field) is None or option.env not in os.environ:
                continue
            raw = os.environ[option.env]
            if raw == "" and option.field.default is None:
                continue
            target = values
            for part in option.path[:-1]:
                target = target.setdefault(part, {})
            target[option.path[-1]] = raw
        return values


class RenamedGroupEnvSource(PydanticBaseSettingsSource):
    """Reads ``ML_PLATFORM_<OLD GROUP>__<FIELD>`` for the groups in ``RENAMED_GROUPS``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: values are produced as a whole by __call__."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Nested dict of the set env vars that use a group's old name."""
        values: dict[str, Any] = {}
        for option in iter_setting_options():
            old = next((o for o, new in RENAMED_GROUPS.items() if option.path[0] == new), None)
            if old is None:
                continue
            env = ENV_PREFIX + NESTED_DELIMITER.join((old.upper(), *option.path[1:])).upper()
            if env in os.environ:
                values.setdefault(option.path[0], {})[option.path[-1]] = os.environ[env]
        return values
