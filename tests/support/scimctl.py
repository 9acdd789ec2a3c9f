"""Running the real `scimctl --json` as a subprocess against the test stack, as an operator would."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from tests.support.stack import Stack


@dataclass(frozen=True)
class CliResult:
    code: int
    out: Any
    stderr: str


async def scimctl(stack: Stack, *args: str) -> CliResult:
    """`scimctl --json <args>`; the stack writes no state file in tests, so it is found through the env."""
    env = {
        **os.environ,
        "DIRECTORY_ADDR": stack.directory_addr,
        "PORTAL_ADDR": stack.portal_addr,
        "ADMIN_TOKEN": stack.admin_token,
        "SECURITY_EVENTS_ADDR": stack.security_events_addr,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scimctl.main",
        "--json",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return CliResult(proc.returncode, json.loads(out) if out.strip() else None, err.decode())


async def scimctl_ok(stack: Stack, *args: str) -> Any:
    result = await scimctl(stack, *args)
    assert result.code == 0, (args, result)
    return result.out
