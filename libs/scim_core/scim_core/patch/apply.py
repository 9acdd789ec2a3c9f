"""Apply PATCH operations to a stored document (RFC 7644 §3.5.2).

Operations run in order on a private deep copy; the first failure raises and the caller keeps the
original, because RFC 7644 §3.5.2 makes a PATCH request atomic. The result goes through
`normalize_resource`, so a PATCH and a PUT store the same canonical shape.

Interop rules beyond the RFC text, from what Okta and Entra send (idp-clients §5):

* a no-path add/replace applies each key of its object value as an attribute *path*, so dotted
  (`name.givenName`) and URN-qualified keys work (checklist 39, 40);
* `id` in such a value is ignored when it equals the resource id (Okta's group rename, checklist 50);
  other readOnly keys (`meta`, `groups`) are ignored there, but are a `mutability` error as a path;
* `add` on a single-valued attribute replaces it (checklist 43);
* `add`/`replace` on `emails[type eq "work"].value` creates the element when none matches
  (checklist 44); a filter that cannot describe a new element is `noTarget`;
* `password` is never stored, so operations on it succeed without effect.
"""

from __future__ import annotations

import copy
from typing import Any

from scim_core.errors import InvalidPath, InvalidValue, Mutability, NoTarget
from scim_core.filter.ast import And, Compare, Expr
from scim_core.normalize import normalize_element, normalize_resource, normalize_value
from scim_core.patch.keys import find_key
from scim_core.patch.match import matches
from scim_core.patch.members import member_change
from scim_core.patch.model import MemberChange, OpName, PatchOperation, PatchResult, RemoveMembers
from scim_core.patch.target import Target, resolve_target
from scim_core.schema.model import Attribute, ResourceSchema

_NOT_STORED = frozenset({"readOnly", "writeOnly"})


def apply_patch(
    doc: dict[str, Any], ops: list[PatchOperation], resource: ResourceSchema, *, resource_id: str
) -> PatchResult:
    """Apply `ops` to `doc` and return the new normalized document and the membership delta.

    For Groups `doc` never holds `members`; operations on `members` are returned as
    `member_changes` in operation order instead. `doc` itself is never mutated.
    """
    patcher = _Patcher(copy.deepcopy(doc), resource, resource_id)
    for op in ops:
        patcher.apply(op)
    return PatchResult(doc=normalize_resource(patcher.doc, resource), member_changes=patcher.changes)


def member_changes_alone(
    ops: list[PatchOperation], resource: ResourceSchema, *, resource_id: str
) -> list[MemberChange] | None:
    """The membership delta of `ops` without the stored document, or None when it cannot be told so.

    A Group's member changes come from the operations alone (the document never holds `members`), so a
    writer can learn which members a PATCH touches before it reads the group, and read their state in the
    same statement as the row. Every other operation is skipped, not applied; one that fails on the empty
    document gives None, and the caller takes its general path. `apply_patch` stays the authority: its
    `member_changes` on the real document are what is written.
    """
    patcher = _Patcher({}, resource, resource_id, members_only=True)
    try:
        for op in ops:
            patcher.apply(op)
    except Exception:  # any refusal here is apply_patch's to give, on the real document
        return None
    return patcher.changes


