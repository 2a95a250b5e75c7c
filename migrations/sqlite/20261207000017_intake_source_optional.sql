-- no-transaction
-- 把握の経路 is optional: a record whose route is not known keeps it empty ('') instead of
-- being given 保健センター. Existing records keep what they have.
--
-- SQLite cannot change a column's CHECK in place: the table is rebuilt as SQLite's manual
-- describes (https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys off
-- outside the transaction, a new table, the rows copied, the old one dropped, the new one
-- renamed, its indexes and triggers made again, the keys checked, then on again. The
-- trigger on child_consents that reads `children` is dropped first, as renaming checks
-- every trigger that names the table.
PRAGMA foreign_keys = OFF;
BEGIN;
DROP TRIGGER child_consents_take_care_mask;
CREATE TABLE children_rebuilt (
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
    updated_at            BIGINT NOT NULL,
    address               TEXT NOT NULL DEFAULT '',
    status_date           TEXT,
    intake_source         TEXT NOT NULL DEFAULT ''
        CHECK (intake_source IN ('', 'hospital_discharge','health_centre','family_application','transfer')),
    intake_date           TEXT,
    diagnoses             TEXT NOT NULL DEFAULT '',
    hospital              TEXT NOT NULL DEFAULT '',
    doctor                TEXT NOT NULL DEFAULT '',
    physical_disability_grade TEXT NOT NULL DEFAULT '',
    ryoiku_techo          TEXT NOT NULL DEFAULT '',
    recipient_certificate TEXT NOT NULL DEFAULT '',
    care_category         TEXT NOT NULL DEFAULT '',
    attending             TEXT NOT NULL DEFAULT '',
    care_score            INTEGER NOT NULL DEFAULT 0,
    care_tier             TEXT NOT NULL DEFAULT 'below_three',
    care_mask             BIGINT NOT NULL DEFAULT 0,
    device_mask           BIGINT NOT NULL DEFAULT 0
);
INSERT INTO children_rebuilt (id, owner_organisation_id, municipality_code, name, kana, search_key,
    birth_date, sex, status, version, created_at, updated_at, address, status_date, intake_source,
    intake_date, diagnoses, hospital, doctor, physical_disability_grade, ryoiku_techo,
    recipient_certificate, care_category, attending, care_score, care_tier, care_mask, device_mask)
SELECT id, owner_organisation_id, municipality_code, name, kana, search_key,
    birth_date, sex, status, version, created_at, updated_at, address, status_date, intake_source,
    intake_date, diagnoses, hospital, doctor, physical_disability_grade, ryoiku_techo,
    recipient_certificate, care_category, attending, care_score, care_tier, care_mask, device_mask
FROM children;
DROP TABLE children;
ALTER TABLE children_rebuilt RENAME TO children;
CREATE INDEX children_municipality ON children (municipality_code, kana);
CREATE INDEX children_status ON children (municipality_code, status);
CREATE INDEX children_owner ON children (owner_organisation_id, kana, id);
CREATE TRIGGER children_care_mask_to_consents AFTER UPDATE OF care_mask ON children
WHEN OLD.care_mask IS NOT NEW.care_mask
BEGIN
    UPDATE child_consents SET care_mask = NEW.care_mask WHERE child_id = NEW.id;
END;
CREATE TRIGGER child_consents_take_care_mask AFTER INSERT ON child_consents
BEGIN
    UPDATE child_consents SET care_mask = COALESCE(
        (SELECT c.care_mask FROM children c WHERE c.id = NEW.child_id), 0)
    WHERE id = NEW.id;
END;
COMMIT;
PRAGMA foreign_keys = ON;
