-- The expiry sweep asks every minute for the live tokens near their
-- expiry; without this index that is a scan of every token.
CREATE INDEX api_tokens_expiry ON api_tokens (expires_at);
