package signer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/bearer"
)

func TestKeyring_Rotate(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			db := newTestDB(t)
			k := db.keyring(t, alg)
			mustEnsureKey(t, k)
			old := kidOf(t, mustSign(t, k, testClaims(db.clock.Now())))

			db.clock.Add(time.Hour)
			rotatedAt := db.clock.Now()
			next := mustRotate(t, k)
			if next.Algorithm != alg || next.ID == old {
				t.Fatalf("Rotate = %s %s, want a new %s key", next.ID, next.Algorithm, alg)
			}
			if got := kidOf(t, mustSign(t, k, testClaims(db.clock.Now()))); got != next.ID {
				t.Fatalf("after Rotate, Sign uses %s, want %s", got, next.ID)
			}

			// The old key verifies until every token it signed has expired.
			if _, _, ok := k.VerificationKey(old); !ok {
				t.Error("old key no longer verifies right after the rotation")
			}
			if _, _, ok := k.VerificationKey(next.ID); !ok {
				t.Error("new key does not verify")
			}
			if alg != HS256 {
				if kids := jwksKids(t, k.JWKS()); len(kids) != 2 || kids[0] != next.ID || kids[1] != old {
					t.Errorf("JWKS kids = %q, want [%s %s]", kids, next.ID, old)
				}
			}
			wantUntil := rotatedAt.Add(ttl + RetireGrace)
			for _, info := range k.Keys() {
				switch info.ID {
				case old:
					if info.State != StatePublished || !info.RetiredAt.Equal(rotatedAt) || !info.VerifyUntil.Equal(wantUntil) {
						t.Errorf("old key = %+v, want published, retired %v, until %v", info, rotatedAt, wantUntil)
					}
				case next.ID:
					if info.State != StateSigning || !info.RetiredAt.IsZero() || !info.VerifyUntil.IsZero() {
						t.Errorf("new key = %+v, want signing, no end", info)
					}
				}
			}

			// A second before its end it still verifies; at its end it is gone.
			db.clock.Add(ttl + RetireGrace - time.Second)
			mustRefresh(t, k)
			if _, _, ok := k.VerificationKey(old); !ok {
				t.Error("old key gone before its VerifyUntil")
			}
			db.clock.Add(time.Second)
			if _, _, ok := k.VerificationKey(old); ok {
				t.Error("old key still verifies at its VerifyUntil, before any refresh")
			}
			mustRefresh(t, k)
			if _, _, ok := k.VerificationKey(old); ok {
				t.Error("old key still verifies after its VerifyUntil")
			}
			if _, ok := k.HS256Secret(old); ok {
				t.Error("HS256Secret answers for an unpublished key")
			}
			if kids := jwksKids(t, k.JWKS()); contains(kids, old) {
				t.Errorf("JWKS still publishes %s after its VerifyUntil", old)
			}
			if infos := k.Keys(); len(infos) != 2 || infos[0].ID != old || infos[0].State != StateRetired {
				t.Errorf("Keys = %+v, want the old key first, retired", infos)
			}
			if got := kidOf(t, mustSign(t, k, testClaims(db.clock.Now()))); got != next.ID {
				t.Errorf("Sign uses %s, want %s", got, next.ID)
			}
		})
	}
}

func TestKeyring_OtherNode(t *testing.T) {
	db := newTestDB(t)
	a, b := db.keyring(t, ES256), db.keyring(t, ES256)
	mustEnsureKey(t, a)
	mustEnsureKey(t, b)
	first := kidOf(t, mustSign(t, a, testClaims(db.clock.Now())))
	if got := kidOf(t, mustSign(t, b, testClaims(db.clock.Now()))); got != first {
		t.Fatalf("nodes sign with %s and %s, want one key", first, got)
	}

	// The CLI rotates from a third process: its own keyring.
	db.clock.Add(time.Minute)
	next := mustRotate(t, db.keyring(t, ES256))
	if got := kidOf(t, mustSign(t, a, testClaims(db.clock.Now()))); got != first {
		t.Fatalf("before Refresh, a node signs with %s, want the key it had", got)
	}
	for name, k := range map[string]*Keyring{"a": a, "b": b} {
		mustRefresh(t, k)
		if got := kidOf(t, mustSign(t, k, testClaims(db.clock.Now()))); got != next.ID {
			t.Errorf("node %s signs with %s after Refresh, want %s", name, got, next.ID)
		}
		if _, _, ok := k.VerificationKey(first); !ok {
			t.Errorf("node %s no longer verifies the old key", name)
		}
	}
}

