"""admin-console settings, read from the environment in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from suite_common.settings import SettingsError, env_float, env_int, env_str, environ


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    directory_addr: str
    portal_addr: str
    # security-events' admin API (SET streams and receivers, issue 15): its own admin port.
    security_events_addr: str
    # The admin credential: what an admin types to sign in, and what the console sends to the admin APIs.
    admin_token: str
    # Signs the session cookies. Several replicas must share it; empty: a random one per process (one
    # replica only, and every restart signs everyone out).
    session_secret: str
    session_idle_s: float
    session_max_age_s: float
    # Behind an authenticating proxy: the header that names the signed-in user. Empty (default): off.
    trusted_user_header: str
    # auto: Secure cookies when the request came over https (directly or per X-Forwarded-Proto).
    cookie_secure: str
    rpc_timeout_s: float
    shutdown_grace_s: float
    log_level: str


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = environ() if env is None else env
    cookie_secure = env_str(env, "CONSOLE_COOKIE_SECURE", "auto").lower()
    if cookie_secure not in ("auto", "always", "never"):
        raise SettingsError("CONSOLE_COOKIE_SECURE must be auto, always or never")
    # Where the directory's admin API listens: its own port in Kubernetes, else the data port it shares.
    shared_port = env_str(env, "DIRECTORY_ADDR", "127.0.0.1:50051")
    return Settings(
        host=env_str(env, "CONSOLE_HOST", "127.0.0.1"),
        port=env_int(env, "CONSOLE_PORT", 8090),
        directory_addr=env_str(env, "DIRECTORY_ADMIN_ADDR", shared_port),
        portal_addr=env_str(env, "PORTAL_ADDR", "127.0.0.1:50052"),
        security_events_addr=env_str(env, "SECURITY_EVENTS_ADMIN_ADDR", "127.0.0.1:50053"),
        admin_token=env_str(env, "ADMIN_TOKEN", ""),
        session_secret=env_str(env, "CONSOLE_SESSION_SECRET", ""),
        session_idle_s=env_float(env, "CONSOLE_SESSION_IDLE_SECONDS", 1800.0),
        session_max_age_s=env_float(env, "CONSOLE_SESSION_MAX_AGE_SECONDS", 12 * 3600.0),
        trusted_user_header=env_str(env, "CONSOLE_TRUSTED_USER_HEADER", ""),
        cookie_secure=cookie_secure,
        rpc_timeout_s=env_float(env, "CONSOLE_RPC_TIMEOUT_SECONDS", 10.0),
        shutdown_grace_s=env_float(env, "SHUTDOWN_GRACE_SECONDS", 10.0),
        log_level=env_str(env, "LOG_LEVEL", "INFO"),
    )
