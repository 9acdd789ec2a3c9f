"""RFC 7643 schema definitions: the attribute model and the User, Group and EnterpriseUser schemas."""

from scim_core.schema.model import Attribute, ResourceSchema, Schema
from scim_core.schema.resources import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_RESOURCE,
    GROUP_SCHEMA,
    USER_RESOURCE,
    USER_SCHEMA,
    resource_with_extensions,
)
from scim_core.schema.urns import (
    ENTERPRISE_USER_URN,
    GROUP_URN,
    LIST_RESPONSE_URN,
    PATCH_OP_URN,
    USER_URN,
)

__all__ = [
    "ENTERPRISE_USER_SCHEMA",
    "ENTERPRISE_USER_URN",
    "GROUP_RESOURCE",
    "GROUP_SCHEMA",
    "GROUP_URN",
    "LIST_RESPONSE_URN",
    "PATCH_OP_URN",
    "USER_RESOURCE",
    "USER_SCHEMA",
    "USER_URN",
    "Attribute",
    "ResourceSchema",
    "Schema",
    "resource_with_extensions",
]
