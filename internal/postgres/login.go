package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

// loginCredentialsSQL is the whole of a login's reading in one statement,
// as in the SQLite store: the partner token by its unique hash with its
// account, and the API token by its unique hash with its user's active flag,
// LEFT JOINed so that an unknown API token is a row of NULLs rather than no
// row. One round trip instead of two, in one snapshot, reading only the
// columns the login checks (PartnerCredential's account hint subquery is
// left out). Both sides are unique index probes; the plan is a nested loop
// of at most one row each.
const loginCredentialsSQL = `SELECT p.expires_at, a.id, a.status, a.expires_at,
	x.id, x.user_id, x.account_id, x.scopes, x.expires_at, x.revoked_at, x.active
	FROM partner_tokens p JOIN accounts a ON a.id = p.account_id
	LEFT JOIN (SELECT t.id, t.user_id, t.account_id, t.scopes, t.expires_at, t.revoked_at, u.active
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $2) x ON true
	WHERE p.hash = $1`

// loginRow is where a row of loginCredentialsSQL is scanned: one
// allocation for every destination, and pgtype values rather than pointers
// so that a NULL-able column costs no allocation of its own.
type loginRow struct {
	ptExpires                        pgtype.Int8
	accID, accStatus                 string
	accExpires                       int64
	tokID, userID, accountID, scopes pgtype.Text
	tokExpires, revoked              pgtype.Int8
	active                           pgtype.Int4
}

func fromNullInt8(v pgtype.Int8) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// LoginCredentials reads a login's record in one snapshot and one round
// trip.
func (s *Store) LoginCredentials(ctx context.Context, partnerHash, apiHash []byte) (*autho.LoginRecord, error) {
	d := new(loginRow)
	pt, api := hexOf(partnerHash), hexOf(apiHash)
	err := s.runIdempotent(ctx, "login credentials", func(ctx context.Context, c *pgxpool.Conn) error {
		return c.QueryRow(ctx, loginCredentialsSQL, pt, api).Scan(
			&d.ptExpires, &d.accID, &d.accStatus, &d.accExpires,
			&d.tokID, &d.userID, &d.accountID, &d.scopes, &d.tokExpires, &d.revoked, &d.active)
	})
	if err != nil {
		return nil, err
	}
	rec := &autho.LoginRecord{PartnerTokenEnds: fromNullInt8(d.ptExpires), Account: autho.LoginAccount{
		ID: d.accID, Status: autho.AccountStatus(d.accStatus), ExpiresAt: fromMicros(d.accExpires)}}
	if !d.tokID.Valid {
		return rec, nil
	}
	rec.Token = &autho.LoginToken{
		ID:         d.tokID.String,
		UserID:     d.userID.String,
		AccountID:  d.accountID.String,
		Scopes:     splitScopes(d.scopes.String),
		ExpiresAt:  fromMicros(d.tokExpires.Int64),
		RevokedAt:  fromNullInt8(d.revoked),
		UserActive: d.active.Int32 != 0,
	}
	return rec, nil
}
