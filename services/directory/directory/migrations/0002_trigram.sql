-- Substring (`co`, `ew`) filters on userName use a trigram index when pg_trgm is available; PostgreSQL
-- builds without contrib (the pgserver wheel) still work, with a sequential scan.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available: substring filters will scan';
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS users_user_name_trgm ON directory.users USING gin (lower(user_name) gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS groups_display_name_trgm
            ON directory.groups USING gin (lower(display_name) gin_trgm_ops);
    END IF;
END
$$;
