-- Uploaded tables are shared by every import (the registry's children, the directory's
-- services): `child_imports` becomes `uploads`, and each upload says which import it is
-- for, so an upload is only ever mapped, checked and committed by the import it was sent to.
-- Identical on both backends.

ALTER TABLE child_imports RENAME TO uploads;
ALTER TABLE uploads ADD COLUMN purpose TEXT NOT NULL DEFAULT 'children'
    CHECK (purpose IN ('children', 'services'));
DROP INDEX child_imports_account;
DROP INDEX child_imports_created;
CREATE INDEX uploads_account ON uploads (account_id, created_at);
CREATE INDEX uploads_created ON uploads (created_at);
