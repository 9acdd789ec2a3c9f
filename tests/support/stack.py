"""The suite's stack in tests: `Stack` and `migrate` come from `devstack.stack` (shared with `make run`
and the benchmark); `stack_fixture` and `own_stack` give a test module a stack of its own, and
`database_fixture` a database of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
import pytest_asyncio
from devstack.stack import Stack, migrate, migrated_database, running_stack
from suite_common.embedded import EmbeddedServers

__all__ = [
    "Stack",
    "database_fixture",
    "kept_logs",
    "migrate",
    "migrated_database",
    "own_stack",
    "stack_fixture",
]

# Log folders of stacks that stopped uncleanly or while tests failed, listed at the end of the run.
kept_logs: list[Path] = []


def keep_logs_if_tests_fail(request: pytest.FixtureRequest) -> Callable[[], str]:
    """A `keep_logs` for `running_stack`: a reason once any test failed since the stack started."""
    failed_before = request.session.testsfailed

    def reason() -> str:
        failed = request.session.testsfailed - failed_before
        return f"{failed} test(s) failed while it ran" if failed else ""

    return reason


def note_kept(stack: Stack) -> None:
    if stack.log_dir.exists():
        kept_logs.append(stack.log_dir)


@asynccontextmanager
async def own_stack(
    request: pytest.FixtureRequest,
    servers: EmbeddedServers,
    prefix: str,
    *,
    replicas: int = 1,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """`devstack.stack.running_stack` whose logs are kept (and listed at the end) if any test failed
    while it ran."""
    keep = keep_logs_if_tests_fail(request)
    async with running_stack(servers, prefix, replicas=replicas, env=env, keep_logs=keep) as stack:
        yield stack
    note_kept(stack)


def stack_fixture(
    prefix: str,
    *,
    replicas: int = 1,
    env: Mapping[str, str] | None = None,
    scope: Literal["module", "package", "session"] = "module",
) -> Any:
    """A fixture giving a stack on its own database; the module attribute it is assigned to names it:

    replicated = stack_fixture("replicas", replicas=2)
    """

    @pytest_asyncio.fixture(scope=scope)
    async def fixture(request: pytest.FixtureRequest, servers: EmbeddedServers) -> AsyncIterator[Stack]:
        async with own_stack(request, servers, prefix, replicas=replicas, env=env) as stack:
            yield stack

    return fixture


def database_fixture(prefix: str) -> Any:
    """A module fixture giving a migrated database of the module's own, for tests that read what a running
    stack's services would also act on (the outbox its relay drains, the SETs its security-events
    delivers) and so must not use the session's database:

    own_database = database_fixture("userwrites")
    """

    @pytest_asyncio.fixture(scope="module")
    async def fixture(servers: EmbeddedServers) -> AsyncIterator[str]:
        async with migrated_database(servers, prefix) as dsn:
            yield dsn

    return fixture
