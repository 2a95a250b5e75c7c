-- Accounts, memberships (organisation + role), two-factor, sessions, sign-in throttling,
-- break-glass grants and the hash-chained audit trail.
CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,      -- UUID
    login_id            TEXT NOT NULL UNIQUE,  -- compared after NFKC + lower case
    display_name        TEXT NOT NULL,
    kana                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,         -- argon2id PHC string
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    totp_secret         TEXT,                  -- base32; NULL until enrolled
    totp_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step      BIGINT,                -- last accepted 30 s step: a replay is refused
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins       BIGINT NOT NULL DEFAULT 0,
    locked_until        BIGINT,                -- Unix ms UTC
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE memberships (
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    role            TEXT NOT NULL CHECK (role IN ('system_admin','prefecture_admin','support_center_staff','municipal_staff','coordinator','mentor_office','mentor','facility_staff','guardian','council_viewer')),
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (account_id, organisation_id, role)
);
CREATE INDEX memberships_organisation ON memberships (organisation_id);

CREATE TABLE recovery_codes (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,                 -- SHA-256 hex of the normalised code
    used_at     BIGINT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,          -- SHA-256 hex of the cookie value; the value is never stored
    account_id      TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    stage           TEXT NOT NULL CHECK (stage IN ('password','complete')),
    csrf_token      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    client_addr     TEXT NOT NULL,
    user_agent      TEXT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Failed sign-ins, for the per-address rate limit and for treating an unknown login id
-- exactly like a known one (it "locks" too), so a lock never reveals that an id exists.
CREATE TABLE login_failures (
    client_addr TEXT NOT NULL,
    login_id    TEXT NOT NULL,                 -- folded as entered
    at          BIGINT NOT NULL
);
CREATE INDEX login_failures_addr ON login_failures (client_addr, at);
CREATE INDEX login_failures_login ON login_failures (login_id, at);

CREATE TABLE break_glass_grants (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    organisation_id TEXT NOT NULL REFERENCES organisations(id),
    resource_type   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    owner_organisation_id TEXT NOT NULL REFERENCES organisations(id),
    reason          TEXT NOT NULL,
    started_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    revoked_by      TEXT REFERENCES accounts(id)
);
CREATE INDEX break_glass_resource ON break_glass_grants (resource_type, resource_id);
CREATE INDEX break_glass_owner ON break_glass_grants (owner_organisation_id, started_at);

-- Append-only. Each entry's hash covers its canonical form and the previous entry's hash.
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY,
    at              BIGINT NOT NULL,           -- Unix ms UTC
    actor_account_id TEXT,
    actor_organisation_id TEXT,
    action          TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('allowed','denied','failed')),
    resource_type   TEXT,
    resource_id     TEXT,
    child_id        TEXT,
    fields          TEXT NOT NULL,             -- JSON array of changed field names, never values
    detail          TEXT NOT NULL,             -- short free text (reason, filter), never secrets
    client_addr     TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit_log (actor_account_id, at);
CREATE INDEX audit_resource ON audit_log (resource_type, resource_id, at);
CREATE INDEX audit_child ON audit_log (child_id, at);
CREATE INDEX audit_at ON audit_log (at);

-- One row: the head of the chain. Updating it first serialises writers on both backends.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
