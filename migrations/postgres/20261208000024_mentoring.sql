-- The parent-mentor programme (ペアレントメンター): the office's mentors with their stories and
-- weekly availability, families' applications with up to three wished slots, and the
-- consultations the office confirms. The programme's days and slots are data in
-- tsunagu_core::mentoring; a slot is stored as its key, e.g. 2026-12-14T10:30.
CREATE TABLE mentors (
    id              TEXT PRIMARY KEY,        -- UUID
    office_id       TEXT NOT NULL REFERENCES organisations(id),
    account_id      TEXT REFERENCES accounts(id),   -- the mentor's own account, if any
    nickname        TEXT NOT NULL,           -- what families see
    child_care      TEXT NOT NULL DEFAULT '',  -- care codes of their child, comma-separated
    industry        TEXT NOT NULL DEFAULT '',
    work_style      TEXT NOT NULL DEFAULT '',  -- 短時間正社員, …
    work_path       TEXT NOT NULL DEFAULT '',  -- return_to_work / new_job
    story           TEXT NOT NULL DEFAULT '',
    topics          TEXT NOT NULL DEFAULT '',  -- topic codes, comma-separated
    public_consent  BOOLEAN NOT NULL DEFAULT FALSE,  -- introduction shown on the public page
    monthly_cap     BIGINT NOT NULL DEFAULT 4 CHECK (monthly_cap >= 0),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX mentors_office ON mentors (office_id, nickname);
CREATE UNIQUE INDEX mentors_account ON mentors (account_id);

-- The weekly pattern: the programme's slots (by index) a mentor can take on a weekday.
CREATE TABLE mentor_weekly (
    mentor_id   TEXT NOT NULL REFERENCES mentors(id) ON DELETE CASCADE,
    weekday     BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),   -- 0 = Monday
    slot_index  BIGINT NOT NULL,
    PRIMARY KEY (mentor_id, weekday, slot_index)
);

-- Days a mentor cannot take any consultation (exceptions to the pattern).
CREATE TABLE mentor_days_off (
    mentor_id  TEXT NOT NULL REFERENCES mentors(id) ON DELETE CASCADE,
    day        TEXT NOT NULL,             -- YYYY-MM-DD
    PRIMARY KEY (mentor_id, day)
);

CREATE TABLE mentor_applications (
    id               TEXT PRIMARY KEY,     -- UUID
    reference        TEXT NOT NULL UNIQUE, -- what the family is told, e.g. PM-7K3Q9D
    office_id        TEXT NOT NULL REFERENCES organisations(id),
    idempotency_key  TEXT NOT NULL UNIQUE, -- one application per submitted form
    family_key       TEXT NOT NULL,        -- the account, or the folded e-mail address
    account_id       TEXT REFERENCES accounts(id),  -- a signed-in guardian
    name             TEXT NOT NULL,
    email            TEXT NOT NULL,
    municipality_code TEXT NOT NULL REFERENCES municipalities(code),
    child_care       TEXT NOT NULL DEFAULT '',   -- care codes the family names
    work             TEXT NOT NULL,              -- tsunagu_core::mentoring::WORK_SITUATIONS
    topics           TEXT NOT NULL DEFAULT '',
    preference       TEXT NOT NULL DEFAULT '',   -- same_care / same_work / any
    message          TEXT NOT NULL DEFAULT '',
    wishes           TEXT NOT NULL,              -- slot keys, comma-separated, in order
    status           TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'confirmed', 'declined', 'cancelled')),
    decline_reason   TEXT NOT NULL DEFAULT '',
    version          BIGINT NOT NULL DEFAULT 1,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX mentor_applications_office ON mentor_applications (office_id, status, created_at);
CREATE INDEX mentor_applications_family ON mentor_applications (family_key, status);

-- A confirmed consultation: one mentor, one slot. Two confirmed consultations of one
-- mentor in one slot are refused by the database, whoever confirms.
CREATE TABLE mentor_consultations (
    id              TEXT PRIMARY KEY,
    application_id  TEXT NOT NULL REFERENCES mentor_applications(id),
    mentor_id       TEXT NOT NULL REFERENCES mentors(id),
    slot            TEXT NOT NULL,          -- slot key
    meeting_url     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
    sequence        BIGINT NOT NULL DEFAULT 0,  -- raised on every change (the invite's SEQUENCE)
    confirmed_by    TEXT NOT NULL REFERENCES accounts(id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX mentor_consultations_slot ON mentor_consultations (mentor_id, slot) WHERE status = 'confirmed';
CREATE UNIQUE INDEX mentor_consultations_application ON mentor_consultations (application_id) WHERE status = 'confirmed';
CREATE INDEX mentor_consultations_mentor ON mentor_consultations (mentor_id, slot);
