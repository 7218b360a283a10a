"""Secrets as files: Kubernetes mounts the database URL and the Kafka password into
`TASKFORCE_SECRETS_DIR`, one file per setting, instead of putting them in the environment."""

from pathlib import Path

import pytest

from services.catalog.settings import CatalogSettings


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("TASKFORCE_DATABASE_URL", "TASKFORCE_KAFKA_SASL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TASKFORCE_SECRETS_DIR", str(tmp_path))
    return tmp_path


def test_settings_come_from_files_named_like_their_variables(secrets: Path) -> None:
    (secrets / "taskforce_database_url").write_text("postgresql://app:s3cret@db-rw:5432/app")
    (secrets / "taskforce_kafka_sasl_password").write_text("kafka-pass")
    settings = CatalogSettings()
    assert settings.database_url == "postgresql://app:s3cret@db-rw:5432/app"
    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == "kafka-pass"


def test_a_variable_wins_over_a_file(secrets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (secrets / "taskforce_database_url").write_text("postgresql://from-file/app")
    monkeypatch.setenv("TASKFORCE_DATABASE_URL", "postgresql://from-env/app")
    assert CatalogSettings().database_url == "postgresql://from-env/app"


def test_without_files_the_defaults_stand(secrets: Path) -> None:
    assert CatalogSettings().database_url == "sqlite+aiosqlite:///var/catalog.db"


def test_a_missing_secrets_folder_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TASKFORCE_SECRETS_DIR", str(tmp_path / "not-mounted"))
    with pytest.raises(ValueError, match=r"TASKFORCE_SECRETS_DIR=.*not-mounted is not a folder"):
        CatalogSettings()
