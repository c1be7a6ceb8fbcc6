package storetest

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func testCreateAPIToken(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		got, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, nil)
		check(t, "APIToken", got, tk)
	})
	t.Run("scopes", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			scopes []string
		}{
			{"nil", nil},
			{"empty", []string{}},
			{"one", []string{"read"}},
			{"ordered", []string{"a", "b:c"}},
			{"not sorted", []string{"z", "a:b", "m"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				_, u := mustAll(t, s)
				tk := newAPIToken(u, t0)
				tk.Scopes = tc.scopes
				wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), tk), nil)
				got, err := s.APIToken(t.Context(), tk.ID)
				wantErr(t, "APIToken", err, nil)
				if !slices.Equal(got.Scopes, tc.scopes) {
					t.Fatalf("Scopes = %q (len %d), want %q", got.Scopes, len(got.Scopes), tc.scopes)
				}
			})
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustAPIToken(t, s, u, t0)
		_, err := s.APIToken(t.Context(), secret.NewID("tok"))
		wantErr(t, "APIToken", err, autho.ErrNotFound)
	})
	t.Run("duplicate id", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		dup := newAPIToken(u, t0)
		dup.ID = tk.ID
		wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), dup), autho.ErrConflict)
		got, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, nil)
		check(t, "APIToken", got, tk)
	})
	t.Run("duplicate hash", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		dup := newAPIToken(u, t0)
		dup.Hash = tk.Hash
		err := s.CreateAPIToken(t.Context(), dup)
		wantErr(t, "CreateAPIToken", err, autho.ErrConflict)
		noLeak(t, err, tk.Hash)
		_, err = s.APIToken(t.Context(), dup.ID)
		wantErr(t, "APIToken of refused create", err, autho.ErrNotFound)
	})
	t.Run("unknown user", func(t *testing.T) {
		s := newStore(t)
		a, _ := mustAll(t, s)
		tk := newAPIToken(&autho.User{ID: secret.NewID("usr"), AccountID: a.ID}, t0)
		wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), tk), autho.ErrNotFound)
		_, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, autho.ErrNotFound)
	})
}