class _Patcher:
    def __init__(
        self, doc: dict[str, Any], resource: ResourceSchema, resource_id: str, *, members_only: bool = False
    ) -> None:
        self.doc = doc
        self.resource = resource
        self.resource_id = resource_id
        self.members_only = members_only
        self.changes: list[MemberChange] = []

    def apply(self, op: PatchOperation) -> None:
        if op.path is None:
            self._apply_object(op)
            return
        target = resolve_target(op.path, op.value, self.resource, self.doc, strict=True)
        assert target is not None  # strict resolution raises instead of returning None
        self._apply_target(op.op, target, op.value, strict=True)

    def _apply_object(self, op: PatchOperation) -> None:
        """RFC 7644 §3.5.2.1/§3.5.2.3 with no path: each key of the value object is a path."""
        if not isinstance(op.value, dict):
            raise InvalidValue(f"{op.op} without a path needs a JSON object value")
        for key, value in op.value.items():
            if key.lower() == "schemas":
                continue
            # Unknown keys are ignored, as in a PUT body (checklist 37).
            target = resolve_target(key, value, self.resource, self.doc, strict=False)
            if target is not None:
                self._apply_target(op.op, target, value, strict=False)

    def _apply_target(self, op: OpName, target: Target, value: Any, *, strict: bool) -> None:
        if self._is_members(target):
            change = member_change(op, target.value_filter, target.sub_name, value)
            if change is None:
                return
            last = self.changes[-1] if self.changes else None
            if isinstance(change, RemoveMembers) and isinstance(last, RemoveMembers):
                # Removes commute: Okta removes 1,000 members with 1,000 operations, which the directory
                # then runs as one set operation instead of 1,000.
                self.changes[-1] = RemoveMembers(last.ids + change.ids)
            else:
                self.changes.append(change)
            return
        if self.members_only:
            return
        if not self._writable(op, target, value, strict=strict):
            return
        if op == "remove":
            self._remove(target, value)
        else:
            self._set(op, target, value)

    def _is_members(self, target: Target) -> bool:
        members = self.resource.core.attribute("members")
        return members is not None and target.container is None and target.attr is members

    def _writable(self, op: OpName, target: Target, value: Any, *, strict: bool) -> bool:
        """Whether to apply the operation; raises `Mutability` when the client may not write it."""
        attr = target.attr
        if attr is None:
            return True
        if attr.mutability == "writeOnly":
            # `password`: Okta always sends a placeholder and we never store it.
            return False
        if attr.name == "id" and target.container is None:
            if op != "remove" and target.sub is None and value == self.resource_id:
                return False
            raise Mutability("id is assigned by the service provider and cannot be changed")
        read_only = attr.mutability == "readOnly" or (
            target.sub is not None and target.sub.mutability in _NOT_STORED
        )
        if read_only and strict:
            raise Mutability(f"{_label(target)} is readOnly")
        return not read_only

    def _container(self, target: Target, *, create: bool) -> dict[str, Any] | None:
        if target.container is None:
            return self.doc
        key = find_key(self.doc, target.container)
        if key is None:
            if not create:
                return None
            key = target.container
            self.doc[key] = {}
        obj = self.doc[key]
        if not isinstance(obj, dict):
            raise InvalidPath(f"{target.container} is not an extension object")
        return obj

    def _drop_if_empty(self, target: Target, container: dict[str, Any]) -> None:
        if target.container is not None and not container:
            key = find_key(self.doc, target.container)
            if key is not None:
                del self.doc[key]

    # add / replace

    def _set(self, op: OpName, target: Target, value: Any) -> None:
        if target.name is None:
            self._set_object(op, target, value)
            return
        container = self._container(target, create=True)
        assert container is not None
        attr = target.attr
        if attr is None:
            _set_untyped(container, op, target.name, target.sub_name, value)
            return
        key = find_key(container, attr.name)
        current = container.get(key) if key is not None else None
        if target.value_filter is not None:
            new = _set_filtered(attr, target, current, value)
        elif target.sub is not None:
            new = _set_sub(attr, target.sub, current, value)
        else:
            new = _set_whole(op, attr, current, value, _label(target))
        if attr.mutability == "immutable" and current not in (None, [], {}) and new != current:
            raise Mutability(f"{_label(target)} is immutable")
        _assign(container, attr.name, new)
        self._drop_if_empty(target, container)

    def _set_object(self, op: OpName, target: Target, value: Any) -> None:
        """A whole extension object as the target: merge it key by key, like a no-path value."""
        if not isinstance(value, dict):
            raise InvalidValue(f"{target.container} must be set to a JSON object")
        for key, item in value.items():
            if target.schema is None:
                sub_target = Target(container=target.container, schema=None, name=key)
            else:
                attr = target.schema.attribute(key)
                if attr is None:
                    continue
                sub_target = Target(
                    container=target.container, schema=target.schema, name=attr.name, attr=attr
                )
            if self._writable(op, sub_target, item, strict=False):
                self._set(op, sub_target, item)

    # remove

    def _remove(self, target: Target, value: Any) -> None:
        """RFC 7644 §3.5.2.2; removing something that is not there succeeds without effect."""
        if target.name is None:
            key = find_key(self.doc, target.container or "")
            if key is not None:
                del self.doc[key]
            return
        container = self._container(target, create=False)
        if container is None:
            return
        attr = target.attr
        key = find_key(container, attr.name if attr is not None else target.name)
        if key is None:
            return
        current = container[key]
        if attr is None:
            new = _without_sub(current, target.sub_name) if target.sub_name is not None else None
        elif target.value_filter is not None:
            new = _remove_filtered(attr, target, current)
        elif target.sub is not None:
            new = _without_sub(current, target.sub.name)
        elif value is not None and attr.multi_valued:
            new = _remove_listed(attr, current, value, _label(target))
        else:
            new = None
        if attr is not None and attr.mutability == "immutable" and new != current:
            raise Mutability(f"{_label(target)} is immutable")
        _assign(container, attr.name if attr is not None else key, new)
        self._drop_if_empty(target, container)


