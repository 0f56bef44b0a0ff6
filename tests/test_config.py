"""Settings: env names, CLI flags derived from the model, validation of kubeconfig paths."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from pydantic import ValidationError

from ml_platform.cli import build_parser, load_settings
from ml_platform.config import Environment, LogFormat, Settings, iter_setting_options
from tests_support import KUBECONFIG


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for option in iter_setting_options():
        monkeypatch.delenv(option.env, raising=False)


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *argv])


def test_defaults() -> None:
    settings = Settings()
    assert settings.http.port == 8080
    assert settings.http.request_timeout_seconds == 15
    assert settings.http.keep_alive_seconds == 60
    assert settings.database.url is None
    assert settings.database.pool_size == 10
    # 20 connections a replica: four replicas stay under Postgres' default max_connections.
    assert settings.database.max_overflow == 10
    assert settings.database.pool_recycle_seconds == 3600
    # Requests beyond what the pool serves (the monitor holds two) queue, then get a 503.
    assert settings.max_concurrent_requests == 18
    assert settings.http.queue_timeout_seconds == 2
    assert settings.monitor.interval_seconds == 1
    assert settings.shutdown_timeout_seconds == 10
    assert settings.environment is Environment.PRODUCTION
    assert settings.log_format is LogFormat.JSON


def test_request_limit_follows_the_pool_unless_given() -> None:
    small = Settings(database={"pool_size": 2, "max_overflow": 0})
    assert small.max_concurrent_requests == 1  # never zero
    given = Settings(database={"pool_size": 2}, http={"max_concurrent_requests": 50})
    assert given.max_concurrent_requests == 50


def test_old_deployment_env_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "karmada-kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    monkeypatch.setenv("KARMADA_KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("DATABASE_URL", "host=postgres user=u password=p dbname=training_jobs")
    monkeypatch.setenv("PORT", "9090")
    settings = Settings()
    assert settings.karmada.kubeconfig == kubeconfig
    assert settings.database.url is not None
    assert settings.http.port == 9090


def test_prefixed_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ML_PLATFORM_ENVIRONMENT", "dev")
    monkeypatch.setenv("ML_PLATFORM_DATABASE__POOL_SIZE", "5")
    monkeypatch.setenv("ML_PLATFORM_HTTP__CORS_ORIGINS", "http://a.example, http://b.example")
    monkeypatch.setenv("ML_PLATFORM_LOG__FORMAT", "json")
    settings = Settings()
    assert settings.environment is Environment.DEV
    assert settings.database.pool_size == 5
    assert settings.http.cors_origins == ["http://a.example", "http://b.example"]
    assert settings.log_format is LogFormat.JSON


def test_every_setting_has_a_flag_an_env_name_and_a_description() -> None:
    options = list(iter_setting_options())
    flags = [option.flag for option in options]
    envs = [option.env for option in options]
    assert len(set(flags)) == len(flags)
    assert len(set(envs)) == len(envs)
    assert all(option.field.description for option in options)
    for flag in (
        "--karmada-kubeconfig",
        "--database-url",
        "--port",
        "--http-host",
        "--log-level",
        "--log-format",
        "--http-cors-origins",
        "--database-pool-size",
        "--database-max-overflow",
        "--monitor-interval-seconds",
        "--shutdown-timeout-seconds",
    ):
        assert flag in flags, flag


def test_flags_override_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(KUBECONFIG)
    monkeypatch.setenv("PORT", "9090")
    monkeypatch.setenv("ML_PLATFORM_DATABASE__POOL_SIZE", "5")
    settings = load_settings(
        parse(
            "--port=7070",
            f"--karmada-kubeconfig={kubeconfig}",
            "--database-pool-size",
            "7",
            "--log-format=console",
        )
    )
    assert settings.http.port == 7070
    assert settings.database.pool_size == 7
    assert settings.karmada.kubeconfig == kubeconfig
    assert settings.log_format is LogFormat.CONSOLE


def test_dev_command_defaults_to_dev_environment() -> None:
    namespace = build_parser().parse_args(["dev"])
    settings = load_settings(namespace, dev=True)
    assert settings.environment is Environment.DEV
    assert settings.log_format is LogFormat.CONSOLE
    assert settings.allow_unauthenticated is True


def test_serve_allows_unauthenticated_only_when_told() -> None:
    assert load_settings(build_parser().parse_args(["serve"])).allow_unauthenticated is False
    for flag in (["--allow-unauthenticated"], ["--allow-unauthenticated=true"]):
        settings = load_settings(build_parser().parse_args(["serve", *flag]))
        assert settings.allow_unauthenticated is True


def test_policy_refuses_the_clusters_own_namespaces() -> None:
    with pytest.raises(ValidationError, match="never run in kube-system, karmada-system"):
        Settings(policy={"namespaces": "team-a,kube-system,karmada-system"})
    assert Settings(policy={"namespaces": '["team-a", "*"]'}).policy.namespaces == ["team-a", "*"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--port=abc"], "--port / PORT"),
        (["--port=0"], "--port / PORT"),
        (["--karmada-kubeconfig=/nonexistent/kubeconfig"], "--karmada-kubeconfig"),
        (["--database-url=mysql://x/y"], "--database-url / DATABASE_URL"),
        (["--log-format=xml"], "--log-format"),
        (["--environment=staging"], "--environment"),
    ],
)
def test_invalid_setting_exits_2_naming_it(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        load_settings(parse(*argv))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert named in err


def test_kubeconfig_that_is_not_yaml_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "kc"
    broken.write_text("clusters: [unclosed\n")
    with pytest.raises(SystemExit) as exited:
        load_settings(parse(f"--karmada-kubeconfig={broken}"))
    assert exited.value.code == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_cors_defaults_by_environment() -> None:
    assert Settings().cors_origins == []
    assert Settings(environment="dev").cors_origins == ["*"]
    explicit = Settings(environment="dev", http={"cors_origins": "http://ui.example"})
    assert explicit.cors_origins == ["http://ui.example"]


def test_retries_group_still_reads_its_old_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ML_PLATFORM_SUBMISSION__MAX_ATTEMPTS", "7")
    monkeypatch.setenv("ML_PLATFORM_SUBMISSION__BACKOFF_CAP_SECONDS", "30")
    monkeypatch.setenv("ML_PLATFORM_RETRIES__BACKOFF_CAP_SECONDS", "45")
    settings = Settings()
    assert settings.retries.max_attempts == 7
    assert settings.retries.backoff_cap_seconds == 45  # the new name wins


def test_the_management_cluster_kubeconfig_is_no_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dropped: nothing used it. An old deployment's MGMT_KUBECONFIG is ignored.
    monkeypatch.setenv("MGMT_KUBECONFIG", "/nonexistent")
    assert "mgmt_kubeconfig" not in Settings().karmada.model_dump()
    assert "--mgmt-kubeconfig" not in [option.flag for option in iter_setting_options()]
