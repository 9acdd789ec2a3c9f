-- A member reads back as the client sent it (issue 11): `display` and `type` are stored per membership
-- row, NULL when the client gave none, and returned only when given. Rows written before this migration
-- have neither.
ALTER TABLE directory.memberships ADD COLUMN display text, ADD COLUMN member_type text;
