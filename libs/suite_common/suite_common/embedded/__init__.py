"""Real PostgreSQL and NATS JetStream servers started from local binaries, for `make run` and the tests.

Nothing here is used in production: Kubernetes runs managed or dedicated servers. The facts these modules
rely on (binary locations, running as an unprivileged user when root, ports files) are collected in
`../shared/reference/embedded-servers.md`.
"""

from suite_common.embedded.nats import EmbeddedNats
from suite_common.embedded.postgres import EmbeddedPostgres

__all__ = ["EmbeddedNats", "EmbeddedPostgres"]
