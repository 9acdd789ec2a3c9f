"""The admin console in a real browser, driven by accessible names as a screen reader would: sign in,
create a workspace, Enable SCIM on the Store, take the token from the page, send Okta's requests with it,
watch the provisioning log and the person's timeline, rotate the token, map a role, and the refusals."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
from playwright.async_api import BrowserContext, Page, expect

from tests.browser.conftest import shot, sign_in
from tests.support.eventually import assert_eventually
from tests.support.stack import Stack

OKTA = {"User-Agent": "Okta SCIM Client 1.0.0", "Accept": "application/scim+json"}
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


class Okta:
    """Okta's side of the conversation, with the Base URL and token read from the console."""

    def __init__(self, http: aiohttp.ClientSession, stack: Stack, base_url: str, token: str) -> None:
        self.http = http
        self.base = f"{stack.edge_url}/scim/v2/{base_url.rsplit('/', 1)[1]}"
        self.headers = {**OKTA, "Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.base + path, json=body, headers=self.headers, **kw) as r:
            return r.status, await r.json(content_type=None)

    async def test_connector(self, user_name: str) -> int:
        params = {"filter": f'userName eq "{user_name}"', "startIndex": "1", "count": "100"}
        status, _ = await self.call("GET", "/Users", params=params)
        return status

    async def create_user(self, user_name: str) -> str:
        status, body = await self.call(
            "POST",
            "/Users",
            {
                "schemas": [USER_SCHEMA],
                "userName": user_name,
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "emails": [{"primary": True, "value": "ada@example.com", "type": "work"}],
                "password": "Okta-s3cret!",
                "active": True,
            },
        )
        assert status == 201, body
        return str(body["id"])


async def _create_workspace(page: Page, name: str) -> str:
    await page.goto("/workspaces")
    await page.get_by_label("Workspace name").fill(name)
    await page.get_by_role("button", name="Create workspace").click()
    await expect(page.get_by_role("heading", name=name)).to_be_visible()
    match = re.search(r"/workspaces/([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


async def _enable(
    page: Page, portal_name: str, create: str, deactivate: str, role: str = ""
) -> tuple[str, str]:
    await page.get_by_role("link", name=f"Enable SCIM on the {portal_name}").click()
    await page.get_by_label(create).check()
    if role:
        await page.get_by_label("Default role").select_option(label=role)
    await page.get_by_label(deactivate).check()
    await page.get_by_role("button", name="Enable SCIM").click()
    await expect(page.get_by_role("heading", name=f"SCIM is enabled on the {portal_name}")).to_be_visible()
    return await page.get_by_label("Base URL").input_value(), await page.get_by_label(
        "Bearer token"
    ).input_value()


async def test_enable_scim_on_the_store_and_follow_okta_through_the_log(
    page: Page, stack: Stack, http: aiohttp.ClientSession, unique: str
) -> None:
    await sign_in(page, stack.admin_token)
    await shot(page, "01-workspaces")
    ws = await _create_workspace(page, f"Acme {unique}")
    await shot(page, "02-workspace")
    base_url, token = await _enable(
        page, "Enterprise Store", "Create them as an employee", "Remove the employee"
    )
    assert token.startswith("scim_") or len(token) > 20
    for name in ("Copy Base URL", "Copy Bearer token"):
        await expect(page.get_by_role("button", name=name)).to_be_visible()
    table = page.get_by_role("table", name="Okta: Provisioning → Integration")
    for cell in (
        "SCIM connector base URL",
        "Unique identifier field for users",
        "userName",
        "HTTP Header",
        "Push New Users, Push Profile Updates, Push Groups",
    ):
        await expect(
            table.get_by_role("cell", name=cell, exact=True)
            .or_(table.get_by_role("rowheader", name=cell, exact=True))
            .first
        ).to_be_visible()
    await expect(page.get_by_role("table", name="Entra ID: Provisioning → Admin Credentials")).to_be_visible()
    status = page.get_by_role("status").filter(has_text="first request")
    await expect(status).to_contain_text("Waiting for the first request")
    await shot(page, "03-credentials")

    okta = Okta(http, stack, base_url, token)
    user_name = f"ada.{unique}@example.com"
    assert await okta.test_connector(user_name) == 200
    # The page notices the Test Connector call by itself (its script polls; no reload).
    await expect(page.locator("#first-request")).to_contain_text("First request received")
    await expect(page.locator("#first-request")).to_contain_text("succeeded")
    user_id = await okta.create_user(user_name)

    await page.get_by_role("link", name="Open the provisioning log").click()
    log = page.get_by_role("table", name="SCIM requests, newest first")
    await expect(log.get_by_role("row").filter(has_text="POST")).to_have_count(1)
    await expect(log.get_by_role("row").filter(has_text="GET")).to_have_count(1)
    await expect(log).to_contain_text("Okta")
    # Live tail: a new request shows up on the open page.
    assert await okta.test_connector("nobody@example.com") == 200
    await expect(log.get_by_role("row").filter(has_text="GET")).to_have_count(2)
    await shot(page, "04-provisioning-log")

    await log.get_by_role("row").filter(has_text="POST").get_by_role("link").click()
    await expect(page.get_by_label("Request body")).to_contain_text("[redacted]")
    await expect(page.get_by_label("Request body")).not_to_contain_text("Okta-s3cret!")
    await shot(page, "05-log-entry")

    await page.goto(f"/workspaces/{ws}/store/people")
    await page.get_by_label("Search by userName").fill(f"ada.{unique}")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name=user_name).click()
    await expect(page.get_by_role("heading", name=user_name)).to_be_visible()
    timeline = page.get_by_role("table", name=re.compile("SCIM requests that touched"))
    await expect(timeline).to_contain_text("POST /scim/v2/")
    await expect(timeline).to_contain_text("create")  # the portal action, under its request id
    # No event stream on this portal: no SET column, a neutral line instead.
    await expect(timeline.get_by_role("columnheader", name="Security events sent")).to_have_count(0)
    await expect(page.get_by_text("This portal has no security event stream")).to_be_visible()
    await expect(page.get_by_role("region", name="Account in the Enterprise Store")).to_contain_text("active")
    assert user_id in page.url
    await shot(page, "06-person")

    await page.get_by_role("link", name="Tokens").click()
    await page.get_by_label(re.compile("Overlap")).fill("15")
    await page.get_by_role("button", name="Rotate token").click()
    rotated = await page.get_by_label("Bearer token").input_value()
    assert rotated and rotated != token
    assert await Okta(http, stack, base_url, rotated).test_connector(user_name) == 200
    assert await okta.test_connector(user_name) == 200  # the old token works during the overlap
    await page.goto(f"/workspaces/{ws}/store/tokens")
    await expect(page.get_by_role("table", name=re.compile("Bearer tokens"))).to_contain_text(
        "active until the overlap ends"
    )
    assert token not in await page.content() and rotated not in await page.content()
    await shot(page, "07-tokens")


async def test_map_a_pushed_group_to_a_role_on_the_dashboard(
    page: Page, stack: Stack, http: aiohttp.ClientSession, unique: str
) -> None:
    await sign_in(page, stack.admin_token)
    ws = await _create_workspace(page, f"Roles {unique}")
    base_url, token = await _enable(
        page,
        "Dashboard",
        "Create them as a collaborator",
        "Remove them as a collaborator",
        role="Viewer",
    )
    status, _ = await Okta(http, stack, base_url, token).call(
        "POST",
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Okta Admins"},
    )
    assert status == 201

    async def pushed() -> None:
        # The group reaches the Dashboard through NATS; the page shows it once portal-actions has it.
        await page.goto(f"/workspaces/{ws}/roles")
        assert await page.get_by_role("row").filter(has_text="Okta Admins").count() == 1

    await assert_eventually(pushed)
    await page.get_by_label("Role for Okta Admins").select_option(label="Admin")
    await page.get_by_role("button", name="Save role for Okta Admins").click()
    await expect(page.get_by_role("status")).to_contain_text("Role mapping saved")
    await expect(page.get_by_label("Role for Okta Admins")).to_have_value("admin")
    await expect(page.get_by_text("highest-privilege")).to_be_visible()
    await shot(page, "08-role-mapping")


async def test_without_a_session_pages_go_to_sign_in_and_forms_need_csrf(
    context: BrowserContext, page: Page, stack: Stack, unique: str
) -> None:
    await page.goto("/workspaces")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    await shot(page, "00-sign-in")
    anonymous = await page.request.post("/workspaces", form={"name": f"anon-{unique}"}, max_redirects=0)
    assert anonymous.status == 403

    await page.get_by_label("Admin token").fill("wrong")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("not correct")

    await sign_in(page, stack.admin_token)
    forged = await page.request.post("/workspaces", form={"name": f"forged-{unique}", "csrf": "forged"})
    assert forged.status == 403
    await page.goto("/workspaces")
    await expect(page.get_by_text(f"forged-{unique}")).to_have_count(0)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.goto("/workspaces")
    await expect(page).to_have_url(re.compile(r"/sign-in"))


async def test_a_hostile_user_name_renders_as_text(
    page: Page, stack: Stack, http: aiohttp.ClientSession, unique: str
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await sign_in(page, stack.admin_token)
    ws = await _create_workspace(page, f"Hostile {unique}")
    base_url, token = await _enable(
        page, "Enterprise Store", "Create them as an employee", "Remove the employee"
    )
    hostile = f"<script>alert('{unique}')</script><img src=x onerror=alert(1)>"
    await Okta(http, stack, base_url, token).create_user(hostile)
    await page.goto(f"/workspaces/{ws}/store/people")
    await expect(page.get_by_role("link", name=hostile)).to_be_visible()
    await page.get_by_role("link", name=hostile).click()
    await expect(page.get_by_role("heading", name=hostile)).to_be_visible()
    await page.goto(f"/workspaces/{ws}/store/log")
    await expect(page.get_by_role("table", name="SCIM requests, newest first")).to_contain_text("201")
    assert dialogs == []


async def test_preview_a_deactivation_and_release_a_held_guard(
    page: Page, stack: Stack, http: aiohttp.ClientSession, unique: str
) -> None:
    await sign_in(page, stack.admin_token)
    ws = await _create_workspace(page, f"Guarded {unique}")
    base_url, token = await _enable(
        page, "Enterprise Store", "Create them as an employee", "Remove the employee"
    )
    await page.goto(f"/workspaces/{ws}/store")
    guard = page.get_by_role("region", name="Mass-deactivation guard")
    await guard.get_by_label("Most destructive actions in the window").fill("1")
    await guard.get_by_label("Most per cent of the active accounts").fill("100")
    await guard.get_by_role("button", name="Save thresholds").click()
    await expect(page.get_by_role("status").filter(has_text="Guard thresholds saved.")).to_be_visible()

    okta = Okta(http, stack, base_url, token)
    names = [f"grace{i}.{unique}@example.com" for i in range(2)]
    ids = [await okta.create_user(n) for n in names]
    account = page.get_by_role("region", name="Account in the Enterprise Store")

    async def provisioned() -> None:
        await page.goto(f"/workspaces/{ws}/store/people/{ids[1]}")
        await expect(account).to_contain_text("active", timeout=2_000)

    await assert_eventually(provisioned, timeout=60)
    await page.get_by_role("button", name="Preview deactivation").click()
    await expect(page.get_by_role("heading", name=f"Preview: deactivating {names[1]}")).to_be_visible()
    actions = page.get_by_role("table", name="Actions the deactivation would take")
    await expect(actions.get_by_role("columnheader", name="What it would do")).to_be_visible()
    await expect(actions.get_by_role("row").filter(has_text="remove")).to_have_count(1)
    await shot(page, "10-preview")

    for uid in ids:
        status, body = await okta.call(
            "PATCH",
            f"/Users/{uid}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": False}}],
            },
        )
        assert status == 200, body

    async def held() -> None:
        await page.goto(f"/workspaces/{ws}/store")
        await expect(page.get_by_role("status").filter(has_text="Held:")).to_be_visible(timeout=2_000)

    await assert_eventually(held, timeout=60)
    waiting = page.get_by_role("table", name=re.compile("What is waiting"))
    await expect(waiting.get_by_role("row").filter(has_text=re.compile(r"grace\d"))).to_have_count(1)
    await shot(page, "11-held")
    await page.get_by_role("button", name="Release held actions").click()
    await expect(page.get_by_role("status").filter(has_text="Held actions released")).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Nothing is held.")).to_be_visible()

    async def removed() -> None:
        await page.goto(f"/workspaces/{ws}/store/people/{ids[1]}")
        await expect(account).to_contain_text("removed", timeout=2_000)

    await assert_eventually(removed, timeout=60)
