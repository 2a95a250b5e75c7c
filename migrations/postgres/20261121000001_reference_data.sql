-- Reference data: prefectures, municipalities, wards of designated cities (JIS X 0402),
-- and areas (圏域) grouping them. Rows are loaded from the dated snapshot in the binary.
CREATE TABLE municipalities (
    code            TEXT PRIMARY KEY,          -- 6 digits with check digit
    prefecture_code TEXT NOT NULL,             -- 2 digits
    name            TEXT NOT NULL,
    kana            TEXT NOT NULL,             -- hiragana reading
    kind            TEXT NOT NULL CHECK (kind IN ('prefecture','designated_city','city','special_ward','ward','town','village')),
    parent_code     TEXT REFERENCES municipalities(code),
    search_key      TEXT NOT NULL              -- normalised name + kana + code, for LIKE search
);
CREATE INDEX municipalities_prefecture ON municipalities (prefecture_code, code);

CREATE TABLE areas (
    id              TEXT PRIMARY KEY,
    prefecture_code TEXT NOT NULL,
    name            TEXT NOT NULL,
    kana            TEXT NOT NULL
);

CREATE TABLE area_members (
    area_id           TEXT NOT NULL REFERENCES areas(id) ON DELETE CASCADE,
    municipality_code TEXT NOT NULL REFERENCES municipalities(code),
    PRIMARY KEY (area_id, municipality_code)
);
CREATE INDEX area_members_municipality ON area_members (municipality_code);

-- Which snapshot of each reference data set is loaded, so start-up only reloads on change.
CREATE TABLE reference_snapshots (
    name        TEXT PRIMARY KEY,
    snapshot    TEXT NOT NULL,
    loaded_at   BIGINT NOT NULL                -- Unix ms UTC
);
