"""MDM devices and policies of a workspace: add, assign, change policy, remove."""

from __future__ import annotations

from aiohttp import web
from scimsuite.portal.v1 import portal_pb2

from admin_console.adapters.backend import NotFound, Rejected
from admin_console.entrypoints.http.context import BACKEND, audit, workspace
from admin_console.entrypoints.http.render import page, redirect


async def _page(
    request: web.Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    backend = request.app[BACKEND]
    ws = await workspace(request)
    devices = await backend.call(
        backend.portal.ListDevices, portal_pb2.ListDevicesRequest(workspace_id=ws.id)
    )
    policies = await backend.call(
        backend.portal.ListPolicies, portal_pb2.ListPoliciesRequest(workspace_id=ws.id)
    )
    return page(
        request,
        "devices.html",
        {
            "workspace": ws,
            "devices": list(devices.devices),
            "policies": [x.name for x in policies.policies],
            "errors": errors or {},
            "values": values or {},
        },
        status,
    )


async def devices(request: web.Request) -> web.Response:
    return await _page(request)


async def change(request: web.Request) -> web.Response:
    """One endpoint for the page's forms, told apart by their `op` field."""
    backend = request.app[BACKEND]
    ws = await workspace(request)
    form = {k: str(v).strip() for k, v in (await request.post()).items()}
    op = form.get("op", "")
    serial, policy, user = form.get("serial", ""), form.get("policy", ""), form.get("user_name", "")
    try:
        if op == "add-policy":
            if not form.get("name"):
                return await _page(request, {"name": "Enter the policy's name."}, form, 400)
            await backend.call(
                backend.portal.AddPolicy,
                portal_pb2.AddPolicyRequest(policy=portal_pb2.Policy(workspace_id=ws.id, name=form["name"])),
            )
            notice, target = "policy-added", form["name"]
        elif op == "remove-policy":
            await backend.call(
                backend.portal.RemovePolicy,
                portal_pb2.RemovePolicyRequest(workspace_id=ws.id, name=form.get("name", "")),
            )
            notice, target = "policy-removed", form.get("name", "")
        elif op == "add-device":
            if not serial:
                return await _page(request, {"serial": "Enter the device's serial number."}, form, 400)
            await backend.call(
                backend.portal.AddDevice,
                portal_pb2.AddDeviceRequest(
                    device=portal_pb2.Device(workspace_id=ws.id, serial=serial, user_name=user, policy=policy)
                ),
            )
            notice, target = "device-added", serial
        elif op == "assign":
            await backend.call(
                backend.portal.AssignDevice,
                portal_pb2.AssignDeviceRequest(workspace_id=ws.id, serial=serial, user_name=user),
            )
            notice, target = "device-updated", serial
        elif op == "policy":
            await backend.call(
                backend.portal.SetDevicePolicy,
                portal_pb2.SetDevicePolicyRequest(workspace_id=ws.id, serial=serial, policy=policy),
            )
            notice, target = "device-updated", serial
        elif op == "remove-device":
            await backend.call(
                backend.portal.RemoveDevice, portal_pb2.RemoveDeviceRequest(workspace_id=ws.id, serial=serial)
            )
            notice, target = "device-removed", serial
        else:
            return await _page(request, {"op": "Unknown action."}, form, 400)
    except (Rejected, NotFound) as exc:
        field = "name" if "policy" in op else "serial"
        return await _page(request, {field: str(exc)}, form, 400)
    await audit(request, ws.id, f"mdm.{op}", target, policy or user)
    raise redirect(f"/workspaces/{ws.id}/devices", notice)