func testAPITokens(t *testing.T, newStore newStoreFunc) {
	tokenID := func(tk *autho.APIToken) string { return tk.ID }
	t.Run("filters", func(t *testing.T) {
		s := newStore(t)
		a, a1 := mustAll(t, s)
		a2 := mustUser(t, s, a.ID)
		b, b1 := mustAll(t, s)
		// Created out of order, so insertion order is not creation order.
		t3 := mustAPIToken(t, s, a1, at(2*time.Minute))
		t1 := mustAPIToken(t, s, a1, at(0))
		t4 := mustAPIToken(t, s, b1, at(3*time.Minute))
		t2 := mustAPIToken(t, s, a2, at(1*time.Minute))
		for _, tc := range []struct {
			name   string
			filter autho.TokenFilter
			want   []*autho.APIToken
		}{
			{"all", autho.TokenFilter{}, []*autho.APIToken{t4, t3, t2, t1}},
			{"account", autho.TokenFilter{AccountID: a.ID}, []*autho.APIToken{t3, t2, t1}},
			{"other account", autho.TokenFilter{AccountID: b.ID}, []*autho.APIToken{t4}},
			{"user", autho.TokenFilter{UserID: a1.ID}, []*autho.APIToken{t3, t1}},
			{"account and user", autho.TokenFilter{AccountID: a.ID, UserID: a2.ID}, []*autho.APIToken{t2}},
			{"user of another account", autho.TokenFilter{AccountID: b.ID, UserID: a1.ID}, nil},
			{"unknown account", autho.TokenFilter{AccountID: secret.NewID("acc")}, nil},
			{"unknown user", autho.TokenFilter{UserID: secret.NewID("usr")}, nil},
			// Each expires 90 days after it was made.
			{"expiring in a range", autho.TokenFilter{Expiring: &autho.TimeRange{From: at(90*24*time.Hour + 30*time.Second), To: at(90*24*time.Hour + 2*time.Minute)}}, []*autho.APIToken{t3, t2}},
			{"expiring after From, not at it", autho.TokenFilter{Expiring: &autho.TimeRange{From: at(90*24*time.Hour + time.Minute), To: at(90*24*time.Hour + 2*time.Minute)}}, []*autho.APIToken{t3}},
			{"expiring, of an account", autho.TokenFilter{AccountID: b.ID, Expiring: &autho.TimeRange{From: at(0), To: at(100 * 24 * time.Hour)}}, []*autho.APIToken{t4}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.APITokens(t.Context(), tc.filter)
				wantErr(t, "APITokens", err, nil)
				if g, w := ids(got, tokenID), ids(tc.want, tokenID); !slices.Equal(g, w) {
					t.Fatalf("APITokens(%+v) = %q, want %q (newest first)", tc.filter, g, w)
				}
				for i := range got {
					check(t, "APITokens["+strconv.Itoa(i)+"]", got[i], tc.want[i])
				}
			})
		}
	})
	t.Run("expiring leaves revoked tokens out", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		live, gone := mustAPIToken(t, s, u, at(0)), mustAPIToken(t, s, u, at(time.Second))
		_, err := s.UpdateAPIToken(t.Context(), gone.ID, func(tk *autho.APIToken) error { tk.RevokedAt = at(time.Minute); return nil })
		wantErr(t, "UpdateAPIToken", err, nil)
		got, err := s.APITokens(t.Context(), autho.TokenFilter{Expiring: &autho.TimeRange{From: at(0), To: at(100 * 24 * time.Hour)}})
		wantErr(t, "APITokens", err, nil)
		if g := ids(got, tokenID); !slices.Equal(g, []string{live.ID}) {
			t.Fatalf("expiring tokens %q, want only the unrevoked %q", g, live.ID)
		}
	})
	t.Run("empty", func(t *testing.T) {
		got, err := newStore(t).APITokens(t.Context(), autho.TokenFilter{})
		wantErr(t, "APITokens", err, nil)
		if len(got) != 0 {
			t.Fatalf("APITokens of an empty store = %d tokens", len(got))
		}
	})
	t.Run("ties by id descending", func(t *testing.T) {
		// Tokens created in the same microsecond still list in one stable
		// order. The ids differ only in a final digit so that every
		// collation orders them alike.
		s := newStore(t)
		_, u := mustAll(t, s)
		base := secret.NewID("tok")
		var want []string
		for _, i := range []int{3, 1, 4, 0, 2} {
			tk := newAPIToken(u, t0)
			tk.ID = base + strconv.Itoa(i)
			wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), tk), nil)
			want = append(want, tk.ID)
		}
		slices.Sort(want)
		slices.Reverse(want)
		got, err := s.APITokens(t.Context(), autho.TokenFilter{UserID: u.ID})
		wantErr(t, "APITokens", err, nil)
		if g := ids(got, tokenID); !slices.Equal(g, want) {
			t.Fatalf("APITokens = %q, want %q", g, want)
		}
	})
}

