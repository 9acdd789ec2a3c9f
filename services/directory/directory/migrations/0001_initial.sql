-- Directory data: workspaces, SCIM connections and tokens, users, groups, membership rows and the outbox.
CREATE SCHEMA IF NOT EXISTS directory;

CREATE TABLE directory.workspaces (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (workspace, portal): the tenant boundary of every SCIM resource.
CREATE TABLE directory.connections (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES directory.workspaces (id),
    portal          text NOT NULL CHECK (portal IN ('dashboard', 'store', 'mdm')),
    enabled         boolean NOT NULL DEFAULT true,
    custom_schemas  jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, portal)
);

-- Bearer tokens are stored only as SHA-256 hashes; expires_at implements the rotation overlap.
CREATE TABLE directory.tokens (
    id             uuid PRIMARY KEY,
    connection_id  uuid NOT NULL REFERENCES directory.connections (id) ON DELETE CASCADE,
    token_hash     bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz
);
CREATE INDEX tokens_by_connection ON directory.tokens (connection_id);

-- `doc` holds the SCIM representation with canonical attribute names, without id, meta and groups
-- (those are columns or computed). Hot attributes are also columns so filters hit indexes.
CREATE TABLE directory.users (
    id             uuid PRIMARY KEY,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    connection_id  uuid NOT NULL REFERENCES directory.connections (id),
    user_name      text NOT NULL,
    external_id    text,
    display_name   text,
    active         boolean NOT NULL DEFAULT true,
    doc            jsonb NOT NULL,
    version        bigint NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_modified  timestamptz NOT NULL DEFAULT now()
);
-- RFC 7643 §4.1.1: userName is case-insensitive, and so is its uniqueness.
CREATE UNIQUE INDEX users_user_name_ci ON directory.users (connection_id, lower(user_name));
CREATE INDEX users_user_name_prefix ON directory.users (connection_id, lower(user_name) text_pattern_ops);
CREATE INDEX users_external_id ON directory.users (connection_id, external_id);
CREATE INDEX users_seq ON directory.users (connection_id, seq);

CREATE TABLE directory.groups (
    id             uuid PRIMARY KEY,
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    connection_id  uuid NOT NULL REFERENCES directory.connections (id),
    display_name   text NOT NULL,
    external_id    text,
    doc            jsonb NOT NULL,
    version        bigint NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_modified  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX groups_display_name_ci ON directory.groups (connection_id, lower(display_name));
CREATE INDEX groups_external_id ON directory.groups (connection_id, external_id);
CREATE INDEX groups_seq ON directory.groups (connection_id, seq);

-- Membership is rows, never a list: one-member changes are single-row set operations.
CREATE TABLE directory.memberships (
    group_id       uuid NOT NULL REFERENCES directory.groups (id) ON DELETE CASCADE,
    user_id        uuid NOT NULL REFERENCES directory.users (id) ON DELETE CASCADE,
    connection_id  uuid NOT NULL,
    added_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_by_user ON directory.memberships (user_id, group_id);

-- Transactional outbox: written in the same transaction as the change it describes.
CREATE TABLE directory.outbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    stream_key   text NOT NULL,
    subject      text NOT NULL,
    payload      bytea NOT NULL,
    traceparent  text,
    tracestate   text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- The relay publishes a row only when no older row of the same resource is left (order per resource).
CREATE INDEX outbox_by_stream ON directory.outbox (stream_key, id);
