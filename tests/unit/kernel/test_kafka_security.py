"""The aiokafka clients' security arguments: none by default, SCRAM over TLS for a Strimzi
KafkaUser, and settings that refuse to start without the credentials."""

import ssl
from pathlib import Path

import certifi
import pytest
from pydantic import ValidationError

from services.kernel.kafka import client_security
from services.kernel.settings import KernelSettings

SCRAM_OVER_TLS = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_username": "catalog",
    "kafka_sasl_password": "s3cret-from-the-kafkauser",
    "kafka_ssl_cafile": Path(certifi.where()),
}


def test_the_plain_default_adds_no_arguments() -> None:
    assert client_security(KernelSettings()) == {}


def test_scram_over_tls_gives_the_mechanism_the_credentials_and_a_tls_context() -> None:
    security = client_security(KernelSettings(**SCRAM_OVER_TLS))

    context = security.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert security == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "catalog",
        "sasl_plain_password": "s3cret-from-the-kafkauser",
    }


def test_tls_without_sasl_sends_no_credentials() -> None:
    security = client_security(KernelSettings(kafka_security_protocol="SSL"))

    assert security.keys() == {"security_protocol", "ssl_context"}


def test_sasl_without_tls_has_no_tls_context() -> None:
    settings = KernelSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="catalog",
        kafka_sasl_password="pw",
    )

    assert client_security(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "catalog",
        "sasl_plain_password": "pw",
    }


@pytest.mark.parametrize(
    "missing",
    [{"kafka_sasl_username": None}, {"kafka_sasl_password": None}, {"kafka_sasl_password": ""}],
)
def test_sasl_without_username_or_password_is_refused_at_start_up(missing: dict) -> None:
    with pytest.raises(ValidationError, match="needs TASKFORCE_KAFKA_SASL_USERNAME and"):
        KernelSettings(**(SCRAM_OVER_TLS | missing))


def test_a_missing_ca_file_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"TASKFORCE_KAFKA_SSL_CAFILE=.* is not a file"):
        KernelSettings(**(SCRAM_OVER_TLS | {"kafka_ssl_cafile": tmp_path / "absent.crt"}))


def test_the_settings_read_the_credentials_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TASKFORCE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("TASKFORCE_KAFKA_SASL_USERNAME", "catalog")
    monkeypatch.setenv("TASKFORCE_KAFKA_SASL_PASSWORD", "from-the-secret")
    monkeypatch.setenv("TASKFORCE_KAFKA_SSL_CAFILE", certifi.where())

    settings = KernelSettings()

    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == "from-the-secret"
    assert settings.kafka_ssl_cafile == Path(certifi.where())


def test_the_password_never_shows_in_the_settings_repr_or_dump() -> None:
    settings = KernelSettings(**SCRAM_OVER_TLS)

    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert "s3cret-from-the-kafkauser" not in shown


def test_a_refused_configuration_does_not_echo_the_password() -> None:
    with pytest.raises(ValidationError) as refused:
        KernelSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_password="Zq9-pw")

    assert "Zq9-pw" not in str(refused.value)
