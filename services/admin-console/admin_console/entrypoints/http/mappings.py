"""Role mapping (Dashboard) and attribute mapping (every portal)."""

from __future__ import annotations

from aiohttp import web
from scimsuite.console.v1 import console_pb2
from scimsuite.portal.v1 import portal_pb2

from admin_console.adapters.backend import NotFound, Rejected
from admin_console.domain.portals import MAPPED_ROLES
from admin_console.entrypoints.http.context import BACKEND, audit, name_of, portal, workspace
from admin_console.entrypoints.http.render import page, redirect


async def _roles_page(
    request: web.Request, errors: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    backend = request.app[BACKEND]
    ws = await workspace(request)
    mappings = {
        m.group.lower(): m.role
        for m in (
            await backend.call(
                backend.portal.ListRoleMappings, portal_pb2.ListRoleMappingsRequest(workspace_id=ws.id)
            )
        ).mappings
    }
    # The groups the IdP pushed to the Dashboard, each with its mapped role (if any).
    pushed = await backend.call(
        backend.portal.ListGroups, portal_pb2.ListGroupsRequest(workspace_id=ws.id, portal="dashboard")
    )
    # Mappings match case-insensitively (portal-actions keeps them lower-cased); show the IdP's spelling.
    names = {g.display_name.lower(): g.display_name for g in pushed.groups}
    for key in mappings:
        names.setdefault(key, key)
    groups = [
        {"name": names[k], "role": mappings.get(k, "")} for k in sorted(names, key=lambda k: names[k].lower())
    ]
    return page(
        request,
        "roles.html",
        {"workspace": ws, "groups": groups, "roles": MAPPED_ROLES, "errors": errors or {}},
        status,
    )


async def roles(request: web.Request) -> web.Response:
    return await _roles_page(request)


async def map_role(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    ws = await workspace(request)
    form = await request.post()
    group = str(form.get("group", "")).strip()
    role = str(form.get("role", "")).strip()
    if not group:
        return await _roles_page(request, {"group": "Name the group."}, 400)
    if role not in {r.value for r in MAPPED_ROLES}:
        return await _roles_page(request, {f"role:{group}": "Choose a role.", "role": "Choose a role."}, 400)
    try:
        await backend.call(
            backend.portal.MapRole,
            portal_pb2.MapRoleRequest(
                mapping=portal_pb2.RoleMapping(workspace_id=ws.id, group=group, role=role)
            ),
        )
    except Rejected as exc:
        return await _roles_page(request, {"role": str(exc)}, 400)
    await audit(request, ws.id, "role.map", group, role)
    raise redirect(f"/workspaces/{ws.id}/roles", "role-mapped")


async def _attributes_page(
    request: web.Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    reply = await backend.call(
        backend.portal.ListAttributeMappings,
        portal_pb2.ListAttributeMappingsRequest(workspace_id=p.workspace.id, portal=p.portal),
    )
    return page(
        request,
        "attributes.html",
        {
            "p": p,
            "portal_name": name_of(p),
            "mappings": list(reply.mappings),
            "errors": errors or {},
            "values": values or {},
        },
        status,
    )


async def attributes(request: web.Request) -> web.Response:
    return await _attributes_page(request)


async def map_attribute(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    form = await request.post()
    attribute = str(form.get("scim_attribute", "")).strip()
    key = str(form.get("metadata_key", "")).strip()
    values = {"scim_attribute": attribute, "metadata_key": key}
    errors = {}
    if not attribute:
        errors["scim_attribute"] = (
            "Enter the SCIM attribute, e.g. title or urn:…:enterprise:2.0:User:department."
        )
    if not key:
        errors["metadata_key"] = "Enter the metadata key it lands in."
    if errors:
        return await _attributes_page(request, errors, values, 400)
    try:
        await backend.call(
            backend.portal.MapAttribute,
            portal_pb2.MapAttributeRequest(
                mapping=portal_pb2.AttributeMapping(
                    workspace_id=p.workspace.id, portal=p.portal, scim_attribute=attribute, metadata_key=key
                )
            ),
        )
    except Rejected as exc:
        field = "metadata_key" if "key" in str(exc).lower() else "scim_attribute"
        return await _attributes_page(request, {field: str(exc)}, values, 400)
    await audit(request, p.workspace.id, "attribute.map", p.portal, f"{attribute} → {key}")
    raise redirect(f"/workspaces/{p.workspace.id}/{p.portal}/attributes", "attribute-mapped")


async def remove_attribute(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    p = await portal(request)
    key = str((await request.post()).get("metadata_key", "")).strip()
    try:
        await backend.call(
            backend.console_portal.RemoveAttributeMapping,
            console_pb2.RemoveAttributeMappingRequest(
                workspace_id=p.workspace.id, portal=p.portal, metadata_key=key
            ),
        )
    except NotFound:
        return await _attributes_page(request, {"remove": f"There is no mapping to {key!r}."}, None, 400)
    await audit(request, p.workspace.id, "attribute.remove", p.portal, key)
    raise redirect(f"/workspaces/{p.workspace.id}/{p.portal}/attributes", "attribute-removed")
