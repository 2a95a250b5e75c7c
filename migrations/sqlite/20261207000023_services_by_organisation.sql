-- The organisations offering active services (HSDS /organizations, the tabular export):
-- with an index on organisation_id alone, SQLite checked each organisation through the
-- listing index on `active`, walking every active service per organisation (7 minutes
-- for the national set's 60,000). With `active` in this index the check is one lookup.
DROP INDEX services_organisation;
CREATE INDEX services_organisation ON services (organisation_id, active);
