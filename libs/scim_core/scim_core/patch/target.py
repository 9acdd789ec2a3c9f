"""Resolve a PATCH path against a resource type: which object, attribute and sub-attribute.

The syntax is parsed by `scim_core.paths.parse_patch_path` (RFC 7644 §3.5.2); this module decides
what the names mean:

* RFC 7644 §3.10: an unqualified name refers to the core schema. Entra nevertheless sends the
  enterprise `manager` unqualified (`"path": "manager"`, idp-clients §2.7), so an unqualified name
  the core schema lacks is looked up in the extensions as well.
* A path that is an extension URN by itself names the whole extension object. An undeclared URN
  given with an object value is read the same way, so a custom extension can be set in one go.
* Attributes under a URN the resource type does not declare are addressed schema-less, so custom
  extensions stay patchable (checklist 34).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim_core.errors import InvalidPath
from scim_core.filter.ast import Expr
from scim_core.normalize import core_attribute
from scim_core.patch.keys import find_key
from scim_core.paths import PatchPath, parse_patch_path
from scim_core.schema.model import Attribute, ResourceSchema, Schema


@dataclass(frozen=True)
class Target:
    """Where an operation lands.

    `container` is the document key of the extension object holding the attribute (None for the
    core, top-level attributes). `name` is None when the whole extension object is the target.
    `schema`/`attr`/`sub` are None for a URN the resource type does not declare.
    """

    container: str | None
    schema: Schema | None
    name: str | None
    attr: Attribute | None = None
    value_filter: Expr | None = None
    sub: Attribute | None = None
    sub_name: str | None = None


def resolve_target(
    text: str, value: Any, resource: ResourceSchema, doc: dict[str, Any], *, strict: bool
) -> Target | None:
    """The target of path `text` (whose operation carries `value`) in `doc`.

    An unknown attribute raises `InvalidPath` when `strict`, else gives None (the caller skips it).
    A malformed path always raises `InvalidPath`.
    """
    whole = _whole_extension(text.strip(), value, resource, doc)
    if whole is not None:
        ext = resource.extension(whole)
        if ext is not None:
            return Target(container=ext.id, schema=ext, name=None)
        return Target(container=find_key(doc, whole) or whole, schema=None, name=None)
    path = parse_patch_path(text)
    urn = path.attr.urn
    if urn is not None and urn.lower() != resource.core.id.lower():
        ext = resource.extension(urn)
        if ext is None:
            return _undeclared(path, urn, doc)
        return _declared(path, ext.attribute(path.attr.attr), ext, ext.id, strict)
    attr = core_attribute(resource, path.attr.attr)
    if attr is None and urn is None:
        for ext in resource.extensions:
            if (ext_attr := ext.attribute(path.attr.attr)) is not None:
                return _declared(path, ext_attr, ext, ext.id, strict)
    return _declared(path, attr, resource.core, None, strict)


def _whole_extension(text: str, value: Any, resource: ResourceSchema, doc: dict[str, Any]) -> str | None:
    """The URN when `text` names a whole extension object rather than an attribute in one."""
    low = text.lower()
    known = [s.id for s in resource.extensions] + [k for k in doc if k.lower().startswith("urn:")]
    exact = next((urn for urn in known if urn.lower() == low), None)
    if exact is not None:
        return exact
    if not low.startswith("urn:") or not isinstance(value, dict) or "[" in text:
        return None
    # `urn:a:b:attr` could be attribute `attr` of `urn:a:b`; only an object value for a URN that no
    # schema or stored object explains is taken as a new extension object.
    prefixes = [resource.core.id, *known]
    if any(low.startswith(p.lower() + ":") for p in prefixes):
        return None
    return text


def _declared(
    path: PatchPath, attr: Attribute | None, schema: Schema, container: str | None, strict: bool
) -> Target | None:
    if attr is None:
        if strict:
            raise InvalidPath(f"unknown attribute {path.attr} in PATCH path")
        return None
    sub_name = path.sub_attr or path.attr.sub_attr
    sub: Attribute | None = None
    if sub_name is not None:
        sub = attr.sub(sub_name)
        if sub is None:
            if strict:
                raise InvalidPath(f"unknown sub-attribute {attr.name}.{sub_name} in PATCH path")
            return None
    if path.value_filter is not None and not (attr.multi_valued or attr.is_complex):
        raise InvalidPath(f"a value filter needs a multi-valued or complex attribute, not {attr.name}")
    return Target(
        container=container,
        schema=schema,
        name=attr.name,
        attr=attr,
        value_filter=path.value_filter,
        sub=sub,
        sub_name=sub.name if sub is not None else None,
    )


def _undeclared(path: PatchPath, urn: str, doc: dict[str, Any]) -> Target:
    if path.value_filter is not None:
        raise InvalidPath(f"a value filter needs a declared schema, and {urn} is not one")
    return Target(
        container=find_key(doc, urn) or urn,
        schema=None,
        name=path.attr.attr,
        sub_name=path.sub_attr or path.attr.sub_attr,
    )
