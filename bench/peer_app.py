"""scim2-server as the peer: its ASGI application over `AsyncInMemoryStorage`, served by uvicorn.

Run as `uvicorn bench.peer_app:app --workers 1` (scim-peers.md §9). The dataset is loaded at import, through
the storage API, before uvicorn opens its port, so "port open" means "loaded". BENCH_PEER_USERS and
BENCH_PEER_GROUPS (comma-separated sizes) describe it; ids are the same uuid5 values as on our side.

The application is scim2-server's, unchanged, with its default configuration: `check_auth` accepts every
request (our edge checks a bearer token on each one, so auth work is on our side only).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from scim2_models import Resource, ResourceType
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.memory import AsyncInMemoryStorage, InMemoryStorage
from scim2_server.utils import load_default_provider

from bench.dataset import group_id, group_name, user_body, user_id, user_name


class _DeterministicIds(InMemoryStorage):
    """While the dataset loads: uuid5 ids from the unique name, the same rule as the dataset on our side.

    Afterwards ids are random again (the storage's default): the storage tells a duplicate from an update
    of the same resource by its id, so a deterministic id at runtime would let a duplicate POST through.
    """

    loading = True

    def generate_id(self, resource_type: ResourceType, resource: Resource[Any]) -> str:
        if not self.loading:
            return super().generate_id(resource_type, resource)
        if resource_type.name == "Group":
            return group_id(str(getattr(resource, "display_name", "")))
        return user_id(str(getattr(resource, "user_name", "")))


def build() -> ASGIApplication:
    storage = _DeterministicIds()
    application = ASGIApplication(AsyncInMemoryStorage(storage), load_default_provider())
    users = int(os.environ.get("BENCH_PEER_USERS", "0"))
    sizes = [int(s) for s in os.environ.get("BENCH_PEER_GROUPS", "").split(",") if s.strip()]
    started = time.perf_counter()
    service = application.service
    user_type = service.get_resource_type("User")
    user_model = service.get_model(user_type)
    for i in range(users):
        storage.create(user_type, user_model.model_validate(user_body(user_name(i), i)))
    group_type = service.get_resource_type("Group")
    group_model = service.get_model(group_type)
    for size in sizes:
        members = [{"value": user_id(user_name(i))} for i in range(size)]
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": group_name(size),
            "members": members,
        }
        storage.create(group_type, group_model.model_validate(body))
    storage.loading = False
    print(
        f"peer loaded {users} users, groups {sizes} in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
        flush=True,
    )
    return application


app = build()
