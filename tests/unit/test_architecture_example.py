"""The "assembling a new service" example of docs/architecture.md runs as written: composed from
suite_common parts, it serves its page from the directory's admin API (the directory composed around
fakes, as in test_composed_directory), with health, metrics and the drain."""

from __future__ import annotations

import asyncio
import re
import sys
import types
from pathlib import Path

import aiohttp
from scimsuite.admin.v1 import admin_pb2
from suite_common.service import Runtime, run_service

from tests.unit.test_composed_directory import ADMIN_TOKEN, Composed, composed  # noqa: F401 - the fixture

DOC = Path(__file__).parents[2] / "docs" / "architecture.md"


def example_module() -> types.ModuleType:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1, "architecture.md should hold exactly one python example"
    module = types.ModuleType("architecture_example")
    sys.modules[module.__name__] = module
    # Our own documentation, run so that it stays true.
    exec(compile(blocks[0], str(DOC), "exec"), module.__dict__)
    return module


async def test_the_documented_service_runs(composed: Composed) -> None:  # noqa: F811
    await composed.admin.CreateWorkspace(admin_pb2.CreateWorkspaceRequest(name="from-the-console"))
    example = example_module()
    settings = example.load_settings(
        {"CONSOLE_PORT": "0", "DIRECTORY_ADMIN_ADDR": composed.address, "ADMIN_TOKEN": ADMIN_TOKEN}
    )
    stop, ready = asyncio.Event(), asyncio.Event()
    ports: list[int] = []

    async def composition(runtime: Runtime) -> None:
        ports.append(await example.compose(runtime, settings))

    runner = asyncio.create_task(run_service("admin-console", composition, stop, grace_s=1.0, ready=ready))
    await asyncio.wait_for(ready.wait(), 10)
    base = f"http://127.0.0.1:{ports[0]}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/workspaces") as page:
                assert page.status == 200 and await page.json() == {"workspaces": ["from-the-console"]}
            async with http.get(f"{base}/readyz") as ready_answer:
                assert ready_answer.status == 200 and (await ready_answer.json())["status"] == "ready"
            async with http.get(f"{base}/metrics") as scraped:
                assert 'route="/workspaces"' in await scraped.text()
    finally:
        stop.set()
        await runner
    assert example.serve is not None and callable(example.main)