func TestKeyring_EnsureKey(t *testing.T) {
	t.Run("twice", func(t *testing.T) {
		db := newTestDB(t)
		k := db.keyring(t, ES256)
		mustEnsureKey(t, k)
		mustEnsureKey(t, k)
		if n := len(k.Keys()); n != 1 {
			t.Fatalf("two EnsureKey made %d keys, want 1", n)
		}
	})
	t.Run("concurrent nodes", func(t *testing.T) {
		for range 5 {
			db := newTestDB(t)
			nodes := make([]*Keyring, 4)
			for i := range nodes {
				nodes[i] = db.keyring(t, EdDSA)
			}
			// The clock is frozen: every node's key has the same CreatedAt,
			// so the choice must fall to the id.
			var wg sync.WaitGroup
			errs := make([]error, len(nodes))
			for i, k := range nodes {
				wg.Go(func() { errs[i] = k.EnsureKey(t.Context()) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("EnsureKey: %v", err)
			}
			var kid string
			for i, k := range nodes {
				mustRefresh(t, k)
				got := kidOf(t, mustSign(t, k, testClaims(db.clock.Now())))
				if i == 0 {
					kid = got
				} else if got != kid {
					t.Fatalf("node %d signs with %s, node 0 with %s", i, got, kid)
				}
			}
			// Every key another node briefly signed with is still published.
			for _, info := range nodes[0].Keys() {
				if info.State == StateRetired {
					t.Errorf("key %s retired at once; a node may have signed with it", info.ID)
				}
			}
		}
	})
}

func TestKeyring_SwitchAlgorithm(t *testing.T) {
	db := newTestDB(t)
	es := db.keyring(t, ES256)
	mustEnsureKey(t, es)
	esKid := kidOf(t, mustSign(t, es, testClaims(db.clock.Now())))

	db.clock.Add(time.Hour)
	switchedAt := db.clock.Now()
	ed := db.keyring(t, EdDSA) // the server restarted with AUTHO_JWT_ALG=EdDSA
	mustEnsureKey(t, ed)
	infos := ed.Keys()
	if len(infos) != 2 || infos[1].Algorithm != EdDSA || infos[1].State != StateSigning {
		t.Fatalf("Keys = %+v, want the ES256 key and a new EdDSA key, signing", infos)
	}
	if infos[0].State != StatePublished || !infos[0].VerifyUntil.Equal(switchedAt.Add(ttl+RetireGrace)) {
		t.Errorf("ES256 key = %+v, want published until %v", infos[0], switchedAt.Add(ttl+RetireGrace))
	}
	if got := kidOf(t, mustSign(t, ed, testClaims(db.clock.Now()))); got != infos[1].ID {
		t.Errorf("Sign uses %s, want the EdDSA key %s", got, infos[1].ID)
	}
	if alg, _, ok := ed.VerificationKey(esKid); !ok || alg != ES256 {
		t.Errorf("VerificationKey(ES256 key) = %s, %v", alg, ok)
	}
	if kids := jwksKids(t, ed.JWKS()); len(kids) != 2 || !contains(kids, esKid) {
		t.Errorf("JWKS kids = %q, want both keys", kids)
	}

	// A node still configured for ES256 has nothing to sign with now.
	mustRefresh(t, es)
	if _, err := es.Sign(testClaims(db.clock.Now())); !errors.Is(err, ErrNoKey) {
		t.Errorf("ES256 node Sign after the switch: %v, want ErrNoKey", err)
	}

	db.clock.Add(ttl + RetireGrace)
	mustRefresh(t, ed)
	if kids := jwksKids(t, ed.JWKS()); len(kids) != 1 || contains(kids, esKid) {
		t.Errorf("JWKS kids after the ES256 key's end = %q, want only the EdDSA key", kids)
	}
}

func TestKeyring_Sign_NoKey(t *testing.T) {
	db := newTestDB(t)
	k := db.keyring(t, ES256)
	if _, err := k.Sign(testClaims(db.clock.Now())); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Sign before any key: %v, want ErrNoKey", err)
	}
	mustRefresh(t, k)
	if _, err := k.Sign(testClaims(db.clock.Now())); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Sign on an empty store: %v, want ErrNoKey", err)
	}
}

func TestKeyring_Sign_Lifetime(t *testing.T) {
	db := newTestDB(t)
	k := db.keyring(t, ES256)
	mustEnsureKey(t, k)
	now := db.clock.Now()
	tests := []struct {
		name string
		exp  time.Time
		ok   bool
	}{
		{"TokenTTL", now.Add(ttl), true},
		{"expired at issue", now, true}, // an account ending this second
		{"beyond TokenTTL", now.Add(ttl + time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClaims(now)
			c.ExpiresAt = bearer.NumericDate{Time: tt.exp}
			if _, err := k.Sign(c); (err == nil) != tt.ok {
				t.Fatalf("Sign with exp = iat + %v: %v", tt.exp.Sub(now), err)
			}
		})
	}
}

