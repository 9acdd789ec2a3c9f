"""Recording what one event did to a portal: the audit entries and the list the consumer logs."""

from __future__ import annotations

from portal_actions.adapters.postgres import Conn, audit
from portal_actions.domain.events import DirectoryEvent


def cause_of(event: DirectoryEvent) -> audit.Cause:
    return audit.Cause(
        workspace_id=event.workspace_id,
        portal=event.portal,
        reason=event.reason,
        event_id=event.event_id,
        request_id=event.request_id,
    )


class UserActions:
    """Audits the actions one event applied to one user's account."""

    def __init__(self, conn: Conn, event: DirectoryEvent, user_id: str, user_name: str) -> None:
        self.conn = conn
        self.cause = cause_of(event)
        self.user_id = user_id
        self.user_name = user_name
        self.done: list[str] = []

    async def record(self, action: str, result: str = "applied", detail: str = "") -> None:
        self.done.append(action if result == "applied" else f"{action}:{result}")
        await audit.record(
            self.conn,
            self.cause,
            action=action,
            result=result,
            detail=detail,
            user_id=self.user_id,
            user_name=self.user_name,
        )
