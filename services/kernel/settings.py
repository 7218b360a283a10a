"""Settings every service shares, read from `TASKFORCE_*` environment variables.

Each service subclasses `KernelSettings` with its own defaults (name, port, database file);
nothing here reads the environment at import time.
"""

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class KernelSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASKFORCE_", extra="ignore")

    service_name: str = "kernel"
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = "sqlite+aiosqlite:///var/kernel.db"
    # Embedded mode applies migrations at start-up; production runs `python -m services.X migrate`.
    migrate_on_start: bool = True
    # Embedded mode runs the outbox relay and the consumers inside the API process;
    # production runs them in a separate worker Deployment (`python -m services.X worker`).
    run_worker_in_api: bool = True

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
    consumer_max_attempts: int = 5
    consumer_retry_backoff_s: float = 0.2
    relay_batch_size: int = 200
    relay_poll_interval_s: float = 1.0
    relay_max_backoff_s: float = 5.0
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
