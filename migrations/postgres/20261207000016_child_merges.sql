-- Two records of one child merged into one (a town's duplicate review). The record merged
-- away is removed; what it was stays here: its profile and its history as they stood, who
-- owned it, who merged it, when and why. Its consents, family links, shares and pending
-- requests move to the survivor (see features::children::service::merge).
CREATE TABLE child_merges (
    merged_id                    TEXT PRIMARY KEY,
    survivor_id                  TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    merged_owner_organisation_id TEXT NOT NULL REFERENCES organisations(id),
    merged_at                    BIGINT NOT NULL,
    merged_by                    TEXT NOT NULL REFERENCES accounts(id),
    reason                       TEXT NOT NULL,
    profile                      TEXT NOT NULL,    -- JSON: the merged record's fields in words
    history                      TEXT NOT NULL     -- JSON: its edit history
);
CREATE INDEX child_merges_survivor ON child_merges (survivor_id);
