-- A support centre's or a department's list reads every consent given to it (`others` in
-- features/children/repo.rs). With whether a consent is withdrawn and until when it runs in
-- the index, each one is decided from the index alone instead of a lookup of its row (the
-- centre's care-item filter on the national set: 6.8 → 4.3 ms in SQLite,
-- docs/PERFORMANCE.md, fourth pass). Identical on both backends.
DROP INDEX child_consents_recipient;
CREATE INDEX child_consents_recipient ON child_consents (recipient, child_id, withdrawn_at, expires_on);
