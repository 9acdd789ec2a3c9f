-- The mass-deactivation guard: per-connection thresholds, the sliding window of destructive actions
-- applied, and the destructive actions held (durably, in arrival order) until an admin releases or
-- discards them. The audit's `mode` tells live actions from released, repaired and dry-run ones.
CREATE TABLE portal.guards (
    workspace_id    uuid NOT NULL,
    portal          text NOT NULL,
    enabled         boolean NOT NULL,
    max_actions     bigint NOT NULL CHECK (max_actions >= 1),
    max_percent     double precision NOT NULL CHECK (max_percent > 0 AND max_percent <= 100),
    window_seconds  bigint NOT NULL CHECK (window_seconds >= 1),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, portal)
);

CREATE TABLE portal.guard_window (
    workspace_id  uuid NOT NULL,
    portal        text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    user_id       uuid NOT NULL
);
CREATE INDEX guard_window_by_connection ON portal.guard_window (workspace_id, portal, at);

CREATE TABLE portal.held_actions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    uuid NOT NULL,
    portal          text NOT NULL,
    user_id         uuid NOT NULL,
    user_name       text NOT NULL,
    version         bigint NOT NULL,
    event_id        uuid NOT NULL,
    request_id      text,
    reason          text NOT NULL,
    planned_action  text NOT NULL,
    planned_summary text NOT NULL,
    held_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX held_actions_by_connection ON portal.held_actions (workspace_id, portal, id);
CREATE INDEX held_actions_by_user ON portal.held_actions (user_id);

ALTER TABLE portal.audit ADD COLUMN mode text NOT NULL DEFAULT 'live';
