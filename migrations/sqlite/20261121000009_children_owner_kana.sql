-- A town's list reads the children its departments own in kana order straight from this
-- index (and counts them from it alone) instead of sorting them all for every page
-- (features/children/repo.rs, list_statement). Its first column serves what the old
-- single-column index did. Identical on both backends.
DROP INDEX children_owner;
CREATE INDEX children_owner ON children (owner_organisation_id, kana, id);
