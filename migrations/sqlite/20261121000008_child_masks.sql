-- Bit masks of a child's care items and device kinds, kept beside the score so that a list
-- filtered on an item or a device tests a column instead of probing another table for
-- every child in reach (a prefecture's support centre reaches thousands). The bits are
-- CareItem::bit and DeviceKind::bit in tsunagu-core; a test checks the CASE lists below
-- against them. Written with the items (repo::set_care) and the devices (store).
-- Identical on both backends.
ALTER TABLE children ADD COLUMN care_mask BIGINT NOT NULL DEFAULT 0;
ALTER TABLE children ADD COLUMN device_mask BIGINT NOT NULL DEFAULT 0;

-- A child has each item once (primary key); DISTINCT makes the sum of bits an OR when a
-- child has two devices of one kind.
UPDATE children SET care_mask = COALESCE((
    SELECT sum(DISTINCT CASE ci.item
        WHEN 'ventilator' THEN 1
        WHEN 'tracheostomy' THEN 2
        WHEN 'nasopharyngeal_airway' THEN 4
        WHEN 'oxygen' THEN 8
        WHEN 'suction' THEN 16
        WHEN 'nebulizer' THEN 32
        WHEN 'tube_feeding' THEN 64
        WHEN 'feeding_pump' THEN 128
        WHEN 'central_venous_catheter' THEN 256
        WHEN 'subcutaneous_injection' THEN 512
        WHEN 'subcutaneous_pump' THEN 1024
        WHEN 'blood_glucose' THEN 2048
        WHEN 'dialysis' THEN 4096
        WHEN 'catheterisation' THEN 8192
        WHEN 'bowel_management' THEN 16384
        WHEN 'seizure_response' THEN 32768
        ELSE 0 END)
    FROM child_care_items ci WHERE ci.child_id = children.id), 0);
UPDATE children SET device_mask = COALESCE((
    SELECT sum(DISTINCT CASE dv.kind
        WHEN 'ventilator' THEN 1
        WHEN 'oxygen_concentrator' THEN 2
        WHEN 'oxygen_cylinder' THEN 4
        WHEN 'suction' THEN 8
        WHEN 'feeding_pump' THEN 16
        WHEN 'pulse_oximeter' THEN 32
        WHEN 'monitor' THEN 64
        WHEN 'nebulizer' THEN 128
        WHEN 'cough_assist' THEN 256
        WHEN 'infusion_pump' THEN 512
        WHEN 'other' THEN 1024
        ELSE 0 END)
    FROM child_devices dv WHERE dv.child_id = children.id), 0);
