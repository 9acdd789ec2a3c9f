-- The credentials caches are told which connection changed, and only when something they cache changed.
--
-- 0004's statement-level triggers sent an empty NOTIFY on any update of tokens or connections, and every
-- replica emptied its whole cache: also for `tokens.last_used_at`, which the provisioning log writes with
-- every batch (0020), and for one connection's recorded IdP. Now each changed row names its connection in
-- the payload (replicas drop that connection's tokens only; identical payloads of one transaction are
-- delivered once), and an update that touches only `last_used_at` notifies nobody. An empty payload still
-- means "everything" (suite_common.notified_cache).
CREATE FUNCTION directory.notify_token_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('directory_credentials', OLD.connection_id::text);
    RETURN NULL;
END
$$;

CREATE FUNCTION directory.notify_connection_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('directory_credentials', OLD.id::text);
    RETURN NULL;
END
$$;

DROP TRIGGER tokens_changed ON directory.tokens;
CREATE TRIGGER tokens_changed AFTER UPDATE ON directory.tokens
    FOR EACH ROW
    WHEN ((OLD.connection_id, OLD.token_hash, OLD.expires_at, OLD.revoked_at)
          IS DISTINCT FROM (NEW.connection_id, NEW.token_hash, NEW.expires_at, NEW.revoked_at))
    EXECUTE FUNCTION directory.notify_token_credentials();
CREATE TRIGGER tokens_deleted AFTER DELETE ON directory.tokens
    FOR EACH ROW EXECUTE FUNCTION directory.notify_token_credentials();

DROP TRIGGER connections_changed ON directory.connections;
CREATE TRIGGER connections_changed AFTER UPDATE OR DELETE ON directory.connections
    FOR EACH ROW EXECUTE FUNCTION directory.notify_connection_credentials();