def _set_whole(op: OpName, attr: Attribute, current: Any, value: Any, where: str) -> Any:
    if attr.multi_valued:
        new = normalize_value(attr, value, where=where) or []
        if op == "replace":
            return new or None
        # RFC 7644 §3.5.2.1: add on a multi-valued attribute appends; duplicates are dropped by
        # the final normalization.
        combined = [*(current if isinstance(current, list) else []), *new]
        _demote_primaries(combined, new)
        return combined or None
    if attr.is_complex and isinstance(value, dict) and isinstance(current, dict):
        # RFC 7644 §3.5.2.3: sub-attributes not given are left unchanged. A bare id or a one-element
        # list (Entra's manager) is a new reference and replaces the whole value instead.
        merged = dict(current)
        _merge_into(attr, merged, value, where)
        return merged or None
    # Single-valued: add acts as replace (RFC 7644 §3.5.2.1, checklist 43).
    return normalize_value(attr, value, where=where)


def _set_sub(attr: Attribute, sub: Attribute, current: Any, value: Any) -> Any:
    """`name.givenName` or, on a multi-valued attribute, `emails.type` for every element."""
    new_value = normalize_value(sub, value, where=f"{attr.name}.{sub.name}")
    if not attr.multi_valued:
        obj = dict(current) if isinstance(current, dict) else {}
        _assign(obj, sub.name, new_value)
        return obj or None
    items = [dict(e) for e in current if isinstance(e, dict)] if isinstance(current, list) else []
    if not items:
        # Nothing to update yet, so the operation creates the first element.
        items.append({})
    for element in items:
        _assign(element, sub.name, new_value)
    return items


def _set_filtered(attr: Attribute, target: Target, current: Any, value: Any) -> Any:
    """`emails[type eq "work"].value`: update the matching elements, or create one (checklist 44)."""
    assert target.value_filter is not None
    items = _as_items(attr, current)
    hits = [i for i, element in enumerate(items) if matches(target.value_filter, element, attr)]
    if not hits:
        seed = _seed(target.value_filter, attr)
        if seed is None:
            raise NoTarget(f"no value of {_label(target)} matches the filter")
        items.append(seed)
        hits = [len(items) - 1]
    where = _label(target)
    for i in hits:
        if target.sub is not None:
            element = dict(items[i])
            _assign(element, target.sub.name, normalize_value(target.sub, value, where=where))
            items[i] = element
        elif attr.is_complex:
            if not isinstance(value, dict):
                raise InvalidValue(f"{where} must be set to a JSON object")
            element = dict(items[i])
            _merge_into(attr, element, value, where)
            items[i] = element
        else:
            items[i] = normalize_element(attr, value, where=where)
    _demote_primaries(items, [items[i] for i in hits])
    if attr.multi_valued:
        return items
    return items[0] if items else None


def _remove_filtered(attr: Attribute, target: Target, current: Any) -> Any:
    assert target.value_filter is not None
    items = _as_items(attr, current)
    kept: list[Any] = []
    for element in items:
        if not matches(target.value_filter, element, attr):
            kept.append(element)
        elif target.sub is not None:
            kept.append(_without_sub(element, target.sub.name))
    kept = [e for e in kept if e is not None]
    if attr.multi_valued:
        return kept or None
    return kept[0] if kept else None


