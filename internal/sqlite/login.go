package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"

	"github.com/autho/autho"
)

// loginCredentialsSQL is the whole of a login's reading in one statement:
// the partner token by its unique hash with its account, and the API token
// by its unique hash with its user's active flag. One statement is one read
// transaction and one trip through database/sql and the driver instead of
// two, and it reads only the columns the login checks (PartnerCredential's
// account hint costs an extra index probe the login never uses).
const loginCredentialsSQL = `SELECT p.id, p.expires_at, a.id, a.status, a.expires_at,
	t.id, t.user_id, t.account_id, t.scopes, t.expires_at, t.revoked_at, u.active
	FROM partner_tokens p JOIN accounts a ON a.id = p.account_id
	LEFT JOIN api_tokens t ON t.hash = ?2
	LEFT JOIN users u ON u.id = t.user_id
	WHERE p.hash = ?1`

// LoginCredentials reads what a login checks of both secrets, in one
// snapshot. An unknown partner token is autho.ErrNotFound; an unknown API
// token is a nil *autho.APICredential and no error. Only the fields the
// login reads are filled: of the account its id, status and expiry; of the
// API token its id, owner, account, scopes, expiry and revocation.
func (s *Store) LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*autho.PartnerCredential, *autho.APICredential, error) {
	st, err := s.loginCred.get(ctx, s.r)
	if err != nil {
		return nil, nil, wrap("login credentials", err)
	}
	var (
		pc                   autho.PartnerCredential
		ptExpires            sql.NullInt64
		accExpires           int64
		tokID, userID, accID sql.NullString
		scopes               sql.NullString
		tokExpires, revoked  sql.NullInt64
		active               sql.NullBool
	)
	a := &pc.Account
	err = st.QueryRowContext(ctx, hex.EncodeToString(partnerHash), hex.EncodeToString(apiHash)).Scan(
		&pc.TokenID, &ptExpires, &a.ID, &a.Status, &accExpires,
		&tokID, &userID, &accID, &scopes, &tokExpires, &revoked, &active)
	if err != nil {
		return nil, nil, wrap("login credentials", err)
	}
	pc.TokenExpiresAt = fromNullMicros(ptExpires)
	a.ExpiresAt = fromMicros(accExpires)
	// A token without its user cannot be (the foreign key), but if it were,
	// APICredential's inner join would not find it either.
	if !tokID.Valid || !active.Valid {
		return &pc, nil, nil
	}
	ac := &autho.APICredential{UserActive: active.Bool}
	t := &ac.Token
	t.ID, t.UserID, t.AccountID = tokID.String, userID.String, accID.String
	t.Hash = bytes.Clone(apiHash)
	t.Scopes = splitScopes(scopes.String)
	t.ExpiresAt = fromMicros(tokExpires.Int64)
	t.RevokedAt = fromNullMicros(revoked)
	return &pc, ac, nil
}
