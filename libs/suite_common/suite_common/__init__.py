"""Code every service shares, so a service is assembled rather than copied (docs/architecture.md).

Running: `service` (composition, drain, reverse close), `process` (the entry point), `health`, `web` (the
aiohttp app factory). gRPC: `admin_credential`, `grpc_status`, `grpc_errors`, `metrics`. Data: `pg`,
`pg_listen`, `migrations`, `streams`, `nats_connect`. Plus settings, telemetry, logging, embedded servers.
"""
