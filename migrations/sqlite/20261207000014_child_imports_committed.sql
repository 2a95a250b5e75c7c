-- An import is committed once: committing marks the staged upload (and drops its table)
-- in the transaction that creates its children, and keeps what it created, so a replayed
-- commit answers "already imported" with that list instead of importing twice.
ALTER TABLE child_imports ADD COLUMN committed_at BIGINT;
ALTER TABLE child_imports ADD COLUMN result TEXT NOT NULL DEFAULT '';
