"""Code every service shares: settings, telemetry, logging, lifecycle, gRPC error codec, embedded servers."""
