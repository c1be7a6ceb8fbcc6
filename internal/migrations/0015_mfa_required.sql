-- An account's admin may require a second factor of all the account's
-- people: 0 (not required) for every account so far. The operator's
-- requirement for everyone is a setting, not a row.
ALTER TABLE accounts ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0;
