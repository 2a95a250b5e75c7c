-- Every signed-in request counts the account's open break-glass grants (auth/session.rs):
-- by account, not by a scan of every grant ever given. Identical on both backends.
CREATE INDEX break_glass_account ON break_glass_grants (account_id, expires_at);
