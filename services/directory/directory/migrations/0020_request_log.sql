-- The provisioning log (every SCIM request the edge answered, bodies redacted and truncated by the edge),
-- each token's last use (marked from that log, off the request path), and the admin audit of console
-- changes. Retention of the log is bounded by days and by a row cap per connection (pruned in the
-- background by the directory; see REQUEST_LOG_* settings).
CREATE TABLE directory.request_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connection_id  uuid NOT NULL REFERENCES directory.connections (id) ON DELETE CASCADE,
    at             timestamptz NOT NULL,
    request_id     text NOT NULL,
    method         text NOT NULL,
    path           text NOT NULL,
    query          text NOT NULL DEFAULT '',
    status         integer NOT NULL,
    scim_type      text NOT NULL DEFAULT '',
    detail         text NOT NULL DEFAULT '',
    latency_ms     double precision NOT NULL,
    user_agent     text NOT NULL DEFAULT '',
    idp            text NOT NULL DEFAULT 'other',
    resource_type  text NOT NULL DEFAULT '',
    resource_id    text NOT NULL DEFAULT '',
    user_name      text NOT NULL DEFAULT '',
    request_body   text NOT NULL DEFAULT '',
    response_body  text NOT NULL DEFAULT '',
    truncated      boolean NOT NULL DEFAULT false
);
-- Newest first per connection (the log page, the live tail and the row cap all walk this one).
CREATE INDEX request_log_recent ON directory.request_log (connection_id, id DESC);
CREATE INDEX request_log_errors ON directory.request_log (connection_id, id DESC) WHERE status >= 400;
CREATE INDEX request_log_by_user ON directory.request_log (connection_id, lower(user_name), id DESC)
    WHERE user_name <> '';
CREATE INDEX request_log_by_resource ON directory.request_log (connection_id, resource_id, id DESC)
    WHERE resource_id <> '';
CREATE INDEX request_log_by_time ON directory.request_log (connection_id, at);
CREATE INDEX request_log_age ON directory.request_log (at);

ALTER TABLE directory.tokens ADD COLUMN last_used_at timestamptz;

CREATE TABLE directory.admin_audit (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text NOT NULL,
    workspace_id  uuid,
    action        text NOT NULL,
    target        text NOT NULL DEFAULT '',
    detail        text NOT NULL DEFAULT ''
);
CREATE INDEX admin_audit_by_workspace ON directory.admin_audit (workspace_id, id DESC);
