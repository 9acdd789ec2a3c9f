"""The directory's settings, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from suite_common.db_statements import ENV as STATEMENT_METRICS_ENV
from suite_common.log_sampling import every_setting
from suite_common.nats_connect import parse_servers
from suite_common.settings import env_bool, env_float, env_int, env_str, environ
from suite_common.streams import replicas_setting


@dataclass(frozen=True)
class Settings:
    database_url: str
    nats_url: str
    grpc_listen: str
    admin_token: str
    public_base_url: str
    metrics_port: int
    db_pool_min: int
    db_pool_max: int
    stream_name: str
    events_subject_prefix: str
    stream_duplicate_window_s: float
    relay_batch_size: int
    relay_poll_interval_s: float
    shutdown_grace_s: float
    log_level: str
    # Empty: the admin API shares the data port. Set in Kubernetes so NetworkPolicy can keep them apart.
    admin_listen: str = ""
    # RFC 9865 cursors. Empty secret: the one migration 0003 generated in the database, which every replica
    # shares. A timeout of 0 turns cursor paging off (ServiceProviderConfig then says cursor: false).
    cursor_secret: str = ""
    cursor_timeout_s: int = 3600
    # Authenticated tokens are cached per replica; LISTEN/NOTIFY drops the cache on any credential change.
    credentials_cache_ttl_s: float = 30.0
    # Answers to Group writes inline `members` only up to this many (GET always returns them all).
    write_members_inline_max: int = 100
    # JetStream copies of the event streams: 1 on one server (`make run`), 3 on a production cluster.
    stream_replicas: int = 1
    # The provisioning log: rows older than this many days, or beyond this many per connection, are pruned
    # every `request_log_prune_s` seconds.
    request_log_retention_days: float = 30.0
    request_log_max_rows: int = 100_000
    request_log_prune_s: float = 300.0
    # Count SQL statements into `db_statements_total` (the round-trip guard of tests/perf); off in production.
    db_statement_metrics: bool = False
    # An "rpc handled" (and "event applied") line at INFO per failure and per n-th success (log_sampling).
    log_success_every: int = 100


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = environ() if env is None else env
    return Settings(
        database_url=env_str(env, "DATABASE_URL", "postgresql://postgres@127.0.0.1:55432/scim"),
        nats_url=",".join(parse_servers(env_str(env, "NATS_URL", "nats://127.0.0.1:14222"))),
        grpc_listen=env_str(env, "DIRECTORY_GRPC_LISTEN", "127.0.0.1:50051"),
        admin_token=env_str(env, "ADMIN_TOKEN", ""),
        public_base_url=env_str(env, "SCIM_PUBLIC_BASE_URL", "http://127.0.0.1:8080").rstrip("/"),
        metrics_port=env_int(env, "DIRECTORY_METRICS_PORT", 0),
        db_pool_min=env_int(env, "DIRECTORY_DB_POOL_MIN", 2),
        db_pool_max=env_int(env, "DIRECTORY_DB_POOL_MAX", 20),
        stream_name=env_str(env, "EVENTS_STREAM", "SCIM_EVENTS"),
        events_subject_prefix=env_str(env, "EVENTS_SUBJECT_PREFIX", "scim"),
        stream_duplicate_window_s=env_float(env, "EVENTS_DUPLICATE_WINDOW_SECONDS", 3600.0),
        relay_batch_size=env_int(env, "OUTBOX_RELAY_BATCH", 256),
        relay_poll_interval_s=env_float(env, "OUTBOX_RELAY_POLL_SECONDS", 1.0),
        shutdown_grace_s=env_float(env, "SHUTDOWN_GRACE_SECONDS", 10.0),
        log_level=env_str(env, "LOG_LEVEL", "INFO"),
        admin_listen=env_str(env, "DIRECTORY_ADMIN_LISTEN", ""),
        cursor_secret=env_str(env, "CURSOR_SECRET", ""),
        cursor_timeout_s=env_int(env, "CURSOR_TIMEOUT_SECONDS", 3600),
        credentials_cache_ttl_s=env_float(env, "CREDENTIALS_CACHE_SECONDS", 30.0),
        write_members_inline_max=env_int(env, "GROUP_WRITE_MEMBERS_INLINE_MAX", 100),
        stream_replicas=replicas_setting(env),
        log_success_every=every_setting(env),
        request_log_retention_days=env_float(env, "REQUEST_LOG_RETENTION_DAYS", 30.0),
        request_log_max_rows=env_int(env, "REQUEST_LOG_MAX_ROWS_PER_CONNECTION", 100_000),
        request_log_prune_s=env_float(env, "REQUEST_LOG_PRUNE_SECONDS", 300.0),
        db_statement_metrics=env_bool(env, STATEMENT_METRICS_ENV, False),
    )
