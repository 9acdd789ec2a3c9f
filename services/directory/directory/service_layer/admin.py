"""Admin use cases: workspaces, enabling SCIM on a portal, token rotation and revocation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from scim_core.kinds import PORTAL_NAMES

from directory.domain.admin import (
    Connection,
    Credentials,
    GroupSummary,
    OutboxBacklog,
    UserSummary,
    Workspace,
)
from directory.domain.profiles import PROFILES
from directory.domain.tenancy import new_token
from directory.errors import AlreadyExists, InvalidRequest, NotFound
from directory.service_layer.unit_of_work import AdminUnitsOfWork


class AdminService:
    def __init__(
        self,
        units: AdminUnitsOfWork,
        public_base_url: str,
        credentials_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.units = units
        # Every replica's token cache is emptied by the database's NOTIFY, which arrives a moment after
        # the commit; this replica's own cache is emptied at once, so a token it revoked is refused by the
        # very next request it serves (the other replicas follow within the NOTIFY's delivery time).
        self._credentials_changed = credentials_changed
        self.public_base_url = public_base_url

    def base_url(self, connection_id: uuid.UUID | str) -> str:
        return f"{self.public_base_url}/scim/v2/{connection_id}"

    async def create_workspace(self, name: str, if_missing: bool) -> Workspace:
        name = name.strip()
        if not name:
            raise InvalidRequest("workspace name must not be empty")
        async with self.units(transactional=True) as uow:
            ws = await uow.tenants.create_workspace(name)
            if ws is None:
                if not if_missing:
                    raise AlreadyExists(f"workspace {name!r} already exists")
                ws = await uow.tenants.find_workspace(name)
            assert ws is not None
            return ws

    async def workspace(self, ref: str) -> Workspace:
        async with self.units() as uow:
            ws = await uow.tenants.find_workspace(ref)
        if ws is None:
            raise NotFound(f"no workspace {ref!r}")
        return ws

    async def list_workspaces(self) -> list[Workspace]:
        async with self.units() as uow:
            return await uow.tenants.list_workspaces()

    @staticmethod
    def _portal(portal: str) -> str:
        if portal not in PORTAL_NAMES:
            raise InvalidRequest(f"portal must be one of {', '.join(PORTAL_NAMES)}")
        return portal

    async def connection(self, workspace: str, portal: str) -> Connection:
        ws = await self.workspace(workspace)
        async with self.units() as uow:
            found = await uow.tenants.find_connection(ws.id, self._portal(portal))
        if found is None:
            raise NotFound(f"SCIM is not enabled for {portal} in {ws.name!r}")
        return found

    @staticmethod
    def _profile(profile: str) -> str:
        if profile not in PROFILES:
            raise InvalidRequest(f"profile must be one of {', '.join(PROFILES)}")
        return profile

    async def enable(self, workspace: str, portal: str, profile: str = "") -> Credentials:
        """Enable SCIM and issue a token; earlier tokens stay valid (use rotate to retire them).

        `profile` pins the compatibility profile; empty keeps the connection's (`auto` when new)."""
        ws = await self.workspace(workspace)
        chosen = self._profile(profile) if profile else None
        token = new_token()
        async with self.units(transactional=True) as uow:
            connection_id = await uow.tenants.upsert_connection(ws.id, self._portal(portal))
            if chosen is not None:
                await uow.tenants.set_profile(connection_id, chosen)
            await uow.tenants.add_token(connection_id, token)
            full = await uow.tenants.find_connection(ws.id, portal)
        assert full is not None
        return Credentials(full, token)

    async def set_profile(self, workspace: str, portal: str, profile: str) -> Connection:
        """Pin the connection's compatibility profile, or return it to `auto`; takes effect at once."""
        chosen = self._profile(profile)
        found = await self.connection(workspace, portal)
        async with self.units(transactional=True) as uow:
            await uow.tenants.set_profile(found.id, chosen)
        self._credentials_changed()
        return await self.connection(workspace, portal)

    async def disable(self, workspace: str, portal: str) -> Connection:
        """Cut access at once. Tokens are revoked too, so enabling again issues a fresh token and an old,
        possibly leaked, one never comes back to life."""
        found = await self.connection(workspace, portal)
        async with self.units(transactional=True) as uow:
            await uow.tenants.set_connection_enabled(found.id, False)
            await uow.tenants.revoke_tokens(found.id)
        self._credentials_changed()
        return await self.connection(workspace, portal)

    async def rotate(self, workspace: str, portal: str, overlap_seconds: float) -> Credentials:
        if overlap_seconds < 0:
            raise InvalidRequest("overlap must not be negative")
        found = await self.connection(workspace, portal)
        token = new_token()
        async with self.units(transactional=True) as uow:
            await uow.tenants.expire_tokens(found.id, overlap_seconds)
            await uow.tenants.add_token(found.id, token)
        self._credentials_changed()
        return Credentials(await self.connection(workspace, portal), token)

    async def revoke(self, workspace: str, portal: str) -> int:
        found = await self.connection(workspace, portal)
        async with self.units(transactional=True) as uow:
            revoked = await uow.tenants.revoke_tokens(found.id)
        self._credentials_changed()
        return revoked

    async def connections(self, workspace: str) -> list[Connection]:
        ws = await self.workspace(workspace)
        async with self.units() as uow:
            return await uow.tenants.list_connections(ws.id)

    async def users(self, workspace: str, portal: str) -> list[UserSummary]:
        found = await self.connection(workspace, portal)
        async with self.units() as uow:
            return await uow.listing.users(found.id)

    async def groups(self, workspace: str, portal: str) -> list[GroupSummary]:
        found = await self.connection(workspace, portal)
        async with self.units() as uow:
            return await uow.listing.groups(found.id)

    async def set_custom_schema(self, workspace: str, portal: str, schema: dict[str, Any]) -> None:
        sid = schema.get("id")
        if not isinstance(sid, str) or not sid.lower().startswith("urn:"):
            raise InvalidRequest("a custom schema needs an `id` that is a URN")
        if not isinstance(schema.get("attributes", []), list):
            raise InvalidRequest("`attributes` must be a list")
        found = await self.connection(workspace, portal)
        current = [s for s in found.custom_schemas if str(s.get("id", "")).lower() != sid.lower()]
        async with self.units(transactional=True) as uow:
            await uow.tenants.set_custom_schemas(found.id, [*current, schema])

    async def outbox_backlog(self) -> OutboxBacklog:
        async with self.units() as uow:
            return await uow.listing.outbox_backlog()
