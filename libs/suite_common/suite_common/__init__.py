"""Code every service shares: settings helpers, telemetry, logging, lifecycle, gRPC error codec, embedded servers."""
