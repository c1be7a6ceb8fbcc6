package signer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// ResetStore is the part of autho.Store ResetLostKeys uses.
type ResetStore interface {
	KeyStore
	DeleteSigningKeys(ctx context.Context, ids []string, entries ...autho.Entry) error
}

// ErrNothingToReset is returned by ResetLostKeys when the master key opens
// every stored signing key: nothing is lost, and dropping keys would only
// end valid tokens.
var ErrNothingToReset = errors.New("the master key opens every signing key: nothing to reset")

// ResetLostKeys is the way on after the master key is lost, by by (audited
// as signing_key.reset, then the new key's signing_key.rotate): it deletes every
// stored signing key s cannot open, and adds a new key of opt.Algorithm
// sealed with s. Every token the deleted keys signed stops verifying; the
// keys s does open are kept, retired as at a rotation.
//
// It deletes before it adds, in two steps: should the add fail, the store
// holds no key a server cannot open, and the next server to start makes
// one.
func ResetLostKeys(ctx context.Context, by autho.Actor, st ResetStore, s *Sealer, opt Options) (dropped []string, key *autho.SigningKey, err error) {
	keys, err := st.SigningKeys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("loading signing keys: %w", err)
	}
	for _, k := range keys {
		if _, err := openKey(s, k); err != nil {
			dropped = append(dropped, k.ID)
		}
	}
	if len(dropped) == 0 {
		return nil, nil, ErrNothingToReset
	}
	kr, err := NewKeyring(st, s, opt)
	if err != nil {
		return nil, nil, err
	}
	e := by.Audit(secret.NewID("aud"), autho.AuditSigningKeyReset, kr.now())
	e.TargetName = strings.Join(dropped, " ")
	if err := st.DeleteSigningKeys(ctx, dropped, e); err != nil {
		return nil, nil, fmt.Errorf("deleting signing keys: %w", err)
	}
	key, err = kr.Rotate(ctx, by)
	return dropped, key, err
}
