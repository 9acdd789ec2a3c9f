"""The mass-deactivation guard's thresholds, per connection.

An IdP misconfiguration (an unassigned Okta group, a changed Entra scoping filter) can deactivate hundreds
of users in a minute; Entra quarantines a job above a deletion threshold and Okta pauses imports above
20 % unassignments. On the side that applies the effects, the guard holds a connection's destructive
actions (remove account, unassign, re-policy or delete devices) once more than `max_actions` of them, or
more than `max_percent` of the portal's active accounts, were applied within `window_seconds`.

The share only counts from `SHARE_FLOOR` actions on: in a portal of a handful of accounts one departure is
already more than 10 %, and holding it would make the guard a nuisance that admins turn off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from portal_actions.domain.behaviour import InvalidBehaviour

SHARE_FLOOR = 10


@dataclass(frozen=True)
class GuardPolicy:
    enabled: bool = True
    max_actions: int = 50
    max_percent: float = 10.0
    window_seconds: int = 3600

    def validate(self) -> GuardPolicy:
        if self.max_actions < 1:
            raise InvalidBehaviour(f"max actions must be at least 1, not {self.max_actions}")
        if not 0 < self.max_percent <= 100 or math.isnan(self.max_percent):
            raise InvalidBehaviour(f"max percent must be above 0 and at most 100, not {self.max_percent}")
        if self.window_seconds < 1:
            raise InvalidBehaviour(f"the window must be at least 1 second, not {self.window_seconds}")
        return self

    def threshold(self, active_accounts: int) -> int:
        """How many destructive actions the window admits before holding, for a portal of this size."""
        share = max(math.floor(self.max_percent / 100 * active_accounts), SHARE_FLOOR)
        return min(self.max_actions, share)


DEFAULT_GUARD = GuardPolicy()
GUARD_OFF = GuardPolicy(enabled=False)
