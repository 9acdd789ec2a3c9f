"""Admin use cases: workspaces, enabling SCIM on a portal, token rotation and revocation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from directory.adapters.postgres import tenants
from directory.domain.profiles import PROFILES
from directory.domain.tenancy import PORTALS, new_token
from directory.service_layer.unit_of_work import transaction


class AdminError(Exception):
    """A bad admin request; `code` names the gRPC status the servicer answers with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Credentials:
    connection: asyncpg.Record
    token: str


class AdminService:
    def __init__(self, pool: asyncpg.Pool, public_base_url: str) -> None:
        self.pool = pool
        self.public_base_url = public_base_url

    def base_url(self, connection_id: Any) -> str:
        return f"{self.public_base_url}/scim/v2/{connection_id}"

    async def create_workspace(self, name: str, if_missing: bool) -> asyncpg.Record:
        name = name.strip()
        if not name:
            raise AdminError("INVALID_ARGUMENT", "workspace name must not be empty")
        async with transaction(self.pool) as conn:
            row = await tenants.create_workspace(conn, name)
            if row is None:
                if not if_missing:
                    raise AdminError("ALREADY_EXISTS", f"workspace {name!r} already exists")
                row = await tenants.find_workspace(conn, name)
            assert row is not None
            return row

    async def workspace(self, ref: str) -> asyncpg.Record:
        async with self.pool.acquire() as conn:
            row = await tenants.find_workspace(conn, ref)
        if row is None:
            raise AdminError("NOT_FOUND", f"no workspace {ref!r}")
        return row

    async def list_workspaces(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await tenants.list_workspaces(conn)

    @staticmethod
    def _portal(portal: str) -> str:
        if portal not in PORTALS:
            raise AdminError("INVALID_ARGUMENT", f"portal must be one of {', '.join(PORTALS)}")
        return portal

    async def connection(self, workspace: str, portal: str) -> asyncpg.Record:
        ws = await self.workspace(workspace)
        async with self.pool.acquire() as conn:
            row = await tenants.find_connection(conn, ws["id"], self._portal(portal))
        if row is None:
            raise AdminError("NOT_FOUND", f"SCIM is not enabled for {portal} in {ws['name']!r}")
        return row

    @staticmethod
    def _profile(profile: str) -> str:
        if profile not in PROFILES:
            raise AdminError("INVALID_ARGUMENT", f"profile must be one of {', '.join(PROFILES)}")
        return profile

    async def enable(self, workspace: str, portal: str, profile: str = "") -> Credentials:
        """Enable SCIM and issue a token; earlier tokens stay valid (use rotate to retire them).

        `profile` pins the compatibility profile; empty keeps the connection's (`auto` when new)."""
        ws = await self.workspace(workspace)
        chosen = self._profile(profile) if profile else None
        token = new_token()
        async with transaction(self.pool) as conn:
            row = await tenants.upsert_connection(conn, ws["id"], self._portal(portal))
            if chosen is not None:
                await tenants.set_profile(conn, row["id"], chosen)
            await tenants.add_token(conn, row["id"], token)
            full = await tenants.find_connection(conn, ws["id"], portal)
        assert full is not None
        return Credentials(full, token)

    async def set_profile(self, workspace: str, portal: str, profile: str) -> asyncpg.Record:
        """Pin the connection's compatibility profile, or return it to `auto`; takes effect at once."""
        chosen = self._profile(profile)
        row = await self.connection(workspace, portal)
        async with transaction(self.pool) as conn:
            await tenants.set_profile(conn, row["id"], chosen)
        return await self.connection(workspace, portal)

    async def disable(self, workspace: str, portal: str) -> asyncpg.Record:
        """Cut access at once. Tokens are revoked too, so enabling again issues a fresh token and an old,
        possibly leaked, one never comes back to life."""
        row = await self.connection(workspace, portal)
        async with transaction(self.pool) as conn:
            await tenants.set_connection_enabled(conn, row["id"], False)
            await tenants.revoke_tokens(conn, row["id"])
        return await self.connection(workspace, portal)

    async def rotate(self, workspace: str, portal: str, overlap_seconds: float) -> Credentials:
        if overlap_seconds < 0:
            raise AdminError("INVALID_ARGUMENT", "overlap must not be negative")
        row = await self.connection(workspace, portal)
        token = new_token()
        async with transaction(self.pool) as conn:
            await tenants.expire_tokens(conn, row["id"], overlap_seconds)
            await tenants.add_token(conn, row["id"], token)
        return Credentials(await self.connection(workspace, portal), token)

    async def revoke(self, workspace: str, portal: str) -> int:
        row = await self.connection(workspace, portal)
        async with transaction(self.pool) as conn:
            return await tenants.revoke_tokens(conn, row["id"])

    async def connections(self, workspace: str) -> list[asyncpg.Record]:
        ws = await self.workspace(workspace)
        async with self.pool.acquire() as conn:
            return await tenants.list_connections(conn, ws["id"])

    async def users(self, workspace: str, portal: str) -> list[asyncpg.Record]:
        row = await self.connection(workspace, portal)
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT id, user_name, external_id, active, version, doc FROM directory.users "
                "WHERE connection_id = $1 ORDER BY seq",
                row["id"],
            )

    async def groups(self, workspace: str, portal: str) -> list[asyncpg.Record]:
        row = await self.connection(workspace, portal)
        async with self.pool.acquire() as conn:
            return await conn.fetch(
                """
                SELECT g.id, g.display_name, g.version,
                       (SELECT count(*) FROM directory.memberships m WHERE m.group_id = g.id) AS member_count
                  FROM directory.groups g WHERE g.connection_id = $1 ORDER BY g.seq
                """,
                row["id"],
            )

    async def set_custom_schema(self, workspace: str, portal: str, schema: dict[str, Any]) -> None:
        sid = schema.get("id")
        if not isinstance(sid, str) or not sid.lower().startswith("urn:"):
            raise AdminError("INVALID_ARGUMENT", "a custom schema needs an `id` that is a URN")
        if not isinstance(schema.get("attributes", []), list):
            raise AdminError("INVALID_ARGUMENT", "`attributes` must be a list")
        row = await self.connection(workspace, portal)
        current = [s for s in (row["custom_schemas"] or []) if str(s.get("id", "")).lower() != sid.lower()]
        async with transaction(self.pool) as conn:
            await tenants.set_custom_schemas(conn, row["id"], [*current, schema])