def _remove_listed(attr: Attribute, current: Any, value: Any, where: str) -> Any:
    """`remove` of a multi-valued attribute with a value list removes only those values.

    RFC 7644 §3.5.2.2 does not define a value for remove; Entra sends one for `members` and means
    "remove these" (idp-clients §2.8), so the same reading is applied to every attribute.
    """
    listed = normalize_value(attr, value, where=where) or []
    value_sub = attr.sub("value")
    case_exact = value_sub.case_exact if value_sub is not None else False
    items = current if isinstance(current, list) else [current]
    kept = [e for e in items if not any(_same(e, other, case_exact) for other in listed)]
    return kept or None


def _same(element: Any, other: Any, case_exact: bool) -> bool:
    if isinstance(element, dict) and isinstance(other, dict) and isinstance(other.get("value"), str):
        mine = element.get("value")
        if not isinstance(mine, str):
            return False
        theirs: str = other["value"]
        return mine == theirs if case_exact else mine.casefold() == theirs.casefold()
    return bool(element == other)


def _seed(expr: Expr, attr: Attribute) -> dict[str, Any] | None:
    """The element a filter describes, when it is a conjunction of `eq` tests on sub-attributes.

    `emails[type eq "work"]` gives `{"type": "work"}`, `... and primary eq true` adds `primary`.
    Anything else (or, ne, co, ...) cannot name a new element and gives None.
    """
    if not (attr.is_complex and attr.multi_valued):
        return None
    seed: dict[str, Any] = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, And):
            stack += [node.left, node.right]
            continue
        if not isinstance(node, Compare) or node.op != "eq" or node.path.urn or node.path.sub_attr:
            return None
        sub = attr.sub(node.path.attr)
        if sub is None or sub.is_complex:
            return None
        seed[sub.name] = normalize_element(sub, node.value, where=f"{attr.name}.{sub.name}")
    return seed


def _as_items(attr: Attribute, current: Any) -> list[Any]:
    if attr.multi_valued:
        return list(current) if isinstance(current, list) else []
    return [current] if current is not None else []


def _merge_into(attr: Attribute, element: dict[str, Any], raw: dict[str, Any], where: str) -> None:
    for key, value in raw.items():
        sub = attr.sub(key)
        if sub is None or sub.mutability in _NOT_STORED:
            continue
        _assign(element, sub.name, normalize_value(sub, value, where=f"{where}.{sub.name}"))


def _demote_primaries(items: list[Any], touched: list[Any]) -> None:
    """RFC 7644 §3.5.2: setting `primary` to true on one value sets it false on the others."""
    if not any(isinstance(e, dict) and e.get("primary") is True for e in touched):
        return
    for i, element in enumerate(items):
        if (
            isinstance(element, dict)
            and element.get("primary") is True
            and not any(element is t for t in touched)
        ):
            items[i] = {**element, "primary": False}


def _without_sub(current: Any, sub_name: str) -> Any:
    if isinstance(current, list):
        return [_without_sub(e, sub_name) for e in current]
    if isinstance(current, dict):
        out = dict(current)
        key = find_key(out, sub_name)
        if key is not None:
            del out[key]
        return out
    return current


def _set_untyped(container: dict[str, Any], op: OpName, name: str, sub_name: str | None, value: Any) -> None:
    """An attribute of a custom extension nobody declared: stored as sent (checklist 34)."""
    key = find_key(container, name) or name
    current = container.get(key)
    if sub_name is not None:
        obj = dict(current) if isinstance(current, dict) else {}
        _assign(obj, sub_name, copy.deepcopy(value))
        _assign(container, key, obj or None)
    elif op == "add" and isinstance(current, list):
        extra = value if isinstance(value, list) else [value]
        _assign(container, key, current + [copy.deepcopy(v) for v in extra if v not in current])
    else:
        _assign(container, key, copy.deepcopy(value))


def _assign(obj: dict[str, Any], name: str, value: Any) -> None:
    """Set `obj[name]` under its canonical spelling, dropping other spellings; None deletes.

    Assigning to an existing key keeps its position, so untouched documents keep their key order.
    """
    for key in [k for k in obj if k != name and k.lower() == name.lower()]:
        del obj[key]
    if value is None or value == "":
        obj.pop(name, None)
    else:
        obj[name] = value


def _label(target: Target) -> str:
    name = target.name or ""
    if target.sub_name:
        name = f"{name}.{target.sub_name}"
    return f"{target.container}:{name}" if target.container else name
