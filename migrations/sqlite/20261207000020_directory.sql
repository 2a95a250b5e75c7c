-- The resource directory (資源調査): the services organisations offer, the care each
-- accepts and on what conditions, the municipalities each serves, and the vacancies each
-- reported, kept as a history ("how many places were free each April").
CREATE TABLE services (
    id                  TEXT PRIMARY KEY,      -- UUID
    organisation_id     TEXT NOT NULL REFERENCES organisations(id),
    kind                TEXT NOT NULL,         -- tsunagu_core::directory::SERVICE_KINDS code
    name                TEXT NOT NULL,
    kana                TEXT NOT NULL DEFAULT '',
    search_key          TEXT NOT NULL,         -- folded name + kana + address, for search
    description         TEXT NOT NULL DEFAULT '',
    address             TEXT NOT NULL DEFAULT '',
    municipality_code   TEXT NOT NULL REFERENCES municipalities(code),  -- where it is
    latitude            DOUBLE PRECISION,
    longitude           DOUBLE PRECISION,
    phone               TEXT NOT NULL DEFAULT '',
    email               TEXT NOT NULL DEFAULT '',
    url                 TEXT NOT NULL DEFAULT '',
    weekdays            TEXT NOT NULL DEFAULT '1111100',   -- open Mon..Sun, 1 = open
    opens_at            TEXT NOT NULL DEFAULT '',          -- HH:MM
    closes_at           TEXT NOT NULL DEFAULT '',
    closed_on_holidays  INTEGER NOT NULL DEFAULT 1,
    closed_year_end     INTEGER NOT NULL DEFAULT 1,        -- 12/29–1/3
    nurse_hours         TEXT NOT NULL DEFAULT '',          -- when a nurse is on site
    age_from            INTEGER,                           -- class ages taken
    age_to              INTEGER,
    max_tier            TEXT,                              -- highest 判定スコア tier taken
    capacity            INTEGER,                           -- 定員
    care_children_now   INTEGER,                           -- 医療的ケア児 taken now
    waiting_list        INTEGER,
    care_mask           BIGINT NOT NULL DEFAULT 0,         -- accepted care items, for search
    staff_only          TEXT NOT NULL DEFAULT '',          -- fields kept from the public page
    active              INTEGER NOT NULL DEFAULT 1,
    version             BIGINT NOT NULL DEFAULT 1,
    confirmed_at        BIGINT NOT NULL,                   -- last confirmed as current
    confirmed_by        TEXT REFERENCES accounts(id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    CHECK (capacity IS NULL OR capacity >= 0),
    CHECK (care_children_now IS NULL OR care_children_now >= 0),
    CHECK (waiting_list IS NULL OR waiting_list >= 0),
    CHECK (age_from IS NULL OR age_to IS NULL OR age_from <= age_to)
);
CREATE INDEX services_municipality ON services (municipality_code, kind);
CREATE INDEX services_organisation ON services (organisation_id);

-- The care items a service accepts, each with its conditions in words.
CREATE TABLE service_care (
    service_id  TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    care_item   TEXT NOT NULL,
    conditions  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (service_id, care_item)
);

-- What a service does about a device: cannot take it, or only with a parent present.
CREATE TABLE service_device_rules (
    service_id  TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    device_kind TEXT NOT NULL,
    rule        TEXT NOT NULL CHECK (rule IN ('not_handled','with_parent')),
    PRIMARY KEY (service_id, device_kind)
);

-- The municipalities a service serves besides where it is.
CREATE TABLE service_areas (
    service_id        TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    municipality_code TEXT NOT NULL REFERENCES municipalities(code),
    PRIMARY KEY (service_id, municipality_code)
);
CREATE INDEX service_areas_municipality ON service_areas (municipality_code);

-- Vacancies as reported, never overwritten: the latest per class age is the current one.
CREATE TABLE service_vacancies (
    id          TEXT PRIMARY KEY,
    service_id  TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    class_age   INTEGER NOT NULL,        -- -1: any age
    vacancies   INTEGER NOT NULL CHECK (vacancies >= 0),
    as_of       TEXT NOT NULL,           -- YYYY-MM-DD
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT REFERENCES accounts(id)
);
CREATE INDEX service_vacancies_service ON service_vacancies (service_id, class_age, recorded_at);

-- The public listing in kana order (HSDS pages) without sorting every service.
CREATE INDEX services_listing ON services (active, kana, id);

-- Each prefecture's directory generation, bumped in every change of a service located in
-- it: what a derived, in-memory copy of a prefecture's directory is checked against before
-- each use (the database stays the only truth). And how many active services it has, kept
-- with it, so a page of all services knows its total without counting them.
CREATE TABLE directory_generations (
    prefecture_code TEXT PRIMARY KEY,
    generation      BIGINT NOT NULL,
    active_services BIGINT NOT NULL
);
