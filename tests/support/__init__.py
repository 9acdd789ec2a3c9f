"""What the tests share. Real servers, real services, no mocks of our own parts.

Servers. `tests/conftest.py` starts one PostgreSQL and one NATS JetStream for the whole session on
ephemeral ports (`suite_common.embedded.EmbeddedServers`, the same pair `make run` and the benchmark
use), or uses TEST_DATABASE_URL / TEST_NATS_URL. Nothing in the tests may assume a server on 5432/4222,
and no test decides at import time whether to run.

Session fixtures (conftest.py): `servers`, `database_url` (a database with every migration applied),
`stack` (one replica of each service on it), `admin`, `http`, `store_tenant`, `scim`.

A stack of a test module's own (its own database, replicas, environment), in one line:

    from tests.support.stack import stack_fixture

    replicated = stack_fixture("replicas", replicas=2, env={"PORTAL_MAX_DELIVERIES": "1"})

    async def test_x(replicated: Stack) -> None: ...

The attribute's name is the fixture's name; `scope` is "module" unless given ("package" in a conftest).
When the fixture has more to set up around the stack, use the context manager it is made of:

    @pytest_asyncio.fixture(scope="module")
    async def measured(request: pytest.FixtureRequest, servers: Servers) -> AsyncIterator[Measured]:
        async with own_stack(request, servers, "metrics", env={...}) as stack:
            yield Measured(stack, ...)

Either creates a database, migrates it, starts the services, and at the end stops them and drops the
database (`devstack.stack.running_stack`). A database without services: `migrated_database(servers,
"prefix")` (an integration test whose rows must not mix with others). A stack's service logs are removed
when it stops cleanly; when a service exits uncleanly or a test failed while the stack was up, they are
kept and their folder is printed ("[stack] logs in /tmp/scim-stack-logs-…").

Fault tests that restart PostgreSQL or NATS own their servers: `tests/reliability/harness.py`.
Waiting: `eventually.assert_eventually`, never a fixed sleep.
"""
