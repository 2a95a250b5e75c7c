-- The kinds of 導尿 and 排便管理 are lines of their own in the ministry's sheet: a child can
-- have 消化管ストーマ and 浣腸, each scored. A child's items are keyed by the line (the
-- item and its kind, '' for none) instead of the item.
UPDATE child_care_items SET variant = '' WHERE variant IS NULL;
ALTER TABLE child_care_items ALTER COLUMN variant SET DEFAULT '';
ALTER TABLE child_care_items ALTER COLUMN variant SET NOT NULL;
ALTER TABLE child_care_items DROP CONSTRAINT child_care_items_pkey;
ALTER TABLE child_care_items ADD PRIMARY KEY (child_id, item, variant);
