"""portal-actions settings, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from suite_common.db_statements import ENV as STATEMENT_METRICS_ENV
from suite_common.log_sampling import every_setting
from suite_common.nats_connect import parse_servers
from suite_common.settings import env_bool, env_float, env_int, env_str, environ
from suite_common.streams import replicas_setting

from portal_actions.domain.guard import DEFAULT_GUARD, GUARD_OFF, GuardPolicy


@dataclass(frozen=True)
class Settings:
    database_url: str
    nats_url: str
    grpc_listen: str
    admin_token: str
    metrics_port: int
    db_pool_min: int
    db_pool_max: int
    stream_name: str
    events_subject_prefix: str
    consumer_name: str
    fetch_batch: int
    max_deliveries: int
    ack_wait_s: float
    shutdown_grace_s: float
    log_level: str
    # The mass-deactivation guard of connections no admin has configured (`scimctl guard set`).
    guard_defaults: GuardPolicy
    # JetStream copies of the event streams: 1 on one server (`make run`), 3 on a production cluster.
    stream_replicas: int = 1
    # Count SQL statements into `db_statements_total` (the round-trip guard of tests/perf); off in production.
    db_statement_metrics: bool = False
    # An "rpc handled" (and "event applied") line at INFO per failure and per n-th success (log_sampling).
    log_success_every: int = 100


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = environ() if env is None else env
    return Settings(
        database_url=env_str(env, "DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/scim"),
        nats_url=",".join(parse_servers(env_str(env, "NATS_URL", "nats://127.0.0.1:14222"))),
        grpc_listen=env_str(env, "PORTAL_GRPC_LISTEN", "127.0.0.1:50052"),
        admin_token=env_str(env, "ADMIN_TOKEN", ""),
        metrics_port=env_int(env, "PORTAL_METRICS_PORT", 0),
        db_pool_min=env_int(env, "PORTAL_DB_POOL_MIN", 2),
        db_pool_max=env_int(env, "PORTAL_DB_POOL_MAX", 10),
        stream_name=env_str(env, "EVENTS_STREAM", "SCIM_EVENTS"),
        events_subject_prefix=env_str(env, "EVENTS_SUBJECT_PREFIX", "scim"),
        consumer_name=env_str(env, "PORTAL_CONSUMER", "portal-actions"),
        fetch_batch=env_int(env, "PORTAL_FETCH_BATCH", 64),
        max_deliveries=env_int(env, "PORTAL_MAX_DELIVERIES", 5),
        ack_wait_s=env_float(env, "PORTAL_ACK_WAIT_SECONDS", 30.0),
        shutdown_grace_s=env_float(env, "SHUTDOWN_GRACE_SECONDS", 10.0),
        log_level=env_str(env, "LOG_LEVEL", "INFO"),
        guard_defaults=_guard_defaults(env_str(env, "PORTAL_GUARD_DEFAULT", "on")),
        stream_replicas=replicas_setting(env),
        log_success_every=every_setting(env),
        db_statement_metrics=env_bool(env, STATEMENT_METRICS_ENV, False),
    )


def _guard_defaults(value: str) -> GuardPolicy:
    """`on` (hold above 50 destructive actions, or 10 % of active accounts, in an hour) or `off`: for load
    tests and imports that deactivate in bulk on purpose."""
    choice = value.strip().lower()
    if choice not in ("on", "off"):
        raise ValueError(f"PORTAL_GUARD_DEFAULT must be on or off, not {value!r}")
    return DEFAULT_GUARD if choice == "on" else GUARD_OFF
