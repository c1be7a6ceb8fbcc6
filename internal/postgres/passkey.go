package postgres

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/autho/autho"
)

const passkeyColumns = `id, user_id, name, credential_id, public_key, sign_count, aaguid, transports, flags,
	attestation_type, attestation_format, attachment, created_at, last_used_at`

// CreatePasskey stores the passkey, and the first factor's recovery codes
// with it.
func (s *Store) CreatePasskey(ctx context.Context, p *autho.Passkey, codes []*autho.RecoveryCode, entries ...autho.Entry) error {
	return s.inTx(ctx, "create passkey", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO webauthn_credentials (`+passkeyColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			p.ID, p.UserID, p.Name, hexOf(p.CredentialID), base64Of(p.PublicKey),
			int64(p.SignCount), hexOf(p.AAGUID), strings.Join(p.Transports, ","), int(p.Flags),
			p.AttestationType, p.AttestationFormat, p.Attachment, micros(p.CreatedAt), zeroMicros(p.LastUsedAt))
		if err != nil {
			return err
		}
		if codes != nil {
			if err := replaceCodes(ctx, tx, p.UserID, codes); err != nil {
				return err
			}
		}
		return writeEntries(ctx, tx, entries)
	})
}

func scanPasskey(r pgx.Row) (*autho.Passkey, error) {
	p := &autho.Passkey{}
	var credID, pub, aaguid, transports string
	var count, created, used int64
	var flags int
	if err := r.Scan(&p.ID, &p.UserID, &p.Name, &credID, &pub, &count, &aaguid, &transports, &flags,
		&p.AttestationType, &p.AttestationFormat, &p.Attachment, &created, &used); err != nil {
		return nil, err
	}
	var err error
	if p.CredentialID, err = fromHex(credID); err != nil {
		return nil, err
	}
	if p.AAGUID, err = fromHex(aaguid); err != nil {
		return nil, err
	}
	if p.PublicKey, err = fromBase64(pub); err != nil {
		return nil, err
	}
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	p.SignCount, p.Flags = uint32(count), byte(flags)
	p.CreatedAt, p.LastUsedAt = fromMicros(created), fromZeroMicros(used)
	return p, nil
}

// Passkeys lists the user's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]*autho.Passkey, error) {
	var out []*autho.Passkey
	err := s.runIdempotent(ctx, "passkeys", func(ctx context.Context, c *pgxpool.Conn) error {
		out = nil
		rows, err := c.Query(ctx, `SELECT `+passkeyColumns+` FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id`, userID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPasskey(rows)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// PasskeyByCredentialID finds a passkey by the authenticator's id of it.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*autho.Passkey, error) {
	var p *autho.Passkey
	err := s.runIdempotent(ctx, "passkey", func(ctx context.Context, c *pgxpool.Conn) error {
		var err error
		p, err = scanPasskey(c.QueryRow(ctx, `SELECT `+passkeyColumns+` FROM webauthn_credentials WHERE credential_id = $1`, hexOf(credentialID)))
		return err
	})
	return p, err
}

// UsePasskey writes back the counter and flags of a use.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, flags byte, at time.Time) (bool, error) {
	n, err := s.deleteCount(ctx, "use passkey", `UPDATE webauthn_credentials SET sign_count = $1, flags = $2, last_used_at = $3 WHERE id = $4`,
		int64(signCount), int(flags), micros(at), id)
	return n > 0, err
}

// DeletePasskey removes one passkey of the user, and the codes with it
// when asked.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string, withRecoveryCodes bool, entries ...autho.Entry) (bool, error) {
	return s.deleteFactor(ctx, "delete passkey", userID, withRecoveryCodes, entries,
		`DELETE FROM webauthn_credentials WHERE user_id = $1 AND id = $2`, userID, id)
}

// CreateCeremony stores a ceremony begun.
func (s *Store) CreateCeremony(ctx context.Context, c *autho.Ceremony) error {
	return s.run(ctx, "create ceremony", func(ctx context.Context, conn *pgxpool.Conn) error {
		_, err := conn.Exec(ctx, `INSERT INTO webauthn_ceremonies (hash, kind, user_id, bound, name, data, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			hexOf(c.Hash), string(c.Kind), c.UserID, hexOf(c.Bound), c.Name, string(c.Data), micros(c.CreatedAt), micros(c.ExpiresAt))
		return err
	})
}

// TakeCeremony deletes and returns it in one statement: of two at once,
// the second waits for the first's row lock and then finds no row. Not
// retried: a second run would miss the row the first took.
func (s *Store) TakeCeremony(ctx context.Context, hash []byte) (*autho.Ceremony, error) {
	var out *autho.Ceremony
	err := s.run(ctx, "take ceremony", func(ctx context.Context, conn *pgxpool.Conn) error {
		c := &autho.Ceremony{Hash: bytes.Clone(hash)}
		var kind, bound, data string
		var created, expires int64
		err := conn.QueryRow(ctx, `DELETE FROM webauthn_ceremonies WHERE hash = $1
			RETURNING kind, user_id, bound, name, data, created_at, expires_at`, hexOf(hash)).
			Scan(&kind, &c.UserID, &bound, &c.Name, &data, &created, &expires)
		if err != nil {
			return err
		}
		if bound != "" {
			if c.Bound, err = fromHex(bound); err != nil {
				return err
			}
		}
		c.Kind, c.Data = autho.CeremonyKind(kind), []byte(data)
		c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
		out = c
		return nil
	})
	return out, err
}

// DeleteCeremoniesBefore sweeps expired ones.
func (s *Store) DeleteCeremoniesBefore(ctx context.Context, before time.Time) (int, error) {
	return s.deleteCount(ctx, "delete old ceremonies", `DELETE FROM webauthn_ceremonies WHERE expires_at < $1`, micros(before))
}
