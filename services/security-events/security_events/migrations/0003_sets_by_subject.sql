-- The console's timeline of a person reads that subject's SETs, newest first (sets.of_subject). Without an
-- index it read every SET of the stream's receivers kept for the retention (8 days); one more index entry
-- per SET is cheap next to building and signing it.
CREATE INDEX sets_by_subject ON security_events.sets (subject, seq);
