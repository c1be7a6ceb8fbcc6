package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/autho/autho"
)

func testAddSigningKey(t *testing.T, newStore newStoreFunc) {
	keyID := func(k *autho.SigningKey) string { return k.ID }
	t.Run("empty", func(t *testing.T) {
		got, err := newStore(t).SigningKeys(t.Context())
		wantErr(t, "SigningKeys", err, nil)
		if len(got) != 0 {
			t.Fatalf("SigningKeys of an empty store = %d keys", len(got))
		}
	})
	for _, alg := range []string{"ES256", "EdDSA", "RS256", "HS256"} {
		t.Run("ok "+alg, func(t *testing.T) {
			s := newStore(t)
			k := newKey(alg, t0)
			mustKey(t, s, k, at(time.Hour))
			got, err := s.SigningKeys(t.Context())
			wantErr(t, "SigningKeys", err, nil)
			if len(got) != 1 {
				t.Fatalf("SigningKeys = %d keys, want 1", len(got))
			}
			// HS256 has no public key; it comes back empty.
			check(t, "SigningKeys[0]", got[0], k)
			if alg == "HS256" && len(got[0].Public) != 0 {
				t.Errorf("Public = %d bytes for HS256, want none", len(got[0].Public))
			}
		})
	}
	t.Run("rotation", func(t *testing.T) {
		s := newStore(t)
		k1 := newKey("ES256", t0)
		k2 := newKey("ES256", at(time.Hour))
		k3 := newKey("EdDSA", at(2*time.Hour))
		v2, v3 := at(25*time.Hour), at(26*time.Hour)
		mustKey(t, s, k1, at(-time.Hour)) // nothing to retire yet
		mustKey(t, s, k2, v2)
		mustKey(t, s, k3, v3)

		want1, want2, want3 := *k1, *k2, *k3
		// k1 was retired by k2, and k3 leaves it as it was.
		want1.RetiredAt, want1.VerifyUntil = k2.CreatedAt, v2
		want2.RetiredAt, want2.VerifyUntil = k3.CreatedAt, v3
		want := []*autho.SigningKey{&want1, &want2, &want3}

		got, err := s.SigningKeys(t.Context())
		wantErr(t, "SigningKeys", err, nil)
		if g, w := ids(got, keyID), ids(want, keyID); !slices.Equal(g, w) {
			t.Fatalf("SigningKeys = %q, want %q (oldest first)", g, w)
		}
		for i, name := range []string{"first", "second", "current"} {
			t.Run(name, func(t *testing.T) { check(t, "key", got[i], want[i]) })
		}
	})
	t.Run("oldest first", func(t *testing.T) {
		s := newStore(t)
		var want []string
		for _, d := range []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute} {
			k := newKey("ES256", at(d))
			mustKey(t, s, k, at(d+time.Hour))
			want = append(want, k.ID)
		}
		got, err := s.SigningKeys(t.Context())
		wantErr(t, "SigningKeys", err, nil)
		if g := ids(got, keyID); !slices.Equal(g, want) {
			t.Fatalf("SigningKeys = %q, want %q", g, want)
		}
	})
	t.Run("duplicate id", func(t *testing.T) {
		s := newStore(t)
		k1 := newKey("ES256", t0)
		mustKey(t, s, k1, at(time.Hour))
		dup := newKey("ES256", at(time.Hour))
		dup.ID = k1.ID
		err := s.AddSigningKey(t.Context(), dup, at(2*time.Hour))
		wantErr(t, "AddSigningKey", err, autho.ErrConflict)
		// A refused key retires nothing.
		got, err := s.SigningKeys(t.Context())
		wantErr(t, "SigningKeys", err, nil)
		if len(got) != 1 {
			t.Fatalf("SigningKeys = %d keys, want 1", len(got))
		}
		check(t, "key after refused add", got[0], k1)
	})
}

func testDeleteSigningKeys(t *testing.T, newStore newStoreFunc) {
	keyID := func(k *autho.SigningKey) string { return k.ID }
	s := newStore(t)
	var keys []*autho.SigningKey
	for i, alg := range []string{"ES256", "HS256", "EdDSA"} {
		k := newKey(alg, at(time.Duration(i)*time.Hour))
		mustKey(t, s, k, at(time.Duration(i)*time.Hour+time.Minute))
		keys = append(keys, k)
	}
	err := s.DeleteSigningKeys(t.Context(), []string{keys[0].ID, keys[2].ID, "key_unknown"})
	wantErr(t, "DeleteSigningKeys", err, nil)
	got, err := s.SigningKeys(t.Context())
	wantErr(t, "SigningKeys", err, nil)
	if g := ids(got, keyID); !slices.Equal(g, []string{keys[1].ID}) {
		t.Fatalf("SigningKeys after delete = %q, want %q", g, keys[1].ID)
	}
	wantErr(t, "DeleteSigningKeys of none", s.DeleteSigningKeys(t.Context(), nil), nil)
}
