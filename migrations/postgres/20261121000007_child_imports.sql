-- Files uploaded for the children import, parsed into a table (header and rows as text,
-- JSON), kept between the column-mapping step, the dry run and the commit. Tied to the
-- uploader; deleted on commit, and anything older than a day is purged at the next upload.
-- Identical on both backends.

CREATE TABLE child_imports (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    filename   TEXT NOT NULL DEFAULT '',
    row_count  INTEGER NOT NULL,
    data       TEXT NOT NULL            -- JSON {"header":[...],"rows":[{"line":2,"cells":[...]}]}
);
CREATE INDEX child_imports_account ON child_imports (account_id, created_at);
CREATE INDEX child_imports_created ON child_imports (created_at);
