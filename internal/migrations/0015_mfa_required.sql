-- An account's admin may require a second factor of all the account's
-- people: 0 (not required) for every account so far. The operator's
-- requirement for everyone is a setting, not a row.
ALTER TABLE accounts ADD COLUMN mfa_required INTEGER NOT NULL DEFAULT 0;

-- When a second factor was last used in a portal session (a code at
-- sign-in, or a step-up since): the sensitive actions ask for one again
-- when it is older than admin.StepUpWindow. 0: never in this session.
ALTER TABLE portal_sessions ADD COLUMN factor_at BIGINT NOT NULL DEFAULT 0;
