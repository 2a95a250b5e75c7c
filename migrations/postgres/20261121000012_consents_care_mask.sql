-- A support centre's or a department's list filtered by a care item used to look up every
-- child given to it to test the child's care mask (1,877 for a centre on the national set,
-- six of the statement's seven milliseconds on PostgreSQL). Each consent now carries its
-- child's care mask in the recipient index, so the test is made in the index and only the
-- children that match are looked up (docs/PERFORMANCE.md, fifth pass). Triggers keep the
-- copy equal to the child's, whichever path changes the care items or adds a consent.
ALTER TABLE child_consents ADD COLUMN care_mask BIGINT NOT NULL DEFAULT 0;
UPDATE child_consents SET care_mask = COALESCE(
    (SELECT c.care_mask FROM children c WHERE c.id = child_consents.child_id), 0);
DROP INDEX child_consents_recipient;
CREATE INDEX child_consents_recipient
    ON child_consents (recipient, child_id, withdrawn_at, expires_on, care_mask);
CREATE FUNCTION child_consents_take_care_mask() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.care_mask := COALESCE((SELECT c.care_mask FROM children c WHERE c.id = NEW.child_id), 0);
    RETURN NEW;
END
$$;
CREATE TRIGGER child_consents_take_care_mask BEFORE INSERT ON child_consents
    FOR EACH ROW EXECUTE FUNCTION child_consents_take_care_mask();
CREATE FUNCTION children_care_mask_to_consents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE child_consents SET care_mask = NEW.care_mask WHERE child_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER children_care_mask_to_consents AFTER UPDATE OF care_mask ON children
    FOR EACH ROW WHEN (OLD.care_mask IS DISTINCT FROM NEW.care_mask)
    EXECUTE FUNCTION children_care_mask_to_consents();
