-- Notifications fire from triggers, so writers pay no extra round trip:
--   directory_outbox       wakes the outbox relay when a transaction that wrote events commits;
--   directory_credentials  tells every replica to drop its cache of authenticated tokens when a token or
--                          connection changes (rotation, revocation, disabling, custom schemas).
CREATE FUNCTION directory.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('directory_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_inserted AFTER INSERT ON directory.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION directory.notify_outbox();

CREATE FUNCTION directory.notify_credentials() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('directory_credentials', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER tokens_changed AFTER UPDATE OR DELETE ON directory.tokens
    FOR EACH STATEMENT EXECUTE FUNCTION directory.notify_credentials();
CREATE TRIGGER connections_changed AFTER UPDATE OR DELETE ON directory.connections
    FOR EACH STATEMENT EXECUTE FUNCTION directory.notify_credentials();
