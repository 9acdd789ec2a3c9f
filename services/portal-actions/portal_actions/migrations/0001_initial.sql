-- Portal state: behaviours and mappings (admin configuration), the portals' accounts, groups and devices,
-- the consumer's idempotency and ordering records, the audit trail and dead letters.
CREATE SCHEMA IF NOT EXISTS portal;

CREATE TABLE portal.behaviours (
    workspace_id         uuid NOT NULL,
    portal               text NOT NULL CHECK (portal IN ('dashboard', 'store', 'mdm')),
    on_create            text NOT NULL,
    default_role         text NOT NULL DEFAULT 'viewer',
    on_deactivate        text NOT NULL,
    deactivate_policy    text,
    role_settle_seconds  bigint NOT NULL DEFAULT 300,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, portal)
);

CREATE TABLE portal.role_mappings (
    workspace_id  uuid NOT NULL,
    group_name    text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'developer', 'viewer', 'unassigned')),
    PRIMARY KEY (workspace_id, group_name)
);
CREATE UNIQUE INDEX role_mappings_ci ON portal.role_mappings (workspace_id, lower(group_name));

CREATE TABLE portal.attribute_mappings (
    workspace_id    uuid NOT NULL,
    portal          text NOT NULL,
    scim_attribute  text NOT NULL,
    metadata_key    text NOT NULL,
    PRIMARY KEY (workspace_id, portal, metadata_key)
);

CREATE TABLE portal.policies (
    workspace_id  uuid NOT NULL,
    name          text NOT NULL,
    PRIMARY KEY (workspace_id, name)
);

CREATE TABLE portal.devices (
    workspace_id  uuid NOT NULL,
    serial        text NOT NULL,
    user_name     text,
    policy        text,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, serial)
);
CREATE INDEX devices_by_user ON portal.devices (workspace_id, lower(user_name));

-- The latest applied directory state of each user: events not newer than `version` are dropped.
CREATE TABLE portal.directory_users (
    user_id        uuid PRIMARY KEY,
    connection_id  uuid NOT NULL,
    workspace_id   uuid NOT NULL,
    portal         text NOT NULL,
    user_name      text NOT NULL,
    active         boolean NOT NULL,
    deleted        boolean NOT NULL DEFAULT false,
    state          jsonb,
    version        bigint NOT NULL
);

CREATE TABLE portal.accounts (
    workspace_id        uuid NOT NULL,
    portal              text NOT NULL,
    user_id             uuid NOT NULL,
    user_name           text NOT NULL,
    status              text NOT NULL CHECK (status IN ('active', 'removed')),
    role                text,
    metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
    provisioned_at      timestamptz NOT NULL,
    role_settles_at     timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, portal, user_id)
);

CREATE TABLE portal.groups (
    group_id       uuid PRIMARY KEY,
    connection_id  uuid NOT NULL,
    workspace_id   uuid NOT NULL,
    portal         text NOT NULL,
    display_name   text NOT NULL,
    deleted        boolean NOT NULL DEFAULT false,
    version        bigint NOT NULL
);
CREATE INDEX groups_by_workspace ON portal.groups (workspace_id, portal);

-- One row per (group, user) pair ever seen; `version` is the group version of the last change, so a
-- reordered delivery cannot undo a newer membership change.
CREATE TABLE portal.group_members (
    group_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    is_member  boolean NOT NULL,
    version    bigint NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_by_user ON portal.group_members (user_id) WHERE is_member;

CREATE TABLE portal.processed_events (
    event_id      uuid PRIMARY KEY,
    processed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE portal.audit (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    workspace_id  uuid NOT NULL,
    portal        text NOT NULL,
    user_id       uuid,
    user_name     text,
    action        text NOT NULL,
    result        text NOT NULL,
    reason        text NOT NULL,
    event_id      uuid,
    request_id    text,
    detail        text
);
CREATE INDEX audit_by_user ON portal.audit (workspace_id, lower(user_name), id);

CREATE TABLE portal.dead_letters (
    event_id    text PRIMARY KEY,
    subject     text NOT NULL,
    error       text NOT NULL,
    deliveries  bigint NOT NULL,
    payload     bytea,
    at          timestamptz NOT NULL DEFAULT now()
);
