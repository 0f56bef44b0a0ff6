"""WorkloadSettings nested in a pydantic-settings root, as the service's config nests it."""

from __future__ import annotations

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ml_platform.workloads import WorkloadSettings


class Root(BaseSettings):
    """Stand-in for the service's Settings root (same prefix and nesting delimiter)."""

    model_config = SettingsConfigDict(env_prefix="ML_PLATFORM_", env_nested_delimiter="__")

    workloads: WorkloadSettings = Field(default_factory=WorkloadSettings)


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ML_PLATFORM_WORKLOADS__RAY_IMAGE", raising=False)

    assert Root().workloads == WorkloadSettings()


def test_every_group_field_is_settable_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ML_PLATFORM_WORKLOADS__RAY_IMAGE", "registry.local/ray:2.46.0")
    monkeypatch.setenv(
        "ML_PLATFORM_WORKLOADS__DEFAULT_ENTRYPOINTS", '{"xgboost": "python /opt/train.py"}'
    )
    monkeypatch.setenv("ML_PLATFORM_WORKLOADS__VOLUME_ACCESS_MODES", '["ReadWriteOnce"]')
    monkeypatch.setenv("ML_PLATFORM_WORKLOADS__S3_SECRET_OPTIONAL", "false")
    monkeypatch.setenv("ML_PLATFORM_WORKLOADS__WORKLOAD_TTL_SECONDS_AFTER_FINISHED", "600")

    workloads = Root().workloads

    assert workloads.ray_image == "registry.local/ray:2.46.0"
    assert workloads.default_entrypoints == {"xgboost": "python /opt/train.py"}
    assert workloads.volume_access_modes == ("ReadWriteOnce",)
    assert workloads.s3_secret_optional is False
    assert workloads.workload_ttl_seconds_after_finished == 600


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ML_PLATFORM_WORKLOADS__IMAGE_PULL_POLICY", "Sometimes")

    with pytest.raises(ValueError, match="image_pull_policy"):
        Root()


def test_settings_are_frozen_and_reject_unknown_fields() -> None:
    settings = WorkloadSettings()

    with pytest.raises(ValueError, match="frozen"):
        settings.ray_image = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="extra"):
        WorkloadSettings(ray_imag="typo")  # type: ignore[call-arg]


def test_every_setting_is_described() -> None:
    for name, field in WorkloadSettings.model_fields.items():
        assert field.description, name
