"""An Okta-shaped provisioning load (idp-clients §1.5 to §1.8) and the model of what it was told succeeded.

Workers run concurrently; each one alone writes the users and groups it created, so the acknowledged
operations on one resource are ordered and the expected final state is exact. Group pushes use any user
already acknowledged by any worker (users are never deleted: Okta never sends DELETE for users).
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.client import Client

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass
class UserModel:
    user_name: str
    id: str
    active: bool = True
    display_name: str = ""
    title: str = ""
    activations: int = 1  # each inactive -> active transition, creation included, is one portal "create"
    deactivations: int = 0  # each active -> inactive transition is one portal "remove"
    joins: int = 0  # each time the user became a member of a group: one portal "add-to-group"
    leaves: int = 0  # each time the user stopped being one (group deletion included): "remove-from-group"
    version: int = 1


@dataclass
class GroupModel:
    display_name: str
    id: str
    members: set[str] = field(default_factory=set)
    deleted: bool = False
    renames: int = 0
    version: int = 1


@dataclass
class Model:
    users: dict[str, UserModel] = field(default_factory=dict)
    groups: dict[str, GroupModel] = field(default_factory=dict)
    writes: int = 0  # acknowledged write operations
    target: int = 0
    progressed: asyncio.Event = field(default_factory=asyncio.Event)
    # The load runs on past `target` until the fault injector is through, so that no fault hits an idle
    # system.
    faults_done: bool = True

    @property
    def done(self) -> bool:
        return self.writes >= self.target and self.faults_done

    async def reached(self, writes: int) -> None:
        while self.writes < writes:
            self.progressed.clear()
            await self.progressed.wait()


def _patch(*ops: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_URN], "Operations": list(ops)}


class Worker:
    def __init__(self, n: int, client: Client, model: Model, run: str, seed: int) -> None:
        self.n, self.client, self.model, self.run = n, client, model, run
        self.rng = random.Random(seed)
        self.users: list[UserModel] = []
        self.groups: list[GroupModel] = []
        self.serial = 0

    def _name(self, kind: str) -> str:
        self.serial += 1
        return f"{kind}-{self.run}-{self.n}-{self.serial}"

    def _acked(self) -> None:
        self.model.writes += 1
        self.model.progressed.set()

    def _set_members(self, group: GroupModel, members: set[str]) -> None:
        for uid in members - group.members:
            self.model.users[uid].joins += 1
        for uid in group.members - members:
            self.model.users[uid].leaves += 1
        group.members = members

    async def run_until_done(self) -> None:
        while not self.model.done:
            await self.step()

    async def step(self) -> None:
        live_groups = [g for g in self.groups if not g.deleted]
        roll = self.rng.random()
        if len(self.users) < 3 or roll < 0.28:
            await self.create_user()
        elif roll < 0.40:
            await self.set_active(self.rng.choice(self.users), False)
        elif roll < 0.47:
            await self.set_active(self.rng.choice(self.users), True)
        elif roll < 0.56:
            await self.update_profile(self.rng.choice(self.users))
        elif not live_groups or roll < 0.61:
            await self.create_group()
        elif roll < 0.82:
            await self.push_membership(self.rng.choice(live_groups))
        elif roll < 0.89:
            await self.put_group(self.rng.choice(live_groups))
        elif roll < 0.97:
            await self.replace_members(self.rng.choice(live_groups))
        else:
            await self.delete_group(self.rng.choice(live_groups))

    # -- users ---------------------------------------------------------------------------------------

    async def _find(self, kind: str, attr: str, value: str) -> dict[str, Any] | None:
        reply = await self.client.call(
            "GET", f"/{kind}", params={"filter": f'{attr} eq "{value}"', "startIndex": "1", "count": "100"}
        )
        found = reply.body["Resources"]
        assert len(found) <= 1, f"duplicate {kind} for {value}: {found}"
        return found[0] if found else None

    async def create_user(self) -> None:
        name = f"{self._name('u')}@load.test"
        assert await self._find("Users", "userName", name) is None
        reply = await self.client.call(
            "POST",
            "/Users",
            {
                "schemas": [USER_URN],
                "userName": name,
                "name": {"givenName": "Load", "familyName": str(self.serial)},
                "emails": [{"primary": True, "value": name, "type": "work"}],
                "displayName": name,
                "externalId": f"okta-{name}",
                "groups": [],
                "password": "pw-1234",
                "active": True,
            },
            accept=frozenset({409}),
        )
        if reply.status == 409:
            # Only an earlier attempt of this very call may have created it; then adopt that user.
            assert reply.uncertain, f"409 on a first-time create of {name}: {reply.body}"
            found = await self._find("Users", "userName", name)
            assert found is not None, f"409 for {name} but no such user"
            user = UserModel(name, found["id"], display_name=name, version=_meta_version(found))
        else:
            user = UserModel(name, reply.body["id"], display_name=name, version=reply.version)
        self.users.append(user)
        self.model.users[user.id] = user
        self._acked()

    async def set_active(self, user: UserModel, active: bool) -> None:
        if self.rng.random() < 0.5:
            # OIN apps: a PATCH with no path and an object value (idp-clients §1.7).
            reply = await self.client.call(
                "PATCH", f"/Users/{user.id}", _patch({"op": "replace", "value": {"active": active}})
            )
        else:
            # AIW apps: GET, then PUT the whole user back with `active` changed.
            current = (await self.client.call("GET", f"/Users/{user.id}")).body
            current["active"] = active
            reply = await self.client.call("PUT", f"/Users/{user.id}", current)
        assert reply.body["active"] is active, reply.body
        if user.active and not active:
            user.deactivations += 1
        elif not user.active and active:
            user.activations += 1
        user.active = active
        user.version = reply.version
        self._acked()

    async def update_profile(self, user: UserModel) -> None:
        current = (await self.client.call("GET", f"/Users/{user.id}")).body
        title = f"title-{self.rng.randrange(1000)}"
        display = f"{user.user_name} ({self.rng.randrange(1000)})"
        current.update({"title": title, "displayName": display})
        reply = await self.client.call("PUT", f"/Users/{user.id}", current)
        assert reply.body["title"] == title, reply.body
        user.title, user.display_name, user.version = title, display, reply.version
        self._acked()

    # -- groups (Push Groups, idp-clients §1.8) ----------------------------------------------------------

    def _some_users(self, k: int) -> list[UserModel]:
        pool = list(self.model.users.values())
        return self.rng.sample(pool, min(k, len(pool)))

    async def create_group(self) -> None:
        name = self._name("grp")
        assert await self._find("Groups", "displayName", name) is None
        reply = await self.client.call(
            "POST",
            "/Groups",
            {"schemas": [GROUP_URN], "displayName": name, "members": []},
            accept=frozenset({409}),
        )
        if reply.status == 409:
            assert reply.uncertain, f"409 on a first-time create of group {name}: {reply.body}"
            found = await self._find("Groups", "displayName", name)
            assert found is not None
            group = GroupModel(name, found["id"], version=_meta_version(found))
        else:
            group = GroupModel(name, reply.body["id"], version=reply.version)
        self.groups.append(group)
        self.model.groups[group.id] = group
        self._acked()

    async def push_membership(self, group: GroupModel) -> None:
        """Okta's incremental push: remove and add in one PATCH, then the rename PATCH it always sends."""
        removed = self.rng.sample(sorted(group.members), min(len(group.members), self.rng.randrange(3)))
        added = [u for u in self._some_users(3) if u.id not in group.members]
        ops: list[dict[str, Any]] = [{"op": "remove", "path": f'members[value eq "{u}"]'} for u in removed]
        if added:
            ops.append(
                {
                    "op": "add",
                    "path": "members",
                    "value": [{"value": u.id, "display": u.user_name} for u in added],
                }
            )
        if not ops:
            return
        reply = await self.client.call("PATCH", f"/Groups/{group.id}", _patch(*ops))
        self._set_members(group, (group.members - set(removed)) | {u.id for u in added})
        group.version = reply.version
        self._acked()
        if self.rng.random() < 0.25:
            group.display_name = self._name("grp")
            group.renames += 1
        reply = await self.client.call(
            "PATCH",
            f"/Groups/{group.id}",
            _patch({"op": "replace", "value": {"id": group.id, "displayName": group.display_name}}),
        )
        group.version = reply.version
        self._acked()

    async def replace_members(self, group: GroupModel) -> None:
        chosen = self._some_users(self.rng.randrange(5))
        reply = await self.client.call(
            "PATCH",
            f"/Groups/{group.id}",
            _patch(
                {
                    "op": "replace",
                    "path": "members",
                    "value": [{"value": u.id, "display": u.user_name} for u in chosen],
                }
            ),
        )
        self._set_members(group, {u.id for u in chosen})
        group.version = reply.version
        self._acked()

    async def put_group(self, group: GroupModel) -> None:
        chosen = self._some_users(self.rng.randrange(6))
        reply = await self.client.call(
            "PUT",
            f"/Groups/{group.id}",
            {
                "schemas": [GROUP_URN],
                "displayName": group.display_name,
                "members": [{"value": u.id, "display": u.user_name} for u in chosen],
            },
        )
        self._set_members(group, {u.id for u in chosen})
        group.version = reply.version
        self._acked()

    async def delete_group(self, group: GroupModel) -> None:
        reply = await self.client.call("DELETE", f"/Groups/{group.id}", accept=frozenset({404}))
        assert reply.status == 204 or reply.uncertain, f"404 deleting a live group: {reply.body}"
        self._set_members(group, set())
        group.deleted = True
        group.version += 1  # the Deleted event carries the next version
        self._acked()


def _meta_version(resource: dict[str, Any]) -> int:
    return int(resource["meta"]["version"].removeprefix("W/").strip('"'))


async def run_load(clients: list[Client], model: Model, run: str, seed: int = 7) -> None:
    workers = [Worker(i, c, model, run, seed + i) for i, c in enumerate(clients)]
    await asyncio.gather(*(w.run_until_done() for w in workers))
