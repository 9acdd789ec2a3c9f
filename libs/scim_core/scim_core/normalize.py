"""Turn a client's resource body (POST or PUT) into the canonical stored document.

RFC 7643 §2.1 makes attribute names case-insensitive and RFC 7644 §3.3 / §3.5.1 let a service
provider ignore what it cannot store, so the rules here are lenient on shape and strict on values:

* names are mapped to their schema spelling at every level (`"Primary"` -> `primary`);
* `null`, `""` and `[]` mean "absent" (RFC 7643 §2.5 treats unassigned and null alike);
* readOnly attributes (`id`, `meta`, `groups`) and the writeOnly `password` are never stored;
* values are coerced to their schema type, and a value that cannot be coerced is `invalidValue`;
* `schemas` is recomputed from the extension objects that are actually present.

The functions `normalize_value` and `normalize_element` are shared with the PATCH engine so that a
value arriving through PATCH is coerced exactly as it would be in a PUT.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from scim_core.errors import InvalidSyntax, InvalidValue
from scim_core.schema.model import Attribute, ResourceSchema, Schema
from scim_core.schema.resources import COMMON_ATTRIBUTES

# Attributes that clients send as a bare id instead of the RFC 7643 complex form: Entra sends the
# enterprise `manager` as a string (idp-clients §2.7), and Microsoft's Postman suite sends a group
# member as a plain string (idp-clients §2.11). Both carry a `value` sub-attribute.
_BARE_ID_ATTRIBUTES = frozenset({"manager", "members"})

# Group members keep the `value`, `display` and `type` the client sent; `$ref` is derived on output.
_MEMBERS = "members"

# Clients may echo these back (Okta's GET->PUT does, idp-clients §1.6) but the server owns them.
_NOT_STORED = frozenset({"readOnly", "writeOnly"})

_TRUE_FALSE = {"true": True, "false": False}

# RFC 7643 §3.1: `id`, `externalId` and `meta` belong to every resource but to no schema.
_COMMON = Schema(
    id="", name="common", description="RFC 7643 §3.1 common attributes", attributes=COMMON_ATTRIBUTES
)


def normalize_resource(body: dict[str, Any], resource: ResourceSchema) -> dict[str, Any]:
    """The canonical stored form of a User or Group body (RFC 7644 §3.3 create, §3.5.1 replace).

    Returns a new dict and never mutates `body`. Raises `InvalidValue` for uncoercible values and
    for a missing required attribute (`userName`, `displayName`), `InvalidSyntax` for a non-object.
    """
    if not isinstance(body, dict):
        raise InvalidSyntax("the resource body must be a JSON object")
    listed = _listed_schemas(body)
    core: dict[str, Any] = {}
    extensions: dict[str, dict[str, Any]] = {}
    custom: dict[str, Any] = {}
    for key, raw in body.items():
        if raw is None or key.lower() == "schemas":
            continue
        attr = core_attribute(resource, key)
        if attr is not None:
            _put(core, attr, raw, attr.name)
            continue
        ext = resource.extension(key)
        if ext is not None:
            _put_extension(extensions.setdefault(ext.id, {}), ext, raw)
            continue
        qualified = _qualified_attribute(resource, key)
        if qualified is not None:
            schema, qattr = qualified
            target = core if schema is resource.core else extensions.setdefault(schema.id, {})
            _put(target, qattr, raw, f"{schema.id}:{qattr.name}")
            continue
        if key.lower().startswith("urn:") or key.lower() in listed:
            # A custom extension this connection never declared: keep it as sent so it round-trips
            # (Okta sends arbitrary `externalNamespace` URNs, idp-clients §1.9).
            custom[key] = copy.deepcopy(raw)
        # Anything else is an unknown core attribute; RFC 7644 §3.3 lets us ignore it, and Microsoft's
        # validator expects a misspelled attribute to be ignored (checklist 37).
    _check_required(resource.core, core, resource.core.name)
    present = {urn: obj for urn, obj in extensions.items() if obj}
    for urn, obj in present.items():
        ext_schema = resource.extension(urn)
        if ext_schema is not None:
            _check_required(ext_schema, obj, urn)
    return {"schemas": [resource.core.id, *present, *custom], **core, **present, **custom}


def core_attribute(resource: ResourceSchema, name: str) -> Attribute | None:
    """A top-level attribute: one of the RFC 7643 §3.1 common attributes or of the core schema."""
    return _COMMON.attribute(name) or resource.core.attribute(name)


def normalize_value(attr: Attribute, raw: Any, *, where: str) -> Any:
    """Coerce a whole attribute value to its schema type; `None` means the attribute is absent.

    Multi-valued attributes accept a single element and wrap it (RFC 7644 §3.5.2.1 lets a client
    send one value); a single-valued attribute accepts a one-element list, which is how Entra sends
    `manager` in PATCH (idp-clients §2.7).
    """
    if raw is None:
        return None
    if attr.multi_valued:
        items = raw if isinstance(raw, list) else [raw]
        values: list[Any] = []
        seen: dict[str, int] = {}
        for item in items:
            value = normalize_element(attr, item, where=where)
            if value is None:
                continue
            # RFC 7643 §2.4 forbids duplicate values; a JSON fingerprint keeps this linear for the
            # thousand-member groups Okta pushes (checklist 8). A member is one per id: a repeat keeps
            # the first one's place and the last one's display and type, as a PATCH add does.
            fingerprint = value["value"] if attr.name == _MEMBERS else json.dumps(value, sort_keys=True)
            if fingerprint in seen:
                if attr.name == _MEMBERS:
                    values[seen[fingerprint]] = value
                continue
            seen[fingerprint] = len(values)
            values.append(value)
        _one_primary(values)
        return values or None
    if isinstance(raw, list):
        if len(raw) > 1:
            raise InvalidValue(f"{where} is single-valued but {len(raw)} values were given")
        return normalize_element(attr, raw[0], where=where) if raw else None
    return normalize_element(attr, raw, where=where)


def normalize_element(attr: Attribute, raw: Any, *, where: str) -> Any:
    """Coerce one value (one element of a multi-valued attribute); `None` means absent."""
    if raw is None:
        return None
    if attr.is_complex:
        return _complex(attr, raw, where)
    return _simple(attr, raw, where)


def _put(target: dict[str, Any], attr: Attribute, raw: Any, where: str) -> None:
    if attr.mutability in _NOT_STORED:
        return
    value = normalize_value(attr, raw, where=where)
    if value is not None:
        target[attr.name] = value


def _put_extension(target: dict[str, Any], ext: Schema, raw: Any) -> None:
    if not isinstance(raw, dict):
        raise InvalidValue(f"{ext.id} must be a JSON object")
    for key, value in raw.items():
        attr = ext.attribute(key)
        if attr is not None:
            _put(target, attr, value, f"{ext.id}:{attr.name}")


def _qualified_attribute(resource: ResourceSchema, key: str) -> tuple[Schema, Attribute] | None:
    """Resolve a URN-qualified name such as `urn:...:core:2.0:User:userName` (RFC 7644 §3.10)."""
    low = key.lower()
    for schema in (resource.core, *resource.extensions):
        prefix = schema.id.lower() + ":"
        if low.startswith(prefix):
            name = key[len(prefix) :]
            attr = core_attribute(resource, name) if schema is resource.core else schema.attribute(name)
            return (schema, attr) if attr is not None else None
    return None


def _complex(attr: Attribute, raw: Any, where: str) -> dict[str, Any] | None:
    is_members = attr.name == _MEMBERS
    if isinstance(raw, dict):
        out: dict[str, Any] = {}
        for key, value in raw.items():
            sub = attr.sub(key)
            if sub is None or sub.mutability in _NOT_STORED or (is_members and sub.name == "$ref"):
                continue
            coerced = normalize_value(sub, value, where=f"{where}.{sub.name}")
            if coerced is not None:
                out[sub.name] = coerced
    elif attr.name in _BARE_ID_ATTRIBUTES and _is_scalar_id(raw):
        out = {"value": str(raw)} if str(raw) else {}
    else:
        raise InvalidValue(f"{where} must be a JSON object")
    if is_members and "value" not in out:
        raise InvalidValue(f"{where}.value is required for every member")
    return out or None


def _is_scalar_id(raw: Any) -> bool:
    return isinstance(raw, str) or (isinstance(raw, int) and not isinstance(raw, bool))


def _simple(attr: Attribute, raw: Any, where: str) -> Any:
    if attr.type == "boolean":
        return _boolean(raw, where)
    if attr.type == "integer":
        return _integer(raw, where)
    if attr.type == "decimal":
        return _decimal(raw, where)
    # string, reference, dateTime and binary are all carried as JSON strings.
    if isinstance(raw, str):
        return raw or None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return str(raw)
    raise InvalidValue(f"{where} must be a string")


def _boolean(raw: Any, where: str) -> bool:
    if isinstance(raw, bool):
        return raw
    # Entra sends "True"/"False" strings for `active` by design (idp-clients §2.6, checklist 28).
    if isinstance(raw, str) and raw.strip().lower() in _TRUE_FALSE:
        return _TRUE_FALSE[raw.strip().lower()]
    raise InvalidValue(f"{where} must be a boolean")


def _integer(raw: Any, where: str) -> int:
    if isinstance(raw, bool):
        raise InvalidValue(f"{where} must be an integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise InvalidValue(f"{where} must be an integer")


def _decimal(raw: Any, where: str) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            raise InvalidValue(f"{where} must be a decimal number") from None
    else:
        raise InvalidValue(f"{where} must be a decimal number")
    if not math.isfinite(value):
        raise InvalidValue(f"{where} must be a finite number")
    return value


def _one_primary(values: list[Any]) -> None:
    """RFC 7643 §2.4: `primary: true` appears at most once; keep the first rather than reject."""
    found = False
    for value in values:
        if isinstance(value, dict) and value.get("primary") is True:
            if found:
                value["primary"] = False
            found = True


def _check_required(schema: Schema, obj: dict[str, Any], where: str) -> None:
    for attr in schema.attributes:
        if attr.required and attr.mutability not in _NOT_STORED and attr.name not in obj:
            raise InvalidValue(f"{where}: {attr.name} is required")


def _listed_schemas(body: dict[str, Any]) -> set[str]:
    listed = next((v for k, v in body.items() if k.lower() == "schemas"), None)
    if not isinstance(listed, list):
        return set()
    return {s.lower() for s in listed if isinstance(s, str)}
