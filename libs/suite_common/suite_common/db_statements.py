"""An opt-in count of the SQL statements a service sends to PostgreSQL: `db_statements_total{service,work}`.

Every statement is one round trip, and round trips are what a request or an event pays for most (see
docs/benchmarks.md). The embedded PostgreSQL of the tests has no `pg_stat_statements`, so the count is taken
client-side, from asyncpg's query logger on each pooled connection (`BEGIN`, `COMMIT` and the pool's reset
on release are statements too, and are counted). It is off unless `DB_STATEMENT_METRICS=1`: with no logger
registered asyncpg skips its timing and logging entirely, so production pays nothing.

`work` says what sent them: `serving` (requests and events, the default), `background` (periodic samplers
and health probes) or what a long-running task names itself (the directory's outbox relay: `relay`), so a
test can budget each without racing the others.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

from asyncpg import introspection
from prometheus_client import CollectorRegistry, Counter

ENV = "DB_STATEMENT_METRICS"
SERVING, BACKGROUND = "serving", "background"

# The context a statement is sent from; asyncpg calls its query loggers with `loop.call_soon`, which runs
# them in a copy of the sender's context, so the logger reads the sender's value.
_work: contextvars.ContextVar[str] = contextvars.ContextVar("db_statement_work", default=SERVING)

StatementLogger = Callable[[Any], None]

# asyncpg's own type lookups, and the `jit` setting it turns off around them: a connection asks once per
# type it has not seen, so they depend on how many pooled connections served the work rather than on the
# work. Counted apart, as work="introspection".
_INTROSPECTION = frozenset(
    {introspection.INTRO_LOOKUP_TYPES, introspection.INTRO_LOOKUP_TYPES_13, introspection.TYPE_BY_NAME}
)


def _is_introspection(query: str) -> bool:
    if query in _INTROSPECTION:
        return True
    flat = " ".join(query.split())
    return flat.startswith("SELECT current_setting('jit')") or flat == "SELECT set_config('jit', $1, false)"


def mark_work(kind: str) -> None:
    """Count the current task's statements (and those of tasks it starts from now on) as `kind`."""
    _work.set(kind)


def mark_background() -> None:
    mark_work(BACKGROUND)


@contextlib.contextmanager
def counted_as(kind: str) -> Iterator[None]:
    """Count the statements sent inside the block as `kind`, then as before (for a one-off side task that
    runs inside a request, such as recording a connection's newly seen IdP)."""
    token = _work.set(kind)
    try:
        yield
    finally:
        _work.reset(token)


def statement_counter(registry: CollectorRegistry, service: str) -> StatementLogger:
    """A query logger for `suite_common.pg.create_pool` that counts into `registry`."""
    counter = Counter(
        "db_statements",
        "SQL statements sent to PostgreSQL (one round trip each), by service and kind of work "
        f"(serving: requests and events; background: samplers and health checks; relay: the outbox "
        f"relay). Only with {ENV}=1.",
        ["service", "work"],
        registry=registry,
    )

    def count(query: Any) -> None:
        work = "introspection" if _is_introspection(query.query) else _work.get()
        counter.labels(service, work).inc()

    return count
