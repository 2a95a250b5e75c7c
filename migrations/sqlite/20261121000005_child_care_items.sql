-- The medical-care items a child needs (医療的ケア判定スコア items), as judged by the physician.
-- The score and tier are computed from these by the versioned table in tsunagu-core, never stored.
CREATE TABLE child_care_items (
    child_id TEXT NOT NULL REFERENCES children(id) ON DELETE CASCADE,
    item     TEXT NOT NULL,                    -- CareItem code
    variant  TEXT,                             -- 導尿 / 排便管理 kind
    watch    TEXT CHECK (watch IS NULL OR watch IN ('high','medium','low')),
    PRIMARY KEY (child_id, item)
);
CREATE INDEX child_care_items_item ON child_care_items (item);
