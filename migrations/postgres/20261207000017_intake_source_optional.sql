-- 把握の経路 is optional: a record whose route is not known keeps it empty ('') instead of
-- being given 保健センター. Existing records keep what they have.
ALTER TABLE children DROP CONSTRAINT children_intake_source_check;
ALTER TABLE children ADD CONSTRAINT children_intake_source_check
    CHECK (intake_source IN ('', 'hospital_discharge','health_centre','family_application','transfer'));
ALTER TABLE children ALTER COLUMN intake_source SET DEFAULT '';
