package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/autho/autho"
)

const passkeyColumns = `id, user_id, name, credential_id, public_key, sign_count, aaguid, transports, flags,
	attestation_type, attestation_format, attachment, created_at, last_used_at`

// CreatePasskey stores the passkey, and the first factor's recovery codes
// with it.
func (s *Store) CreatePasskey(ctx context.Context, p *autho.Passkey, codes []*autho.RecoveryCode, entries ...autho.Entry) error {
	return s.tx(ctx, "create passkey", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webauthn_credentials (`+passkeyColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.UserID, p.Name, hex.EncodeToString(p.CredentialID), base64.StdEncoding.EncodeToString(p.PublicKey),
			int64(p.SignCount), hex.EncodeToString(p.AAGUID), strings.Join(p.Transports, ","), int(p.Flags),
			p.AttestationType, p.AttestationFormat, p.Attachment, micros(p.CreatedAt), zeroMicros(p.LastUsedAt))
		if err != nil {
			return wrap("create passkey", err)
		}
		if codes != nil {
			if err := replaceCodes(ctx, tx, p.UserID, codes); err != nil {
				return err
			}
		}
		return writeEntries(ctx, tx, entries)
	})
}

func scanPasskey(r scanner) (*autho.Passkey, error) {
	p := &autho.Passkey{}
	var credID, pub, aaguid, transports string
	var count, created, used int64
	var flags int
	if err := r.Scan(&p.ID, &p.UserID, &p.Name, &credID, &pub, &count, &aaguid, &transports, &flags,
		&p.AttestationType, &p.AttestationFormat, &p.Attachment, &created, &used); err != nil {
		return nil, err
	}
	var err error
	if p.CredentialID, err = hex.DecodeString(credID); err != nil {
		return nil, errBadHash
	}
	if aaguid != "" {
		if p.AAGUID, err = hex.DecodeString(aaguid); err != nil {
			return nil, errBadHash
		}
	}
	if p.PublicKey, err = decode64(pub); err != nil {
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
	rows, err := s.r.QueryContext(ctx, `SELECT `+passkeyColumns+` FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, wrap("passkeys", err)
	}
	defer rows.Close()
	var out []*autho.Passkey
	for rows.Next() {
		p, err := scanPasskey(rows)
		if err != nil {
			return nil, wrap("passkeys", err)
		}
		out = append(out, p)
	}
	return out, wrap("passkeys", rows.Err())
}

// PasskeyByCredentialID finds a passkey by the authenticator's id of it.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*autho.Passkey, error) {
	p, err := scanPasskey(s.r.QueryRowContext(ctx, `SELECT `+passkeyColumns+` FROM webauthn_credentials WHERE credential_id = ?`,
		hex.EncodeToString(credentialID)))
	return p, wrap("passkey", err)
}

// UsePasskey writes back the counter and flags of a use.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, flags byte, at time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE webauthn_credentials SET sign_count = ?, flags = ?, last_used_at = ? WHERE id = ?`,
		int64(signCount), int(flags), micros(at), id)
	n, err := affected("use passkey", res, err)
	return n > 0, err
}

// DeletePasskey removes one passkey of the user, and the codes with it
// when asked.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string, withRecoveryCodes bool, entries ...autho.Entry) (bool, error) {
	return s.deleteFactor(ctx, "delete passkey", userID, withRecoveryCodes, entries,
		`DELETE FROM webauthn_credentials WHERE user_id = ? AND id = ?`, userID, id)
}

// CreateCeremony stores a ceremony begun.
func (s *Store) CreateCeremony(ctx context.Context, c *autho.Ceremony) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (hash, kind, user_id, bound, name, data, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		hex.EncodeToString(c.Hash), string(c.Kind), c.UserID, hex.EncodeToString(c.Bound), c.Name, string(c.Data),
		micros(c.CreatedAt), micros(c.ExpiresAt))
	return wrap("create ceremony", err)
}

// TakeCeremony deletes and returns it in one statement: SQLite has one
// writer, and the row is gone for every later one.
func (s *Store) TakeCeremony(ctx context.Context, hash []byte) (*autho.Ceremony, error) {
	c := &autho.Ceremony{Hash: append([]byte(nil), hash...)}
	var kind, bound, data string
	var created, expires int64
	err := s.w.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE hash = ?
		RETURNING kind, user_id, bound, name, data, created_at, expires_at`, hex.EncodeToString(hash)).
		Scan(&kind, &c.UserID, &bound, &c.Name, &data, &created, &expires)
	if err != nil {
		return nil, wrap("take ceremony", err)
	}
	if bound != "" {
		if c.Bound, err = hex.DecodeString(bound); err != nil {
			return nil, fmt.Errorf("sqlite: take ceremony: %w", errBadHash)
		}
	}
	c.Kind, c.Data = autho.CeremonyKind(kind), []byte(data)
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return c, nil
}

// DeleteCeremoniesBefore sweeps expired ones.
func (s *Store) DeleteCeremoniesBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM webauthn_ceremonies WHERE expires_at < ?`, micros(before))
	return affected("delete old ceremonies", res, err)
}
