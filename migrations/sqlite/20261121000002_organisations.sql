-- Organisations that hold accounts: municipal departments, the prefecture's support
-- centre, consultation offices, facilities, mentor offices, hospitals, councils.
CREATE TABLE organisations (
    id                TEXT PRIMARY KEY,        -- UUID
    name              TEXT NOT NULL,
    kana              TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('municipal_department','support_center','consultation_office','facility','mentor_office','hospital','council','system')),
    -- 障害福祉, 保健, 保育, 教育, 防災 for municipal departments; empty otherwise
    department        TEXT CHECK (department IS NULL OR department IN ('disability_welfare','health','childcare','education','disaster')),
    -- the municipality, or the prefecture's own code for prefecture-level bodies
    municipality_code TEXT NOT NULL REFERENCES municipalities(code),
    active            INTEGER NOT NULL DEFAULT 1,
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CHECK ((kind = 'municipal_department') = (department IS NOT NULL))
);
CREATE INDEX organisations_municipality ON organisations (municipality_code);
