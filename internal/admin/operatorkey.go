package admin

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// ErrUnauthorized is a bearer that is no operator key: missing, malformed,
// unknown or revoked. The four are one answer, so that a caller learns
// nothing of which keys exist.
var ErrUnauthorized = errors.New("no valid operator key")

// CreateOperatorKey makes a key for the admin API and returns it with its
// plaintext, shown once: the store keeps only its hash. Only the operator
// makes keys. The name is who acts in the audit log ("operator:<name>"),
// so it is unique, and "cli" is the command line's.
func (s *Service) CreateOperatorKey(ctx context.Context, by autho.Actor, name string, readOnly bool) (*autho.OperatorKey, string, error) {
	if !by.IsOperator() {
		return nil, "", forbidden("", "only the operator makes operator keys")
	}
	name, err := cleanName("name", name)
	if err != nil {
		return nil, "", err
	}
	if strings.EqualFold(name, autho.OperatorCLI.Operator) {
		return nil, "", invalid("name", "%q names the command line in the audit log: choose another name", name)
	}
	now := s.now()
	plain := secret.New(secret.OperatorKey)
	k := &autho.OperatorKey{
		ID:        secret.NewID("opk"),
		Name:      name,
		Hash:      secret.Hash(plain),
		Hint:      secret.Hint(plain),
		ReadOnly:  readOnly,
		CreatedAt: now,
	}
	e, err := audit(by, now, autho.AuditOperatorKeyCreate, "", k.ID, k.Name)
	if err != nil {
		return nil, "", err
	}
	if err := s.Store.CreateOperatorKey(ctx, k, e); err != nil {
		if errors.Is(err, autho.ErrConflict) {
			return nil, "", conflict("name", "an operator key named %q exists already (revoked keys keep their names)", name)
		}
		return nil, "", storeErr(err, "create operator key", nil)
	}
	return k, plain, nil
}

// OperatorKeys lists every key, newest first, revoked ones included.
func (s *Service) OperatorKeys(ctx context.Context) ([]*autho.OperatorKey, error) {
	ks, err := s.Store.OperatorKeys(ctx)
	if err != nil {
		return nil, storeErr(err, "list operator keys", nil)
	}
	return ks, nil
}

// RevokeOperatorKey ends a key at once, on every node: the admin API reads
// the key on every request. Revoking a revoked key changes nothing.
func (s *Service) RevokeOperatorKey(ctx context.Context, by autho.Actor, id string) (*autho.OperatorKey, error) {
	if !by.IsOperator() {
		return nil, forbidden("", "only the operator revokes operator keys")
	}
	id, err := checkID("operator key", "opk", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e, err := audit(by, now, autho.AuditOperatorKeyRevoke, "", id, "")
	if err != nil {
		return nil, err
	}
	k, err := s.Store.UpdateOperatorKey(ctx, id, func(k *autho.OperatorKey) error {
		if k.Revoked() {
			return autho.ErrUnchanged
		}
		k.RevokedAt = now
		e.TargetName = k.Name
		return nil
	}, e)
	if err != nil {
		return nil, storeErr(err, "revoke operator key", notFound("operator key", "operator key %s not found", id))
	}
	return k, nil
}

// OperatorKeyOf is the admin API's check of a bearer: the live key whose
// secret it is, or ErrUnauthorized. A malformed secret is refused without
// touching the database.
func (s *Service) OperatorKeyOf(ctx context.Context, plain string) (*autho.OperatorKey, error) {
	if secret.Check(secret.OperatorKey, plain) != nil {
		return nil, ErrUnauthorized
	}
	k, err := s.Store.OperatorKeyByHash(ctx, secret.Hash(plain))
	switch {
	case errors.Is(err, autho.ErrNotFound):
		return nil, ErrUnauthorized
	case err != nil:
		return nil, storeErr(err, "read operator key", nil)
	case k.Revoked():
		return nil, ErrUnauthorized
	}
	return k, nil
}

// useNoted is how stale a key's recorded last use may get: a busy back
// office calls many times a second, and one write a minute per key tells
// the operator as much as one per request would.
const useNoted = time.Minute

// NoteOperatorKeyUse records that k was just used from ip, unless its last
// use was recorded less than a minute ago from the same address. A failure
// is logged, never the request's: the request is the key's business, the
// record only the operator's.
func (s *Service) NoteOperatorKeyUse(ctx context.Context, k *autho.OperatorKey, ip string) {
	now := s.now()
	if k.LastUsedIP == ip && now.Sub(k.LastUsedAt) < useNoted {
		return
	}
	if err := s.Store.RecordOperatorKeyUse(ctx, k.ID, now, ip); err != nil {
		s.log().Warn("recording an operator key's use", "key", k.ID, "error", err.Error())
	}
}

// IdempotencyWindow is how long an admin API request's Idempotency-Key is
// remembered: a retry within it changes nothing and gets the first answer.
const IdempotencyWindow = 24 * time.Hour

// StartIdempotent records the first attempt of the request key sent with
// operator key k, fingerprinted by fp, and returns nil; or, when an
// attempt of it is already recorded within the window, returns that one.
func (s *Service) StartIdempotent(ctx context.Context, k *autho.OperatorKey, key, fp string) (*autho.IdempotentRequest, error) {
	now := s.now()
	prev, err := s.Store.StartIdempotent(ctx, &autho.IdempotentRequest{
		OperatorKeyID: k.ID, Key: key, Fingerprint: fp, CreatedAt: now, Body: []byte{},
	}, now.Add(-IdempotencyWindow))
	if err != nil {
		return nil, storeErr(err, "record the request", nil)
	}
	return prev, nil
}

// FinishIdempotent keeps the answer of a recorded first attempt; body must
// hold no secret. When the answer failed for want of the database (status
// 5xx), nothing was changed, so the record is dropped instead and a retry
// is a first attempt again.
func (s *Service) FinishIdempotent(ctx context.Context, k *autho.OperatorKey, key string, status int, body []byte) {
	var err error
	if status >= 500 {
		err = s.Store.ForgetIdempotent(ctx, k.ID, key)
	} else {
		err = s.Store.FinishIdempotent(ctx, k.ID, key, status, body)
	}
	if err != nil {
		// The answer is given already; a retry will be told the first
		// attempt's outcome is unknown (409) until the window ends.
		s.log().Warn("keeping an idempotent request's answer", "key", k.ID, "error", err.Error())
	}
}
