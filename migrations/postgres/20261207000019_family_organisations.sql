-- A family belongs to no municipal department. Guardians' memberships move from the
-- department that owns their child's record to their municipality's 「ご家族」
-- organisation (kind `family`), which holds accounts and nothing else: no record is ever
-- owned by or shared with it, and only the guardian role is held in it.
--
-- Its id is derived from the municipality code (f0000000-0000-4000-8000-000000 + code),
-- so the application and this migration name the same organisation without a lookup.
ALTER TABLE organisations DROP CONSTRAINT organisations_kind_check;
ALTER TABLE organisations ADD CONSTRAINT organisations_kind_check
    CHECK (kind IN ('municipal_department','support_center','consultation_office','facility','mentor_office','hospital','council','system','family'));

INSERT INTO organisations (id, name, kana, kind, department, municipality_code, active, version,
    created_at, updated_at)
SELECT 'f0000000-0000-4000-8000-000000' || o.municipality_code, m.name || 'のご家族', 'ごかぞく',
    'family', NULL, o.municipality_code, TRUE, 1, min(g.created_at), min(g.created_at)
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
