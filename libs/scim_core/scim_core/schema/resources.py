"""The User, Group and EnterpriseUser schemas of RFC 7643 §4 and §8.7.1."""

from __future__ import annotations

from dataclasses import replace

from scim_core.schema.model import Attribute as A
from scim_core.schema.model import ResourceSchema, Schema
from scim_core.schema.urns import ENTERPRISE_USER_URN, GROUP_URN, USER_URN


def _multi(name: str, value_type: str = "string", types: tuple[str, ...] = (), **kw: object) -> A:
    """The common shape of RFC 7643 §2.4 multi-valued attributes: value, display, type, primary."""
    subs = (
        A("value", value_type, description=f"The {name} value."),
        A("display", description="A human-readable name, primarily used for display purposes."),
        A("type", canonical_values=types, description=f"A label indicating the {name}'s function."),
        A("primary", "boolean", description="Indicates the 'primary' or preferred value."),
    )
    return A(name, "complex", multi_valued=True, sub_attributes=subs, **kw)  # type: ignore[arg-type]


_META = A(
    "meta",
    "complex",
    mutability="readOnly",
    sub_attributes=(
        A("resourceType", mutability="readOnly", case_exact=True),
        A("created", "dateTime", mutability="readOnly"),
        A("lastModified", "dateTime", mutability="readOnly"),
        A("location", "reference", mutability="readOnly", case_exact=True, reference_types=("uri",)),
        A("version", mutability="readOnly", case_exact=True),
    ),
)

COMMON_ATTRIBUTES = (
    A("id", mutability="readOnly", returned="always", uniqueness="server", case_exact=True),
    A("externalId", case_exact=True),
    _META,
)

USER_SCHEMA = Schema(
    id=USER_URN,
    name="User",
    description="User Account",
    attributes=(
        A("userName", required=True, uniqueness="server", description="Unique identifier for the User."),
        A(
            "name",
            "complex",
            sub_attributes=(
                A("formatted"),
                A("familyName"),
                A("givenName"),
                A("middleName"),
                A("honorificPrefix"),
                A("honorificSuffix"),
            ),
        ),
        A("displayName"),
        A("nickName"),
        A("profileUrl", "reference", reference_types=("external",)),
        A("title"),
        A("userType"),
        A("preferredLanguage"),
        A("locale"),
        A("timezone"),
        A("active", "boolean"),
        A("password", mutability="writeOnly", returned="never"),
        _multi("emails", types=("work", "home", "other")),
        _multi("phoneNumbers", types=("work", "home", "mobile", "fax", "pager", "other")),
        _multi("ims", types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        _multi("photos", "reference", types=("photo", "thumbnail")),
        A(
            "addresses",
            "complex",
            multi_valued=True,
            sub_attributes=(
                A("formatted"),
                A("streetAddress"),
                A("locality"),
                A("region"),
                A("postalCode"),
                A("country"),
                A("type", canonical_values=("work", "home", "other")),
                A("primary", "boolean"),
            ),
        ),
        A(
            "groups",
            "complex",
            multi_valued=True,
            mutability="readOnly",
            sub_attributes=(
                A("value", mutability="readOnly"),
                A("$ref", "reference", mutability="readOnly", reference_types=("User", "Group")),
                A("display", mutability="readOnly"),
                A("type", mutability="readOnly", canonical_values=("direct", "indirect")),
            ),
        ),
        _multi("entitlements"),
        _multi("roles"),
        _multi("x509Certificates", "binary"),
    ),
)

GROUP_SCHEMA = Schema(
    id=GROUP_URN,
    name="Group",
    description="Group",
    attributes=(
        A(
            "displayName",
            required=True,
            uniqueness="server",
            description="A human-readable name for the Group.",
        ),
        A(
            "members",
            "complex",
            multi_valued=True,
            sub_attributes=(
                A("value", mutability="immutable"),
                A("$ref", "reference", mutability="immutable", reference_types=("User", "Group")),
                # RFC 7643 §8.7.1 defines no members.display, but Okta sends one; it is stored as the
                # client sent it and returned only when it was given (README, "Member display").
                A("display"),
                A("type", mutability="immutable", canonical_values=("User", "Group")),
            ),
        ),
    ),
)

ENTERPRISE_USER_SCHEMA = Schema(
    id=ENTERPRISE_USER_URN,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        A("employeeNumber"),
        A("costCenter"),
        A("organization"),
        A("division"),
        A("department"),
        A(
            "manager",
            "complex",
            sub_attributes=(
                A("value"),
                A("$ref", "reference", reference_types=("User",)),
                A("displayName", mutability="readOnly"),
            ),
        ),
    ),
)

USER_RESOURCE = ResourceSchema(
    name="User",
    endpoint="/Users",
    description="User Account",
    core=USER_SCHEMA,
    extensions=(ENTERPRISE_USER_SCHEMA,),
)

GROUP_RESOURCE = ResourceSchema(name="Group", endpoint="/Groups", description="Group", core=GROUP_SCHEMA)


def resource_with_extensions(base: ResourceSchema, custom: tuple[Schema, ...]) -> ResourceSchema:
    """The resource type as one connection sees it: the standard extensions plus its custom ones."""
    known = {s.id.lower() for s in base.extensions}
    extra = tuple(s for s in custom if s.id.lower() not in known)
    return replace(base, extensions=base.extensions + extra) if extra else base
