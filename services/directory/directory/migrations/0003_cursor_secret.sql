-- Secrets every directory replica must share, made once by the database so that no replica invents its own.
-- `cursor` seals RFC 9865 cursors (CURSOR_SECRET overrides it): a cursor one replica issues, another opens.
CREATE TABLE directory.server_secrets (
    name        text PRIMARY KEY,
    secret      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- gen_random_uuid() draws from the server's strong random source (PostgreSQL 13+); two give 244 random bits.
INSERT INTO directory.server_secrets (name, secret)
VALUES ('cursor', uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));