func testUpdateAPIToken(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		want := *tk
		want.Name = "renamed"
		want.Scopes = []string{"x:y"}
		want.ExpiresAt = at(time.Hour)
		want.RevokedAt = at(30 * time.Minute)
		got, err := s.UpdateAPIToken(t.Context(), tk.ID, func(cur *autho.APIToken) error {
			check(t, "token given to fn", cur, tk)
			cur.Name, cur.Scopes, cur.ExpiresAt, cur.RevokedAt = want.Name, want.Scopes, want.ExpiresAt, want.RevokedAt
			return nil
		})
		wantErr(t, "UpdateAPIToken", err, nil)
		check(t, "UpdateAPIToken result", got, &want)
		read, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, nil)
		check(t, "APIToken after update", read, &want)
		if !read.Revoked() {
			t.Error("token not revoked after update")
		}
	})
	t.Run("writes only its fields", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		use := autho.TokenUse{TokenID: tk.ID, At: at(time.Minute), IP: "192.0.2.1"}
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{use}), nil)
		tk.LastUsedAt, tk.LastUsedIP = use.At, use.IP
		// Owned by a user of another account, both of which exist, so that
		// a store writing them would not fail on a foreign key instead.
		_, v := mustAll(t, s)
		next := newAPIToken(v, at(-time.Hour))
		next.Name, next.Hint = "renamed", "not a hint"
		next.Scopes, next.ExpiresAt, next.RevokedAt = []string{"x:y"}, at(time.Hour), at(30*time.Minute)
		next.LastUsedAt, next.LastUsedIP = at(2*time.Hour), "192.0.2.2"
		checkUpdateWrites(t, tk.ID, tk, next, s.UpdateAPIToken, s.APIToken, func(dst, src *autho.APIToken) {
			dst.Name, dst.Scopes, dst.ExpiresAt, dst.RevokedAt = src.Name, src.Scopes, src.ExpiresAt, src.RevokedAt
		})
	})
	t.Run("clear scopes", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		_, err := s.UpdateAPIToken(t.Context(), tk.ID, func(tk *autho.APIToken) error { tk.Scopes = nil; return nil })
		wantErr(t, "UpdateAPIToken", err, nil)
		read, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, nil)
		if len(read.Scopes) != 0 {
			t.Fatalf("Scopes = %q after clearing", read.Scopes)
		}
	})
	t.Run("fn error", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		_, err := s.UpdateAPIToken(t.Context(), tk.ID, func(tk *autho.APIToken) error {
			tk.RevokedAt = at(time.Minute)
			return errAbort
		})
		wantErr(t, "UpdateAPIToken", err, errAbort)
		got, err := s.APIToken(t.Context(), tk.ID)
		wantErr(t, "APIToken", err, nil)
		check(t, "APIToken after aborted update", got, tk)
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustAPIToken(t, s, u, t0)
		called := false
		_, err := s.UpdateAPIToken(t.Context(), secret.NewID("tok"), func(*autho.APIToken) error { called = true; return nil })
		wantErr(t, "UpdateAPIToken", err, autho.ErrNotFound)
		if called {
			t.Error("fn called for a missing token")
		}
	})
}

func testAPICredential(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		mustAPIToken(t, s, u, t0)
		c, err := s.APICredential(t.Context(), tk.Hash)
		wantErr(t, "APICredential", err, nil)
		check(t, "APICredential", c, &autho.APICredential{Token: *tk, UserActive: true})
	})
	t.Run("deactivated user", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		_, err := s.UpdateUser(t.Context(), u.ID, func(u *autho.User) error { u.Active = false; return nil })
		wantErr(t, "UpdateUser", err, nil)
		c, err := s.APICredential(t.Context(), tk.Hash)
		wantErr(t, "APICredential", err, nil)
		check(t, "APICredential", c, &autho.APICredential{Token: *tk, UserActive: false})
	})
	t.Run("revoked, expired and used", func(t *testing.T) {
		// The caller judges revocation and expiry, so the store returns the
		// token whatever its state.
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := newAPIToken(u, at(-48*time.Hour))
		tk.ExpiresAt = at(-time.Hour)
		wantErr(t, "CreateAPIToken", s.CreateAPIToken(t.Context(), tk), nil)
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{{TokenID: tk.ID, At: at(-2 * time.Hour), IP: "192.0.2.1"}}), nil)
		want, err := s.UpdateAPIToken(t.Context(), tk.ID, func(tk *autho.APIToken) error { tk.RevokedAt = at(-90 * time.Minute); return nil })
		wantErr(t, "UpdateAPIToken", err, nil)
		c, err := s.APICredential(t.Context(), tk.Hash)
		wantErr(t, "APICredential", err, nil)
		check(t, "APICredential", c, &autho.APICredential{Token: *want, UserActive: true})
		if c.Token.LastUsedIP != "192.0.2.1" || !c.Token.Revoked() {
			t.Errorf("APICredential = %+v, want used from 192.0.2.1 and revoked", c.Token)
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustAPIToken(t, s, u, t0)
		for _, tc := range []struct {
			name string
			hash []byte
		}{
			{"unknown hash", secret.Hash(secret.New(secret.APIToken))},
			{"empty hash", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.APICredential(t.Context(), tc.hash)
				wantErr(t, "APICredential", err, autho.ErrNotFound)
				noLeak(t, err, tc.hash)
			})
		}
	})
	t.Run("partner token hash is not an api token", func(t *testing.T) {
		s := newStore(t)
		_, pt := mustAccount(t, s)
		_, err := s.APICredential(t.Context(), pt.Hash)
		wantErr(t, "APICredential", err, autho.ErrNotFound)
	})
}

