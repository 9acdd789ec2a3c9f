-- Connections in dry run: portal-actions records what it would apply (audit mode 'dry-run') and applies
-- nothing to accounts, devices or roles. The consumer reads this with the idempotency record, in the same
-- statement, so it costs no extra round trip per event.
CREATE TABLE portal.dry_runs (
    workspace_id  uuid NOT NULL,
    portal        text NOT NULL,
    since         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, portal)
);
