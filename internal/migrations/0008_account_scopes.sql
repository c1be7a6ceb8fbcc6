-- An account gains the scopes its own people may give their API tokens in
-- the portal, chosen by the operator: one space-separated TEXT, as
-- api_tokens.scopes; none (the empty string) for every account so far.
ALTER TABLE accounts ADD COLUMN allowed_scopes TEXT NOT NULL DEFAULT '';
