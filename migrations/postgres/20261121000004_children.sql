-- Children's records: the first records that belong to an owner organisation and are
-- shared with others. The registry (care items, consents, guardians' details) builds on this.
CREATE TABLE children (
    id                    TEXT PRIMARY KEY,    -- UUID
    owner_organisation_id TEXT NOT NULL REFERENCES organisations(id),
    municipality_code     TEXT NOT NULL REFERENCES municipalities(code),  -- of residence
    name                  TEXT NOT NULL,
    kana                  TEXT NOT NULL,
    search_key            TEXT NOT NULL,       -- folded name + kana for search
    birth_date            TEXT NOT NULL,       -- YYYY-MM-DD
    sex                   TEXT NOT NULL CHECK (sex IN ('female','male','other','unknown')),
    status                TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','moved_out','aged_out','deceased')),
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX children_municipality ON children (municipality_code, kana);
CREATE INDEX children_owner ON children (owner_organisation_id);

-- Guardians' accounts that may see the child's record (the family's own view).
CREATE TABLE child_guardians (
    child_id   TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    relation   TEXT NOT NULL,
    PRIMARY KEY (child_id, account_id)
);
CREATE INDEX child_guardians_account ON child_guardians (account_id);

-- Organisations a record is shared with (by consent, referral or transfer).
CREATE TABLE child_shares (
    child_id        TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    basis           TEXT NOT NULL,             -- consent / referral / transfer
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (child_id, organisation_id)
);
CREATE INDEX child_shares_organisation ON child_shares (organisation_id);
