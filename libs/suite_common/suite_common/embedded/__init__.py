"""Real PostgreSQL and NATS JetStream servers started from local binaries, for `make run`, the tests and
the benchmark (`EmbeddedServers` is the pair they all use).

Nothing here is used in production: Kubernetes runs managed or dedicated servers. The facts these modules
rely on (binary locations, running as an unprivileged user when root, ports files) are collected in
`../shared/reference/embedded-servers.md`.
"""

from suite_common.embedded.nats import EmbeddedNats
from suite_common.embedded.postgres import EmbeddedPostgres
from suite_common.embedded.servers import EmbeddedServers, throwaway_servers

__all__ = ["EmbeddedNats", "EmbeddedPostgres", "EmbeddedServers", "throwaway_servers"]
