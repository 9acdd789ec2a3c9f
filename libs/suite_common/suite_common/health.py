"""Names shared by the services' gRPC health servicers (grpc.health.v1) and the Kubernetes probes.

Readiness probes ask for the overall status (service ""), which follows the service's dependencies and
turns NOT_SERVING first on SIGTERM. Liveness probes ask for `liveness`, which is SERVING for as long as
the process answers at all: a database outage makes a pod unready, never restarts it.
"""

from __future__ import annotations

LIVENESS = "liveness"
