"""Settings every service shares, read from `TASKFORCE_*` environment variables and, for
secrets, from files in `TASKFORCE_SECRETS_DIR` (one file per setting, named like the variable:
`taskforce_database_url`), so that Kubernetes can mount them instead of exposing them in the
environment. A variable wins over a file of the same name.

Each service subclasses `KernelSettings` with its own defaults (name, port, database file);
nothing here reads the environment at import time.
"""

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)

SECRETS_DIR_VARIABLE = "TASKFORCE_SECRETS_DIR"


class KernelSettings(BaseSettings):
    # Errors name the setting but never echo the values: some are secrets.
    model_config = SettingsConfigDict(
        env_prefix="TASKFORCE_", extra="ignore", hide_input_in_errors=True
    )

    service_name: str = "kernel"
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = "sqlite+aiosqlite:///var/kernel.db"
    # Embedded mode applies migrations at start-up; production runs `python -m services.X migrate`.
    migrate_on_start: bool = True
    # Embedded mode runs the outbox relay and the consumers inside the API process;
    # production runs them in a separate worker Deployment (`python -m services.X worker`).
    run_worker_in_api: bool = True
    # `worker` and `consume` serve /healthz, /readyz and /metrics on this port; 0: no HTTP.
    worker_http_port: int = 0

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # On for Apache Kafka; off for the embedded broker, which has no idempotent producer.
    kafka_idempotence: bool = False
    kafka_partitions: int = 3
    kafka_replication_factor: int = 1
    kafka_fetch_max_wait_ms: int = 20
    kafka_session_timeout_ms: int = 6000
    kafka_heartbeat_interval_ms: int = 1000
    kafka_metadata_max_age_ms: int = 3000
    kafka_request_timeout_ms: int = 10000
    # Plain for the embedded broker; a Strimzi KafkaUser is SASL_SSL with SCRAM-SHA-512, and
    # the cluster CA certificate in `kafka_ssl_cafile` (the system CAs when unset).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    consumer_max_attempts: int = 5
    consumer_retry_backoff_s: float = 0.2
    relay_batch_size: int = 200
    relay_poll_interval_s: float = 1.0
    relay_max_backoff_s: float = 5.0
    # How often the worker measures the outbox backlog for /metrics.
    outbox_metrics_interval_s: float = 15.0
    broker_check_interval_s: float = 2.0

    auth_mode: Literal["local", "oidc"] = "local"
    auth_local_key_file: Path = Path("var/dev-signing.key")
    auth_issuer: str = "taskforce-local"
    auth_audience: str = "taskforce"
    auth_jwks_url: str | None = None
    auth_leeway_s: int = 30
    # Where the roles are in the token: a claim name, or a dotted path (`realm_access.roles`).
    auth_roles_claim: str = "roles"
    # The issuer's key set is kept this long; a token naming an unknown key id refetches it,
    # but never sooner than `auth_jwks_refetch_min_s` after the last fetch.
    auth_jwks_cache_s: float = 300
    auth_jwks_refetch_min_s: float = 30
    auth_jwks_timeout_s: float = 5

    # Largest request body a route accepts unless its service raises it for that route.
    max_body_bytes: int = 1024 * 1024

    log_level: str = "INFO"
    log_json: bool = True
    # Fault injection for end-to-end tests: the process SIGKILLs itself at this named point.
    crash_at: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Read when the settings are made, not at import. A named folder that is missing is
        # an error, so a pod without its secrets mount fails at start-up, not at first use.
        secrets_dir = os.environ.get(SECRETS_DIR_VARIABLE)
        if not secrets_dir:
            return init_settings, env_settings, dotenv_settings
        if not Path(secrets_dir).is_dir():
            raise ValueError(f"{SECRETS_DIR_VARIABLE}={secrets_dir} is not a folder")
        files = SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir)
        return init_settings, env_settings, dotenv_settings, files

    @model_validator(mode="after")
    def _kafka_security_complete(self) -> Self:
        # Checked here so that a pod missing its KafkaUser secret or the cluster CA fails at
        # start-up with this message, not later in a connection retry loop.
        protocol = self.kafka_security_protocol
        password = self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
        if protocol.startswith("SASL_") and not (self.kafka_sasl_username and password):
            raise ValueError(
                f"TASKFORCE_KAFKA_SECURITY_PROTOCOL={protocol} needs "
                "TASKFORCE_KAFKA_SASL_USERNAME and TASKFORCE_KAFKA_SASL_PASSWORD"
            )
        cafile = self.kafka_ssl_cafile
        if protocol.endswith("SSL") and cafile is not None and not cafile.is_file():
            raise ValueError(f"TASKFORCE_KAFKA_SSL_CAFILE={cafile} is not a file")
        return self