func TestKeyring_WrongMasterKey(t *testing.T) {
	db := newTestDB(t)
	mustEnsureKey(t, db.keyring(t, ES256))
	before := db.keyring(t, ES256)
	mustRefresh(t, before)

	other, err := NewKeyring(db.store, mustSealer(t, newMasterKey()), Options{Algorithm: ES256, TokenTTL: ttl, Now: db.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	err = other.EnsureKey(t.Context())
	if !errors.Is(err, ErrWrongMasterKey) || !strings.Contains(err.Error(), "cannot decrypt signing key "+before.Keys()[0].ID) {
		t.Fatalf("EnsureKey with a wrong master key: %v", err)
	}
	// It must not have replaced the key the other nodes sign with.
	mustRefresh(t, before)
	if infos := before.Keys(); len(infos) != 1 || infos[0].State != StateSigning {
		t.Fatalf("after a failed EnsureKey, Keys = %+v, want the one key, signing", infos)
	}
	if _, err := other.Sign(testClaims(db.clock.Now())); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Sign with a wrong master key: %v, want ErrNoKey", err)
	}
}

// A public key written into the database by someone without the master key
// must not be published under a kid whose private key it does not match.
func TestKeyring_ForeignPublicKey(t *testing.T) {
	db := newTestDB(t)
	k := db.keyring(t, ES256)
	mustEnsureKey(t, k)
	good := k.Keys()[0].ID

	victim, err := NewKey(ES256, db.sealer, db.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	attacker, err := NewKey(ES256, mustSealer(t, newMasterKey()), db.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	victim.Public = attacker.Public
	db.clock.Add(time.Second)
	victim.CreatedAt = db.clock.Now()
	if err := db.store.AddSigningKey(t.Context(), victim, db.clock.Now().Add(ttl)); err != nil {
		t.Fatal(err)
	}
	if err := k.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh accepted a key whose public part does not match")
	}
	if _, _, ok := k.VerificationKey(victim.ID); ok {
		t.Error("the mismatched key verifies")
	}
	if kids := jwksKids(t, k.JWKS()); len(kids) != 1 || kids[0] != good {
		t.Errorf("JWKS kids = %q, want only %s", kids, good)
	}
}

func TestKeyring_Run(t *testing.T) {
	t.Run("picks up a rotation", func(t *testing.T) {
		db := newTestDB(t)
		k := db.keyring(t, ES256)
		mustEnsureKey(t, k)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { k.Run(ctx, 10*time.Millisecond); close(done) }()
		defer func() { cancel(); <-done }()

		next := mustRotate(t, db.keyring(t, ES256))
		waitFor(t, func() bool { return kidOf(t, mustSign(t, k, testClaims(db.clock.Now()))) == next.ID })
	})
	t.Run("rotates on age", func(t *testing.T) {
		db := newTestDB(t)
		k, err := NewKeyring(db.store, db.sealer, Options{Algorithm: EdDSA, TokenTTL: ttl, RotateEvery: 720 * time.Hour, Now: db.clock.Now, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		mustEnsureKey(t, k)
		first := k.Keys()[0].ID
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { k.Run(ctx, 10*time.Millisecond); close(done) }()
		defer func() { cancel(); <-done }()

		db.clock.Add(720 * time.Hour)
		waitFor(t, func() bool { return len(k.Keys()) == 2 })
		if got := kidOf(t, mustSign(t, k, testClaims(db.clock.Now()))); got == first {
			t.Fatal("still signing with the old key after the scheduled rotation")
		}
		time.Sleep(50 * time.Millisecond)
		if n := len(k.Keys()); n != 2 {
			t.Fatalf("%d keys after one rotation period, want 2", n)
		}
	})
	t.Run("heals a rotation of another algorithm", func(t *testing.T) {
		db := newTestDB(t)
		k := db.keyring(t, EdDSA)
		mustEnsureKey(t, k)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { k.Run(ctx, 10*time.Millisecond); close(done) }()
		defer func() { cancel(); <-done }()

		// An operator ran `autho keys rotate` with the default ES256.
		db.clock.Add(time.Minute)
		mustRotate(t, db.keyring(t, ES256))
		waitFor(t, func() bool {
			infos := k.Keys()
			if len(infos) != 3 {
				return false
			}
			for _, info := range infos {
				if info.State == StateSigning {
					return info.Algorithm == EdDSA
				}
			}
			return false
		})
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
