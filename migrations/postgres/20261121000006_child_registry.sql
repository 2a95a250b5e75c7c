-- The registry (実態把握): the rest of a child's profile, guardians' details, devices,
-- siblings, consents by purpose, edit history and the family's proposed changes.
-- Identical on both backends (no flags here: yes/no answers are short text codes).

ALTER TABLE children ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE children ADD COLUMN status_date TEXT;                      -- when the status last changed
ALTER TABLE children ADD COLUMN intake_source TEXT NOT NULL DEFAULT 'health_centre'
    CHECK (intake_source IN ('hospital_discharge','health_centre','family_application','transfer'));
ALTER TABLE children ADD COLUMN intake_date TEXT;
ALTER TABLE children ADD COLUMN diagnoses TEXT NOT NULL DEFAULT '';
ALTER TABLE children ADD COLUMN hospital TEXT NOT NULL DEFAULT '';
ALTER TABLE children ADD COLUMN doctor TEXT NOT NULL DEFAULT '';
ALTER TABLE children ADD COLUMN physical_disability_grade TEXT NOT NULL DEFAULT '';  -- 身体障害者手帳 1–6級
ALTER TABLE children ADD COLUMN ryoiku_techo TEXT NOT NULL DEFAULT '';               -- 療育手帳 (the prefecture's grade)
ALTER TABLE children ADD COLUMN recipient_certificate TEXT NOT NULL DEFAULT '';      -- 受給者証: '' / 'yes'
ALTER TABLE children ADD COLUMN care_category TEXT NOT NULL DEFAULT '';              -- 受給者証の医療的ケア区分
ALTER TABLE children ADD COLUMN attending TEXT NOT NULL DEFAULT '';                  -- nursery / school now
-- Computed by tsunagu-core from the care items on every save (never typed): lists filter on them.
ALTER TABLE children ADD COLUMN care_score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE children ADD COLUMN care_tier TEXT NOT NULL DEFAULT 'below_three';
CREATE INDEX children_status ON children (municipality_code, status);

CREATE TABLE guardians (
    id             TEXT PRIMARY KEY,
    child_id       TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    kana           TEXT NOT NULL DEFAULT '',
    relation       TEXT NOT NULL,
    phone          TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    employment     TEXT NOT NULL DEFAULT 'unknown'
        CHECK (employment IN ('working','on_leave','seeking','not_working','unknown')),
    wishes_to_work TEXT NOT NULL DEFAULT 'unknown' CHECK (wishes_to_work IN ('yes','no','unknown'))
);
CREATE INDEX guardians_child ON guardians (child_id);

CREATE TABLE child_devices (
    id                       TEXT PRIMARY KEY,
    child_id                 TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    position                 INTEGER NOT NULL,
    kind                     TEXT NOT NULL,
    power_watts              INTEGER,
    battery_internal_minutes INTEGER,
    battery_external_minutes INTEGER,
    note                     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX child_devices_child ON child_devices (child_id);
CREATE INDEX child_devices_kind ON child_devices (kind, child_id);

CREATE TABLE child_siblings (
    id         TEXT PRIMARY KEY,
    child_id   TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    birth_date TEXT,
    note       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX child_siblings_child ON child_siblings (child_id);

-- Consents (APPI) by purpose. A row is never changed except to end it: giving consent
-- again adds a row. `recipient` is what the scope filter matches: an organisation id, or
-- 'municipality-code:department' for a department of the child's municipality.
CREATE TABLE child_consents (
    id              TEXT PRIMARY KEY,
    child_id        TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('registry','department','organisation','disaster_plan','mentor')),
    department      TEXT CHECK (department IS NULL OR department IN ('disability_welfare','health','childcare','education','disaster')),
    organisation_id TEXT REFERENCES organisations(id),
    recipient       TEXT NOT NULL DEFAULT '',
    given_on        TEXT NOT NULL,
    method          TEXT NOT NULL CHECK (method IN ('paper','online')),
    recorded_by     TEXT NOT NULL REFERENCES accounts(id),
    recorded_at     BIGINT NOT NULL,
    expires_on      TEXT,
    withdrawn_at    BIGINT,
    withdrawn_by    TEXT REFERENCES accounts(id),
    end_reason      TEXT NOT NULL DEFAULT '',
    CHECK ((purpose = 'department') = (department IS NOT NULL)),
    CHECK ((purpose = 'organisation') = (organisation_id IS NOT NULL))
);
CREATE INDEX child_consents_child ON child_consents (child_id);
CREATE INDEX child_consents_recipient ON child_consents (recipient, child_id);

-- Every edit: who, when, which fields, and the values before and after (JSON), so the
-- second of two concurrent writers can be shown the other change.
CREATE TABLE child_history (
    id         TEXT PRIMARY KEY,
    child_id   TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,                 -- the version this edit produced
    at         BIGINT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    source     TEXT NOT NULL,                   -- form / api / import / proposal
    changes    TEXT NOT NULL                    -- JSON [{field,label,before,after}]
);
CREATE INDEX child_history_child ON child_history (child_id, version);

-- Changes a guardian proposes to contact and care details; staff confirm or decline them.
CREATE TABLE child_proposals (
    id           TEXT PRIMARY KEY,
    child_id     TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    proposed_by  TEXT NOT NULL REFERENCES accounts(id),
    proposed_at  BIGINT NOT NULL,
    base_version BIGINT NOT NULL,
    changes      TEXT NOT NULL,                 -- JSON [{field,label,before,after}]
    message      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','declined')),
    decided_by   TEXT REFERENCES accounts(id),
    decided_at   BIGINT,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX child_proposals_child ON child_proposals (child_id, status);

-- Organisation shares created as consents are now recorded in child_consents; shares stay
-- for referral and transfer.
INSERT INTO child_consents (id, child_id, purpose, organisation_id, recipient, given_on, method, recorded_by, recorded_at)
SELECT 'migrated-' || s.child_id || '-' || s.organisation_id, s.child_id, 'organisation', s.organisation_id, s.organisation_id,
       '1970-01-01', 'paper', (SELECT id FROM accounts ORDER BY created_at LIMIT 1), s.created_at
FROM child_shares s WHERE s.basis = 'consent' AND EXISTS (SELECT 1 FROM accounts);
DELETE FROM child_shares WHERE basis = 'consent';
