"""scim-edge settings, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from suite_common.settings import env_bool, env_float, env_int, env_str, environ


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    directory_addr: str
    public_base_url: str
    max_body_bytes: int
    max_request_line_bytes: int
    max_header_bytes: int
    max_results: int
    default_count: int
    bulk_max_operations: int
    bulk_max_payload_bytes: int
    rate_limit_per_second: float
    rate_limit_burst: int
    rpc_timeout_s: float
    # security-events' gRPC address; empty: the /scim-events endpoints answer 404.
    security_events_addr: str
    shutdown_grace_s: float
    log_level: str
    # The provisioning log (recorded off the request path, stored by the directory).
    request_log_enabled: bool = True
    request_log_queue: int = 10_000
    request_log_batch: int = 200
    request_log_body_max_bytes: int = 4096
    request_log_parse_limit: int = 256 * 1024
    request_log_linger_s: float = 0.25
    request_log_queue_bytes: int = 64 * 1024 * 1024
    # Successful requests logged at INFO: the first and every N-th per route (1: all). Errors always are;
    # the rest go to DEBUG. Metrics and traces see every request whatever this is.
    access_log_every: int = 100


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = environ() if env is None else env
    return Settings(
        host=env_str(env, "EDGE_HOST", "127.0.0.1"),
        port=env_int(env, "EDGE_PORT", 8080),
        directory_addr=env_str(env, "DIRECTORY_ADDR", "127.0.0.1:50051"),
        # Empty: derive the base URL from the request's Host (and X-Forwarded-Proto) header.
        public_base_url=env_str(env, "SCIM_PUBLIC_BASE_URL", "").rstrip("/"),
        max_body_bytes=env_int(env, "EDGE_MAX_BODY_BYTES", 2 * 1024 * 1024),
        max_request_line_bytes=env_int(env, "EDGE_MAX_REQUEST_LINE_BYTES", 64 * 1024),
        max_header_bytes=env_int(env, "EDGE_MAX_HEADER_BYTES", 32 * 1024),
        max_results=env_int(env, "SCIM_MAX_RESULTS", 1000),
        default_count=env_int(env, "SCIM_DEFAULT_COUNT", 100),
        bulk_max_operations=env_int(env, "SCIM_BULK_MAX_OPERATIONS", 1000),
        bulk_max_payload_bytes=env_int(env, "SCIM_BULK_MAX_PAYLOAD_BYTES", 1024 * 1024),
        rate_limit_per_second=env_float(env, "EDGE_RATE_LIMIT_PER_SECOND", 200.0),
        rate_limit_burst=env_int(env, "EDGE_RATE_LIMIT_BURST", 400),
        rpc_timeout_s=env_float(env, "EDGE_RPC_TIMEOUT_SECONDS", 30.0),
        security_events_addr=env_str(env, "SECURITY_EVENTS_ADDR", ""),
        shutdown_grace_s=env_float(env, "SHUTDOWN_GRACE_SECONDS", 10.0),
        log_level=env_str(env, "LOG_LEVEL", "INFO"),
        request_log_enabled=env_bool(env, "EDGE_REQUEST_LOG", True),
        request_log_queue=env_int(env, "EDGE_REQUEST_LOG_QUEUE", 10_000),
        request_log_batch=env_int(env, "EDGE_REQUEST_LOG_BATCH", 200),
        request_log_body_max_bytes=env_int(env, "EDGE_REQUEST_LOG_BODY_MAX_BYTES", 4096),
        request_log_parse_limit=env_int(env, "EDGE_REQUEST_LOG_PARSE_LIMIT", 256 * 1024),
        request_log_linger_s=env_float(env, "EDGE_REQUEST_LOG_FLUSH_SECONDS", 0.25),
        request_log_queue_bytes=env_int(env, "EDGE_REQUEST_LOG_QUEUE_BYTES", 64 * 1024 * 1024),
        access_log_every=env_int(env, "EDGE_ACCESS_LOG_EVERY", 100),
    )
