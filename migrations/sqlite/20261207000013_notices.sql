-- The notice area: what the product tells one person (a break-glass opening of their
-- child's record, a decision on their request, …). Each capability adds its own kinds;
-- the header counts the unread ones on every signed-in request, by account.
CREATE TABLE notices (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    link        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notices_unread ON notices (account_id, read_at);
CREATE INDEX notices_account_created ON notices (account_id, created_at);
