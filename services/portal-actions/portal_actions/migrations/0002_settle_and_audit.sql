-- The directory time of each membership pair's last change: the role settling rule counts a membership
-- only if it changed no later than the end of the user's window, whatever order the events arrive in.
ALTER TABLE portal.group_members ADD COLUMN changed_at timestamptz NOT NULL DEFAULT '-infinity';

-- Group-level audit entries (create, rename, delete) have no user; keep them queryable per group too.
ALTER TABLE portal.audit ADD COLUMN group_name text;
CREATE INDEX audit_by_user_id ON portal.audit (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX directory_users_by_name ON portal.directory_users (workspace_id, lower(user_name));