func testRecordTokenUse(t *testing.T, newStore newStoreFunc) {
	// lastUse reads back what RecordTokenUse left on a token.
	lastUse := func(t *testing.T, s autho.Store, id string) autho.TokenUse {
		t.Helper()
		tk, err := s.APIToken(t.Context(), id)
		wantErr(t, "APIToken", err, nil)
		return autho.TokenUse{TokenID: id, At: tk.LastUsedAt, IP: tk.LastUsedIP}
	}
	t.Run("ok", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		use := autho.TokenUse{TokenID: tk.ID, At: at(time.Hour), IP: "2001:db8::1"}
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{use}), nil)
		check(t, "last use", lastUse(t, s, tk.ID), use)
	})
	t.Run("newer use overwrites", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		first := autho.TokenUse{TokenID: tk.ID, At: at(time.Hour), IP: "192.0.2.1"}
		second := autho.TokenUse{TokenID: tk.ID, At: at(2 * time.Hour), IP: "192.0.2.2"}
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{first}), nil)
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{second}), nil)
		check(t, "last use", lastUse(t, s, tk.ID), second)
	})
	t.Run("older use ignored", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		tk := mustAPIToken(t, s, u, t0)
		newer := autho.TokenUse{TokenID: tk.ID, At: at(2 * time.Hour), IP: "192.0.2.2"}
		older := autho.TokenUse{TokenID: tk.ID, At: at(time.Hour), IP: "192.0.2.1"}
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{newer}), nil)
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), []autho.TokenUse{older}), nil)
		check(t, "last use", lastUse(t, s, tk.ID), newer)
	})
	t.Run("batch", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		x := mustAPIToken(t, s, u, t0)
		y := mustAPIToken(t, s, u, t0)
		z := mustAPIToken(t, s, u, t0)
		uses := []autho.TokenUse{
			{TokenID: x.ID, At: at(1 * time.Hour), IP: "192.0.2.1"},
			{TokenID: y.ID, At: at(3 * time.Hour), IP: "192.0.2.3"},
			{TokenID: secret.NewID("tok"), At: at(4 * time.Hour), IP: "192.0.2.4"},
			{TokenID: x.ID, At: at(2 * time.Hour), IP: "192.0.2.2"},
			{TokenID: x.ID, At: at(30 * time.Minute), IP: "192.0.2.0"},
		}
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), uses), nil)
		for _, tc := range []struct {
			name string
			want autho.TokenUse
		}{
			{"newest of several", uses[3]},
			{"single", uses[1]},
			{"unused", autho.TokenUse{TokenID: z.ID}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				check(t, "last use", lastUse(t, s, tc.want.TokenID), tc.want)
			})
		}
	})
	t.Run("unknown ids ignored", func(t *testing.T) {
		s := newStore(t)
		_, u := mustAll(t, s)
		mustAPIToken(t, s, u, t0)
		uses := []autho.TokenUse{{TokenID: secret.NewID("tok"), At: t0, IP: "192.0.2.1"}}
		wantErr(t, "RecordTokenUse", s.RecordTokenUse(t.Context(), uses), nil)
	})
	t.Run("empty", func(t *testing.T) {
		s := newStore(t)
		wantErr(t, "RecordTokenUse(nil)", s.RecordTokenUse(t.Context(), nil), nil)
		wantErr(t, "RecordTokenUse([])", s.RecordTokenUse(t.Context(), []autho.TokenUse{}), nil)
	})
}
