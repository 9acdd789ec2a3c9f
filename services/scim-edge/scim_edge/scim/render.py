"""Finishing a directory resource for the wire: meta.location, $ref links and attribute projection."""

from __future__ import annotations

from typing import Any

from scim_core.kinds import ResourceKind
from scim_core.projection import project
from scim_core.schema import GROUP_RESOURCE, USER_RESOURCE, ResourceSchema

ENDPOINTS = {kind.value: kind.endpoint for kind in ResourceKind}
SCHEMAS: dict[str, ResourceSchema] = {ResourceKind.USER: USER_RESOURCE, ResourceKind.GROUP: GROUP_RESOURCE}


def render(
    resource: dict[str, Any], kind: str, base_url: str, attributes: tuple[str, ...], excluded: tuple[str, ...]
) -> dict[str, Any]:
    rid = resource.get("id", "")
    meta = resource.setdefault("meta", {})
    meta["location"] = f"{base_url}/{ENDPOINTS[kind]}/{rid}"
    for group in resource.get("groups") or ():
        group["$ref"] = f"{base_url}/Groups/{group['value']}"
    for member in resource.get("members") or ():
        member["$ref"] = f"{base_url}/{ENDPOINTS.get(member.get('type', 'User'), 'Users')}/{member['value']}"
    enterprise = resource.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    manager = enterprise.get("manager") if isinstance(enterprise, dict) else None
    if isinstance(manager, dict) and manager.get("value") and "$ref" not in manager:
        manager["$ref"] = f"{base_url}/Users/{manager['value']}"
    if not attributes and not excluded:
        return resource
    return project(resource, SCHEMAS[kind], list(attributes) or None, list(excluded) or None)
