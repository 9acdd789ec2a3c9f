"""The RFC 7643 §7 attribute model, looked up case-insensitively (RFC 7643 §2.1)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    description: str = ""
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    _index: dict[str, Attribute] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({a.name.lower(): a for a in self.sub_attributes})

    def sub(self, name: str) -> Attribute | None:
        return self._index.get(name.lower())

    @property
    def is_complex(self) -> bool:
        return self.type == "complex"

    def to_schema_json(self) -> dict[str, Any]:
        """RFC 7643 §7 representation; never contains null values (Entra rejects them, idp-clients §2.2)."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description or self.name,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.sub_attributes:
            out["subAttributes"] = [a.to_schema_json() for a in self.sub_attributes]
        if self.canonical_values:
            out["canonicalValues"] = list(self.canonical_values)
        if self.type == "reference":
            out["referenceTypes"] = list(self.reference_types or ("external",))
        return out


@dataclass(frozen=True)
class Schema:
    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]
    _index: dict[str, Attribute] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({a.name.lower(): a for a in self.attributes})

    def attribute(self, name: str) -> Attribute | None:
        return self._index.get(name.lower())

    def to_schema_json(self, location_base: str = "") -> dict[str, Any]:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_schema_json() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": f"{location_base}/Schemas/{self.id}"},
        }

    @staticmethod
    def from_schema_json(doc: dict[str, Any]) -> Schema:
        """Build a schema from an RFC 7643 §7 document (used for a workspace's custom extensions)."""

        def attr(a: dict[str, Any]) -> Attribute:
            return Attribute(
                name=str(a["name"]),
                type=str(a.get("type", "string")),
                multi_valued=bool(a.get("multiValued", False)),
                required=bool(a.get("required", False)),
                case_exact=bool(a.get("caseExact", False)),
                mutability=str(a.get("mutability", "readWrite")),
                returned=str(a.get("returned", "default")),
                uniqueness=str(a.get("uniqueness", "none")),
                description=str(a.get("description", "")),
                sub_attributes=tuple(attr(s) for s in a.get("subAttributes", []) or []),
                canonical_values=tuple(a.get("canonicalValues", []) or []),
                reference_types=tuple(a.get("referenceTypes", []) or []),
            )

        return Schema(
            id=str(doc["id"]),
            name=str(doc.get("name") or doc["id"].rsplit(":", 1)[-1]),
            description=str(doc.get("description") or doc.get("name") or doc["id"]),
            attributes=tuple(attr(a) for a in doc.get("attributes", []) or []),
        )


@dataclass(frozen=True)
class ResourceSchema:
    """A resource type (RFC 7643 §6): its core schema and the extensions it accepts."""

    name: str
    endpoint: str
    description: str
    core: Schema
    extensions: tuple[Schema, ...] = ()
    required_extensions: frozenset[str] = frozenset()

    def extension(self, urn: str) -> Schema | None:
        low = urn.lower()
        return next((s for s in self.extensions if s.id.lower() == low), None)

    @property
    def schema_ids(self) -> list[str]:
        return [self.core.id, *(s.id for s in self.extensions)]

    def to_resource_type_json(self, location_base: str = "") -> dict[str, Any]:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.core.id,
            "schemaExtensions": [
                {"schema": s.id, "required": s.id in self.required_extensions} for s in self.extensions
            ],
            "meta": {
                "resourceType": "ResourceType",
                "location": f"{location_base}/ResourceTypes/{self.name}",
            },
        }
