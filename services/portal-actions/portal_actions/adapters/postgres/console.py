"""One portal account with its groups, for the console's person page (no full-portal listing)."""

from __future__ import annotations

from portal_actions.adapters.postgres import Conn
from portal_actions.adapters.postgres.accounts import account_of
from portal_actions.domain.admin_views import Account


async def account(conn: Conn, workspace_id: str, portal: str, user_id: str) -> Account | None:
    row = await conn.fetchrow(
        """
        SELECT a.*,
               coalesce((SELECT array_agg(g.display_name ORDER BY g.display_name)
                           FROM portal.group_members m JOIN portal.groups g ON g.group_id = m.group_id
                          WHERE m.user_id = a.user_id AND m.is_member AND NOT g.deleted), '{}') AS group_names
          FROM portal.accounts a
         WHERE a.workspace_id = $1 AND a.portal = $2 AND a.user_id = $3
        """,
        workspace_id,
        portal,
        user_id,
    )
    return account_of(row) if row is not None else None


async def remove_attribute_mapping(conn: Conn, workspace_id: str, portal: str, metadata_key: str) -> bool:
    result = await conn.execute(
        "DELETE FROM portal.attribute_mappings WHERE workspace_id = $1 AND portal = $2 AND metadata_key = $3",
        workspace_id,
        portal,
        metadata_key,
    )
    return result.split()[-1] != "0"
