"""security-events settings, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from suite_common.db_statements import ENV as STATEMENT_METRICS_ENV
from suite_common.log_sampling import every_setting
from suite_common.settings import env_bool, env_float, env_int, env_str, environ
from suite_common.streams import replicas_setting


@dataclass(frozen=True)
class Settings:
    database_url: str
    nats_url: str
    grpc_listen: str
    # Set: SecurityEventsAdmin listens here alone, apart from the SetTransmitter API the edge calls, so a
    # NetworkPolicy can keep the admin API away from the SCIM side. Empty (local runs, tests): one port.
    admin_listen: str
    admin_token: str
    metrics_port: int
    # DB_STATEMENT_METRICS=1: count every SQL statement (db_statements_total), for the round-trip guard.
    db_statement_metrics: bool
    db_pool_min: int
    db_pool_max: int
    stream_name: str
    # JetStream copies of the event streams (EVENTS_STREAM_REPLICAS): this service must ask for the same
    # count as the directory, or its start-up would move the stream back to another replica count.
    stream_replicas: int
    events_subject_prefix: str
    consumer_name: str
    fetch_batch: int
    max_deliveries: int
    ack_wait_s: float
    # The SCIM edge's public base URL: SET `iss` is `<base>/scim/v2/<connection>` (the SCIM base URI).
    public_base_url: str
    key_encryption_secret: str
    # Dev only: lets push receivers use http:// URLs (loopback tests, `make run`); refused otherwise.
    allow_insecure_receivers: bool
    push_timeout_s: float
    push_concurrency: int
    retry_base_s: float
    retry_max_s: float
    dead_letter_after_s: float
    poll_redeliver_s: float
    poll_max_wait_s: float
    key_overlap_s: float
    # Settled SETs and consumed event ids are kept this long; longer than the stream's max age (7 days),
    # so that no event can be redelivered after its id is forgotten.
    retention_s: float
    shutdown_grace_s: float
    log_level: str
    # An "rpc handled" (and "event applied") line at INFO per failure and per n-th success (log_sampling).
    log_success_every: int = 100


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = environ() if env is None else env
    return Settings(
        database_url=env_str(env, "DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/scim"),
        nats_url=env_str(env, "NATS_URL", "nats://127.0.0.1:14222"),
        grpc_listen=env_str(env, "SECURITY_EVENTS_GRPC_LISTEN", "127.0.0.1:50053"),
        admin_listen=env_str(env, "SECURITY_EVENTS_ADMIN_LISTEN", ""),
        admin_token=env_str(env, "ADMIN_TOKEN", ""),
        metrics_port=env_int(env, "SECURITY_EVENTS_METRICS_PORT", 0),
        db_statement_metrics=env_bool(env, STATEMENT_METRICS_ENV, False),
        db_pool_min=env_int(env, "SECURITY_EVENTS_DB_POOL_MIN", 2),
        db_pool_max=env_int(env, "SECURITY_EVENTS_DB_POOL_MAX", 10),
        stream_name=env_str(env, "EVENTS_STREAM", "SCIM_EVENTS"),
        stream_replicas=replicas_setting(env),
        log_success_every=every_setting(env),
        events_subject_prefix=env_str(env, "EVENTS_SUBJECT_PREFIX", "scim"),
        consumer_name=env_str(env, "SECURITY_EVENTS_CONSUMER", "security-events"),
        fetch_batch=env_int(env, "SECURITY_EVENTS_FETCH_BATCH", 64),
        max_deliveries=env_int(env, "SECURITY_EVENTS_MAX_DELIVERIES", 5),
        ack_wait_s=env_float(env, "SECURITY_EVENTS_ACK_WAIT_SECONDS", 30.0),
        public_base_url=env_str(env, "SCIM_PUBLIC_BASE_URL", "http://127.0.0.1:8080").rstrip("/"),
        key_encryption_secret=env_str(env, "SECURITY_EVENTS_KEY_SECRET", ""),
        allow_insecure_receivers=env_bool(env, "SECURITY_EVENTS_ALLOW_INSECURE_RECEIVERS", False),
        push_timeout_s=env_float(env, "SECURITY_EVENTS_PUSH_TIMEOUT_SECONDS", 10.0),
        push_concurrency=env_int(env, "SECURITY_EVENTS_PUSH_CONCURRENCY", 32),
        retry_base_s=env_float(env, "SECURITY_EVENTS_RETRY_BASE_SECONDS", 0.5),
        retry_max_s=env_float(env, "SECURITY_EVENTS_RETRY_MAX_SECONDS", 300.0),
        dead_letter_after_s=env_float(env, "SECURITY_EVENTS_DEAD_LETTER_AFTER_SECONDS", 24 * 3600.0),
        poll_redeliver_s=env_float(env, "SECURITY_EVENTS_POLL_REDELIVER_SECONDS", 30.0),
        poll_max_wait_s=env_float(env, "SECURITY_EVENTS_POLL_MAX_WAIT_SECONDS", 20.0),
        key_overlap_s=env_float(env, "SECURITY_EVENTS_KEY_OVERLAP_SECONDS", 7 * 24 * 3600.0),
        retention_s=env_float(env, "SECURITY_EVENTS_RETENTION_SECONDS", 8 * 24 * 3600.0),
        shutdown_grace_s=env_float(env, "SHUTDOWN_GRACE_SECONDS", 10.0),
        log_level=env_str(env, "LOG_LEVEL", "INFO"),
    )
