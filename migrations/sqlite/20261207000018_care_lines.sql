-- The kinds of 導尿 and 排便管理 are lines of their own in the ministry's sheet: a child can
-- have 消化管ストーマ and 浣腸, each scored. A child's items are keyed by the line (the
-- item and its kind, '' for none) instead of the item. Nothing refers to this table, so it
-- is rebuilt in place.
CREATE TABLE child_care_items_rebuilt (
    child_id TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    item     TEXT NOT NULL,                    -- CareItem code
    variant  TEXT NOT NULL DEFAULT '',         -- 導尿 / 排便管理 kind; '' for the other items
    watch    TEXT CHECK (watch IS NULL OR watch IN ('high','medium','low')),
    PRIMARY KEY (child_id, item, variant)
);
INSERT INTO child_care_items_rebuilt (child_id, item, variant, watch)
SELECT child_id, item, COALESCE(variant, ''), watch FROM child_care_items;
DROP TABLE child_care_items;
ALTER TABLE child_care_items_rebuilt RENAME TO child_care_items;
CREATE INDEX child_care_items_item ON child_care_items (item);
