"""A real headless Chromium (Debian's `chromium`, driven by Playwright for Python) against the console.

Playwright's own browser download is never used: the tests launch the system binary. Screenshots of the
main pages are written to tests/browser/artifacts/ (kept out of git) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.support.stack import Stack

ARTIFACTS = Path(__file__).parent / "artifacts"
# Debian's wrapper script (/usr/bin/chromium) execs this binary; Playwright needs the binary itself.
CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str:
    configured = os.environ.get("CHROMIUM_PATH", "")
    for path in (configured, *CANDIDATES):
        if path and Path(path).exists():
            return path
    found = shutil.which("chromium")
    if found:
        return found
    pytest.fail(
        "Chromium is missing: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH"
    )


@pytest_asyncio.fixture(scope="module")
async def console_url(stack: Stack) -> str:
    return stack.start_console()


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as p:
        # --no-sandbox: CI and the dev box run the tests as root, where Chromium's sandbox cannot start.
        b = await p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"], headless=True)
        yield b
        await b.close()


@pytest_asyncio.fixture
async def context(browser: Browser, console_url: str) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(base_url=console_url, viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    await ctx.close()


@pytest_asyncio.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


async def sign_in(page: Page, token: str) -> None:
    await page.goto("/workspaces")
    await page.get_by_label("Admin token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/workspaces")


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
