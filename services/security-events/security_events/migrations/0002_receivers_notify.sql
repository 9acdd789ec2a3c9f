-- Every replica caches which receivers a connection's changes go to, with their stream's active signing key
-- (service_layer.receivers_cache), so an event of a connection without a stream costs one statement and one
-- with a stream reads neither. Any change to streams, receivers or keys (a rotation), by any writer and
-- cascades included, tells every replica to drop that cache when it commits.
CREATE FUNCTION security_events.notify_receivers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('security_events_receivers', '');
    RETURN NULL;
END $$;

CREATE TRIGGER streams_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON security_events.streams
    FOR EACH STATEMENT EXECUTE FUNCTION security_events.notify_receivers();
CREATE TRIGGER receivers_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON security_events.receivers
    FOR EACH STATEMENT EXECUTE FUNCTION security_events.notify_receivers();
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON security_events.signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION security_events.notify_receivers();
