-- Per-IdP compatibility profiles (issue 11, README "Profiles"). `scim_profile` is what the admin chose;
-- `detected_idp` is the identity provider last recognised in the connection's requests, written only when
-- it changes (the connections trigger of 0004 then refreshes every replica's credentials cache).
ALTER TABLE directory.connections
    ADD COLUMN scim_profile text NOT NULL DEFAULT 'auto'
        CHECK (scim_profile IN ('auto', 'okta', 'entra', 'generic')),
    ADD COLUMN detected_idp text CHECK (detected_idp IN ('okta', 'entra')),
    ADD COLUMN detected_at timestamptz;
