-- SET streams per (workspace, portal): their receivers and signing keys, the SETs built for each receiver
-- with their delivery state, the last state seen of each resource (for notice diffs and activation flips),
-- and the directory events consumed (each recorded in the transaction that wrote its SETs).
CREATE SCHEMA IF NOT EXISTS security_events;

CREATE TABLE security_events.streams (
    id            uuid PRIMARY KEY,
    workspace_id  uuid NOT NULL,
    portal        text NOT NULL,
    alg           text NOT NULL CHECK (alg IN ('ES256', 'RS256')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, portal)
);

-- A key is active while `retired_at` is null; a retired key stays in the JWKS until `published_until`.
CREATE TABLE security_events.signing_keys (
    kid              text PRIMARY KEY,
    stream_id        uuid NOT NULL REFERENCES security_events.streams (id) ON DELETE CASCADE,
    alg              text NOT NULL,
    private_sealed   bytea NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    retired_at       timestamptz,
    published_until  timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active ON security_events.signing_keys (stream_id) WHERE retired_at IS NULL;

CREATE TABLE security_events.receivers (
    id                     uuid PRIMARY KEY,
    stream_id              uuid NOT NULL REFERENCES security_events.streams (id) ON DELETE CASCADE,
    delivery               text NOT NULL CHECK (delivery IN ('push', 'poll')),
    endpoint_url           text,
    authorization_sealed   bytea,
    poll_token_sha256      bytea UNIQUE,
    audience               text NOT NULL,
    events                 text[] NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX receivers_by_stream ON security_events.receivers (stream_id);

-- state: pending (to deliver), delivered (202 / acked), failed (the receiver refused it: RFC 8935 §2.4 /
-- RFC 8936 setErrs), dead (not delivered within the receiver's bound). `leased_until` marks a SET handed to
-- a deliverer or a poller; past it, the SET is delivered again.
CREATE TABLE security_events.sets (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receiver_id     uuid NOT NULL REFERENCES security_events.receivers (id) ON DELETE CASCADE,
    jti             text NOT NULL UNIQUE,
    txn             text NOT NULL,
    subject         text NOT NULL,
    token           text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz NOT NULL DEFAULT '-infinity',
    last_error      text,
    delivered_at    timestamptz,
    UNIQUE (receiver_id, txn)
);
CREATE INDEX sets_pending ON security_events.sets (receiver_id, seq) WHERE state = 'pending';
CREATE INDEX sets_pending_subject ON security_events.sets (receiver_id, subject, seq) WHERE state = 'pending';

CREATE TABLE security_events.resources (
    resource_id  uuid PRIMARY KEY,
    version      bigint NOT NULL,
    state        jsonb
);

CREATE TABLE security_events.consumed_events (
    event_id     text PRIMARY KEY,
    consumed_at  timestamptz NOT NULL DEFAULT now()
);

-- Wakes deliverers and long polls when SETs commit.
CREATE FUNCTION security_events.notify_sets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('security_events_sets', '');
    RETURN NULL;
END $$;
CREATE TRIGGER sets_notify AFTER INSERT ON security_events.sets
    FOR EACH STATEMENT EXECUTE FUNCTION security_events.notify_sets();
