package signer

import (
	"errors"
	"github.com/autho/autho"
	"slices"
	"testing"
	"time"
)

// TestResetLostKeys: the keys a new master key cannot open are deleted and
// a new one signs; nothing happens when every key opens.
func TestResetLostKeys(t *testing.T) {
	db := newTestDB(t)
	old := db.keyring(t, ES256)
	mustEnsureKey(t, old)
	db.clock.Add(time.Hour)
	mustRotate(t, old)
	var lost []string
	for _, ki := range old.Keys() {
		lost = append(lost, ki.ID)
	}

	sealer := mustSealer(t, newMasterKey())
	opt := Options{Algorithm: HS256, TokenTTL: ttl, Now: db.clock.Now}
	dropped, key, err := ResetLostKeys(t.Context(), autho.OperatorCLI, db.store, sealer, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dropped, lost) || key.Algorithm != HS256 {
		t.Fatalf("dropped %q and made %s, want %q dropped and an HS256 key", dropped, key.Algorithm, lost)
	}
	k, err := NewKeyring(db.store, sealer, opt)
	if err != nil {
		t.Fatal(err)
	}
	mustEnsureKey(t, k)
	if cur, _ := k.Current(); cur.ID != key.ID || len(k.Keys()) != 1 {
		t.Fatalf("after reset the keyring holds %+v, want only %s signing", k.Keys(), key.ID)
	}

	if _, _, err := ResetLostKeys(t.Context(), autho.OperatorCLI, db.store, sealer, opt); !errors.Is(err, ErrNothingToReset) {
		t.Fatalf("a second reset: %v, want ErrNothingToReset", err)
	}
	mustRefresh(t, k)
	if len(k.Keys()) != 1 {
		t.Fatal("the refused reset changed the keys")
	}
}
