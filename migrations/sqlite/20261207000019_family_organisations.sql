-- no-transaction
-- A family belongs to no municipal department. Guardians' memberships move from the
-- department that owns their child's record to their municipality's 「ご家族」
-- organisation (kind `family`), which holds accounts and nothing else: no record is ever
-- owned by or shared with it, and only the guardian role is held in it.
--
-- Its id is derived from the municipality code (f0000000-0000-4000-8000-000000 + code),
-- so the application and this migration name the same organisation without a lookup.
--
-- SQLite cannot change a column's CHECK in place: the table is rebuilt as in migration
-- 17 (https://www.sqlite.org/lang_altertable.html#otheralter). No trigger names it.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE organisations_rebuilt (
    id                TEXT PRIMARY KEY,        -- UUID
    name              TEXT NOT NULL,
    kana              TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('municipal_department','support_center','consultation_office','facility','mentor_office','hospital','council','system','family')),
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
INSERT INTO organisations_rebuilt (id, name, kana, kind, department, municipality_code, active,
    version, created_at, updated_at)
SELECT id, name, kana, kind, department, municipality_code, active, version, created_at, updated_at
FROM organisations;
DROP TABLE organisations;
ALTER TABLE organisations_rebuilt RENAME TO organisations;
CREATE INDEX organisations_municipality ON organisations (municipality_code);

INSERT INTO organisations (id, name, kana, kind, department, municipality_code, active, version,
    created_at, updated_at)
SELECT 'f0000000-0000-4000-8000-000000' || o.municipality_code, m.name || 'のご家族', 'ごかぞく',
    'family', NULL, o.municipality_code, 1, 1, min(g.created_at), min(g.created_at)
FROM memberships g
JOIN organisations o ON o.id = g.organisation_id
JOIN municipalities m ON m.code = o.municipality_code
WHERE g.role = 'guardian' AND o.kind <> 'family'
GROUP BY o.municipality_code, m.name
ON CONFLICT (id) DO NOTHING;
INSERT INTO memberships (account_id, organisation_id, role, created_at)
SELECT g.account_id, 'f0000000-0000-4000-8000-000000' || o.municipality_code, 'guardian', g.created_at
FROM memberships g JOIN organisations o ON o.id = g.organisation_id
WHERE g.role = 'guardian' AND o.kind <> 'family'
ON CONFLICT (account_id, organisation_id, role) DO NOTHING;
DELETE FROM memberships WHERE role = 'guardian'
    AND organisation_id IN (SELECT id FROM organisations WHERE kind <> 'family');
COMMIT;
PRAGMA foreign_keys = ON;
