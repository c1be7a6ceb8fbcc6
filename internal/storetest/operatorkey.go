package storetest

import (
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

func newOperatorKey(created time.Time) *autho.OperatorKey {
	plain := secret.New(secret.OperatorKey)
	return &autho.OperatorKey{
		ID:        secret.NewID("opk"),
		Name:      "crm-" + secret.Random(6),
		Hash:      secret.Hash(plain),
		Hint:      secret.Hint(plain),
		ReadOnly:  true, // not the zero value, so that a store that drops it fails
		CreatedAt: created,
	}
}

func mustOperatorKey(t *testing.T, s autho.Store, created time.Time) *autho.OperatorKey {
	t.Helper()
	k := newOperatorKey(created)
	wantErr(t, "CreateOperatorKey", s.CreateOperatorKey(t.Context(), k), nil)
	return k
}

func testOperatorKeys(t *testing.T, newStore newStoreFunc) {
	t.Run("create and read by id and by hash", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		got, err := s.OperatorKey(t.Context(), k.ID)
		wantErr(t, "OperatorKey", err, nil)
		check(t, "OperatorKey", got, k)
		got, err = s.OperatorKeyByHash(t.Context(), k.Hash)
		wantErr(t, "OperatorKeyByHash", err, nil)
		check(t, "OperatorKeyByHash", got, k)
	})
	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		mustOperatorKey(t, s, t0)
		_, err := s.OperatorKey(t.Context(), secret.NewID("opk"))
		wantErr(t, "OperatorKey", err, autho.ErrNotFound)
		h := secret.Hash("unknown")
		_, err = s.OperatorKeyByHash(t.Context(), h)
		wantErr(t, "OperatorKeyByHash", err, autho.ErrNotFound)
		noLeak(t, err, h)
	})
	t.Run("duplicate name or hash changes nothing", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		sameName := newOperatorKey(at(time.Minute))
		sameName.Name = k.Name
		wantErr(t, "CreateOperatorKey", s.CreateOperatorKey(t.Context(), sameName), autho.ErrConflict)
		sameHash := newOperatorKey(at(time.Minute))
		sameHash.Hash = k.Hash
		err := s.CreateOperatorKey(t.Context(), sameHash)
		wantErr(t, "CreateOperatorKey", err, autho.ErrConflict)
		noLeak(t, err, k.Hash)
		ks, err := s.OperatorKeys(t.Context())
		wantErr(t, "OperatorKeys", err, nil)
		check(t, "OperatorKeys", ks, []*autho.OperatorKey{k})
	})
	t.Run("list newest first, ties by id descending", func(t *testing.T) {
		s := newStore(t)
		a := mustOperatorKey(t, s, t0)
		b, c := newOperatorKey(at(time.Hour)), newOperatorKey(at(time.Hour))
		b.ID, c.ID = "opk_b", "opk_c"
		wantErr(t, "CreateOperatorKey", s.CreateOperatorKey(t.Context(), b), nil)
		wantErr(t, "CreateOperatorKey", s.CreateOperatorKey(t.Context(), c), nil)
		ks, err := s.OperatorKeys(t.Context())
		wantErr(t, "OperatorKeys", err, nil)
		check(t, "OperatorKeys", ks, []*autho.OperatorKey{c, b, a})
	})
	t.Run("update writes RevokedAt only", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		got, err := s.UpdateOperatorKey(t.Context(), k.ID, func(w *autho.OperatorKey) error {
			w.RevokedAt = at(time.Hour)
			w.Name, w.Hint, w.ReadOnly, w.Hash = "renamed", "hint", false, []byte("x")
			w.CreatedAt, w.LastUsedAt, w.LastUsedIP = at(time.Minute), at(time.Minute), "192.0.2.9"
			return nil
		})
		wantErr(t, "UpdateOperatorKey", err, nil)
		want := *k
		want.RevokedAt = at(time.Hour).UTC()
		check(t, "UpdateOperatorKey", got, &want)
		read, err := s.OperatorKey(t.Context(), k.ID)
		wantErr(t, "OperatorKey", err, nil)
		check(t, "OperatorKey after update", read, &want)
	})
	t.Run("update: fn's error and ErrUnchanged write nothing", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		_, err := s.UpdateOperatorKey(t.Context(), k.ID, func(w *autho.OperatorKey) error { w.RevokedAt = t0; return errAbort })
		wantErr(t, "UpdateOperatorKey", err, errAbort)
		got, err := s.UpdateOperatorKey(t.Context(), k.ID, func(w *autho.OperatorKey) error { w.RevokedAt = t0; return autho.ErrUnchanged },
			t0Audit(autho.AuditOperatorKeyRevoke, k.ID))
		wantErr(t, "UpdateOperatorKey", err, nil)
		check(t, "UpdateOperatorKey unchanged", got, k)
		read, _ := s.OperatorKey(t.Context(), k.ID)
		check(t, "OperatorKey", read, k)
		if es := allEvents(t, s); len(es) != 0 {
			t.Errorf("%d audit events after updates that changed nothing", len(es))
		}
		_, err = s.UpdateOperatorKey(t.Context(), secret.NewID("opk"), func(*autho.OperatorKey) error { return nil })
		wantErr(t, "UpdateOperatorKey unknown", err, autho.ErrNotFound)
	})
	t.Run("record use: newer only, unknown ignored", func(t *testing.T) {
		s := newStore(t)
		k := mustOperatorKey(t, s, t0)
		wantErr(t, "RecordOperatorKeyUse", s.RecordOperatorKeyUse(t.Context(), k.ID, at(2*time.Minute), "192.0.2.1"), nil)
		wantErr(t, "RecordOperatorKeyUse", s.RecordOperatorKeyUse(t.Context(), k.ID, at(time.Minute), "192.0.2.2"), nil)
		wantErr(t, "RecordOperatorKeyUse", s.RecordOperatorKeyUse(t.Context(), "opk_unknown", at(time.Minute), "192.0.2.3"), nil)
		got, err := s.OperatorKey(t.Context(), k.ID)
		wantErr(t, "OperatorKey", err, nil)
		want := *k
		want.LastUsedAt, want.LastUsedIP = at(2*time.Minute).UTC(), "192.0.2.1"
		check(t, "OperatorKey after uses", got, &want)
	})
}

// t0Audit is an audit event of no account, by the CLI, at t0.
func t0Audit(action autho.AuditAction, target string) *autho.AuditEvent {
	e := autho.OperatorCLI.Audit(secret.NewID("aud"), action, t0)
	e.TargetID = target
	return e
}
