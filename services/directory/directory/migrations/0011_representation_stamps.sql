-- A User's ETag covers its computed `groups` (RFC 7644 §3.14; issue 11) without a membership change
-- touching user rows: every user update, group rename and membership row takes a fresh number from one
-- sequence, and a User's ETag is derived from its own number and those of its membership rows and their
-- groups (directory.domain.representation.user_version). Adding or removing 1,000 members still writes
-- only the 1,000 membership rows.
CREATE SEQUENCE directory.representation_stamps;
ALTER TABLE directory.users ADD COLUMN stamp bigint NOT NULL DEFAULT nextval('directory.representation_stamps');
ALTER TABLE directory.groups ADD COLUMN name_stamp bigint NOT NULL DEFAULT nextval('directory.representation_stamps');
ALTER TABLE directory.memberships ADD COLUMN stamp bigint NOT NULL DEFAULT nextval('directory.representation_stamps');
