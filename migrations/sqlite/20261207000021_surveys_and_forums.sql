-- Survey rounds (資源調査): a town or the prefecture asks the services of some kinds to
-- confirm or correct their entries by a date. Each service asked has a row in
-- survey_answers, answered or not, with the figures as answered (the round's results).
CREATE TABLE survey_rounds (
    id                TEXT PRIMARY KEY,        -- UUID
    title             TEXT NOT NULL,
    prefecture_code   TEXT NOT NULL,           -- two digits
    municipality_code TEXT REFERENCES municipalities(code),  -- NULL: the whole prefecture
    kinds             TEXT NOT NULL,           -- comma-separated SERVICE_KINDS codes
    closes_on         TEXT NOT NULL,           -- YYYY-MM-DD, the last day answers are taken
    opened_by         TEXT NOT NULL REFERENCES accounts(id),
    opened_at         BIGINT NOT NULL,
    closed_at         BIGINT,                  -- closed early by hand, or NULL
    closed_by         TEXT REFERENCES accounts(id)
);
CREATE INDEX survey_rounds_prefecture ON survey_rounds (prefecture_code, opened_at);

CREATE TABLE survey_answers (
    round_id          TEXT NOT NULL REFERENCES survey_rounds(id),
    service_id        TEXT NOT NULL REFERENCES services(id),
    organisation_id   TEXT NOT NULL REFERENCES organisations(id),
    municipality_code TEXT NOT NULL,           -- where the service was when asked
    answered_at       BIGINT,
    answered_by       TEXT REFERENCES accounts(id),
    answer            TEXT,                    -- JSON: the figures as answered
    reminded_at       BIGINT,
    PRIMARY KEY (round_id, service_id)
);
CREATE INDEX survey_answers_organisation ON survey_answers (organisation_id, answered_at);
CREATE INDEX survey_answers_service ON survey_answers (service_id);

-- The 協議の場 (the council of the organisations around 医療的ケア児) a municipality or a
-- 圏域 records as set up: one of the plan targets the directory cannot show by itself.
CREATE TABLE plan_forums (
    place          TEXT PRIMARY KEY,           -- a municipality code, or an area id
    established_on TEXT NOT NULL,              -- YYYY-MM-DD
    note           TEXT NOT NULL DEFAULT '',
    recorded_by    TEXT NOT NULL REFERENCES accounts(id),
    recorded_at    BIGINT NOT NULL
);
