// Package storetest is the conformance suite every autho.Store passes. A
// backend's test file says only how to make an empty, migrated store and then
// calls Run, so every backend is held to the same behaviour: the one written
// in the comments of store.go, made concrete here.
//
// Every subtest starts from its own fresh store, so no subtest depends on
// another's leftovers and a failure points at one behaviour.
//
// Where store.go is silent the suite settles the question, so that backends
// cannot drift apart:
//   - a create whose referenced row is missing (a user for an unknown
//     account, a token for an unknown user, a rotation for an unknown
//     account) fails with autho.ErrNotFound;
//   - times come back at microsecond precision in UTC, from reads and from
//     the results of Update methods alike; a zero time is "never" (NULL);
//   - nil and empty scopes come back empty;
//   - APITokens breaks ties in CreatedAt by id, descending, in byte order;
//   - a refused create or rotation changes nothing at all;
//   - no error message quotes a hash.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/secret"
)

// newStoreFunc returns an empty, migrated store. It should register its own
// cleanup (closing the store, dropping a database) with t.Cleanup.
type newStoreFunc = func(t *testing.T) autho.Store

// Run runs the conformance suite. newStore returns an empty, migrated store;
// Run closes nothing, newStore should register t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) autho.Store) {
	groups := []struct {
		name string
		run  func(*testing.T, newStoreFunc)
	}{
		{"CreateAccount", testCreateAccount},
		{"Accounts", testAccounts},
		{"UpdateAccount", testUpdateAccount},
		{"RotatePartnerToken", testRotatePartnerToken},
		{"PartnerCredential", testPartnerCredential},
		{"CreateUser", testCreateUser},
		{"UserByEmail", testUserByEmail},
		{"Users", testUsers},
		{"UpdateUser", testUpdateUser},
		{"CreateAPIToken", testCreateAPIToken},
		{"CreateAPITokenCapped", testCreateAPITokenCapped},
		{"APITokens", testAPITokens},
		{"UpdateAPIToken", testUpdateAPIToken},
		{"APICredential", testAPICredential},
		{"RecordTokenUse", testRecordTokenUse},
		{"Revocations", testRevocations},
		{"RevocationVersion", testRevocationVersion},
		{"LoginCredentials", testLoginCredentials},
		{"AddSigningKey", testAddSigningKey},
		{"DeleteSigningKeys", testDeleteSigningKeys},
		{"Times", testTimes},
		{"Sessions", testSessions},
		{"AuditEvents", testAuditEvents},
		{"Entries", testEntries},
		{"LoginFailures", testLoginFailures},
		{"OperatorKeys", testOperatorKeys},
		{"Idempotency", testIdempotency},
		{"Events", testEvents},
		{"Notices", testNotices},
		{"WebhookEndpoints", testWebhookEndpoints},
		{"Deliveries", testDeliveries},
		{"Ping", testPing},
		{"MFA", testMFA},
		{"Invitations", testInvitations},
		{"Passkeys", testPasskeys},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, newStore) })
	}
}

// errAbort is what update callbacks return to prove that their error aborts
// the update and comes back unchanged.
var errAbort = errors.New("storetest: aborted by fn")

// zone is deliberately not UTC: stores must hand back the same instant in UTC
// whatever zone the caller wrote it in.
var zone = time.FixedZone("UTC+5:30", 5*3600+30*60)

// t0 is the suite's "now": a fixed instant with a non-zero microsecond part,
// so a store that keeps only seconds or milliseconds fails.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456000, zone)

func at(d time.Duration) time.Time { return t0.Add(d) }

// newAccount builds, without storing, an active account expiring in a year
// and its first partner token.
func newAccount() (*autho.Account, *autho.PartnerToken) {
	tok := secret.New(secret.PartnerToken)
	a := &autho.Account{
		ID:        secret.NewID("acc"),
		Name:      "Partner " + secret.Random(6),
		Status:    autho.AccountActive,
		ExpiresAt: at(365 * 24 * time.Hour),
		// Not empty, so that a store which drops them fails every
		// comparison of an account.
		AllowedScopes: []string{"orders:read", "orders:write"},
		CreatedAt:     t0,
		UpdatedAt:     t0,
	}
	pt := &autho.PartnerToken{
		ID:        secret.NewID("ptk"),
		AccountID: a.ID,
		Hash:      secret.Hash(tok),
		Hint:      secret.Hint(tok),
		CreatedAt: t0,
	}
	return a, pt
}

// mustAccount stores a new account and returns it as a read should return it,
// partner token hint included.
func mustAccount(t *testing.T, s autho.Store) (*autho.Account, *autho.PartnerToken) {
	t.Helper()
	a, pt := newAccount()
	if err := s.CreateAccount(t.Context(), a, pt); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	a.PartnerTokenHint = pt.Hint
	return a, pt
}

// newPartnerToken builds, without storing, a partner token for a rotation.
func newPartnerToken(accountID string, created time.Time) *autho.PartnerToken {
	tok := secret.New(secret.PartnerToken)
	return &autho.PartnerToken{
		ID:        secret.NewID("ptk"),
		AccountID: accountID,
		Hash:      secret.Hash(tok),
		Hint:      secret.Hint(tok),
		CreatedAt: created,
	}
}

func newUser(accountID string) *autho.User {
	return &autho.User{
		ID:           secret.NewID("usr"),
		AccountID:    accountID,
		Email:        secret.Random(8) + "@Example.COM",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$" + secret.Random(22) + "$" + secret.Random(43),
		// Not zero, so that a store which drops it fails every comparison.
		PasswordEpoch: 3,
		Role:          autho.RoleMember,
		Active:        true,
		CreatedAt:     t0,
		UpdatedAt:     t0,
	}
}

func mustUser(t *testing.T, s autho.Store, accountID string) *autho.User {
	t.Helper()
	u := newUser(accountID)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

func newAPIToken(u *autho.User, created time.Time) *autho.APIToken {
	tok := secret.New(secret.APIToken)
	return &autho.APIToken{
		ID:        secret.NewID("tok"),
		UserID:    u.ID,
		AccountID: u.AccountID,
		Name:      "ci " + secret.Random(4),
		Hash:      secret.Hash(tok),
		Hint:      secret.Hint(tok),
		Scopes:    []string{"orders:read", "orders:write"},
		CreatedAt: created,
		ExpiresAt: created.Add(90 * 24 * time.Hour),
	}
}

func mustAPIToken(t *testing.T, s autho.Store, u *autho.User, created time.Time) *autho.APIToken {
	t.Helper()
	tk := newAPIToken(u, created)
	if err := s.CreateAPIToken(t.Context(), tk); err != nil {
		t.Fatalf("CreateAPIToken: %v", err)
	}
	return tk
}

// mustAll is the common start of token tests: one account, one user of it.
func mustAll(t *testing.T, s autho.Store) (*autho.Account, *autho.User) {
	t.Helper()
	a, _ := mustAccount(t, s)
	return a, mustUser(t, s, a.ID)
}

func newKey(alg string, created time.Time) *autho.SigningKey {
	k := &autho.SigningKey{
		ID:        secret.NewID("key"),
		Algorithm: alg,
		Sealed:    []byte("sealed\x00\xff" + secret.Random(32)),
		CreatedAt: created,
	}
	if alg != "HS256" {
		k.Public = []byte("\x30\x59\x00\xfe public " + secret.Random(16))
	}
	return k
}

func mustKey(t *testing.T, s autho.Store, k *autho.SigningKey, verifyUntil time.Time) {
	t.Helper()
	if err := s.AddSigningKey(t.Context(), k, verifyUntil); err != nil {
		t.Fatalf("AddSigningKey: %v", err)
	}
}

// wantErr fails unless err is (wraps) want; want nil means no error.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error %v, want errors.Is(err, %v)", what, err, want)
	}
}

// noLeak fails if an error message shows a stored secret's hash: errors end
// up in logs, and a hash is enough to look a credential up.
func noLeak(t *testing.T, err error, hash []byte) {
	t.Helper()
	if err == nil || len(hash) == 0 {
		return
	}
	msg := err.Error()
	for _, enc := range []string{fmt.Sprintf("%x", hash), fmt.Sprintf("%X", hash), string(hash)} {
		if bytes.Contains([]byte(msg), []byte(enc)) {
			t.Errorf("error %q shows a hash", msg)
		}
	}
}

// check compares got with want field by field and reports every difference.
// Times compare as instants and must come back in UTC; a nil and an empty
// slice are the same, since a SQL column cannot tell them apart.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	var diffs []string
	diff(what, reflect.ValueOf(got), reflect.ValueOf(want), &diffs)
	for _, d := range diffs {
		t.Error(d)
	}
}

var timeType = reflect.TypeFor[time.Time]()

func diff(path string, got, want reflect.Value, out *[]string) {
	if got.Type() != want.Type() {
		*out = append(*out, fmt.Sprintf("%s: type %v, want %v", path, got.Type(), want.Type()))
		return
	}
	switch {
	case got.Type() == timeType:
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		switch {
		case g.IsZero() != w.IsZero() || !g.Equal(w):
			*out = append(*out, fmt.Sprintf("%s = %v, want %v", path, g, w))
		case !g.IsZero() && g.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s = %v: location %v, want UTC", path, g, g.Location()))
		}
	case got.Kind() == reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: nil mismatch (got nil %v)", path, got.IsNil()))
			}
			return
		}
		diff(path, got.Elem(), want.Elem(), out)
	case got.Kind() == reflect.Struct:
		for i := range got.NumField() {
			diff(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i), out)
		}
	case got.Kind() == reflect.Slice && got.Type().Elem().Kind() == reflect.Uint8:
		// Bytes are hashes and sealed keys: say that they differ, not what
		// they are.
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			*out = append(*out, fmt.Sprintf("%s: %d bytes differ from the %d written", path, got.Len(), want.Len()))
		}
	case got.Kind() == reflect.Slice:
		if got.Len() != want.Len() {
			*out = append(*out, fmt.Sprintf("%s: len %d, want %d (%v, want %v)", path, got.Len(), want.Len(), got, want))
			return
		}
		for i := range got.Len() {
			diff(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i), out)
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*out = append(*out, fmt.Sprintf("%s = %#v, want %#v", path, got.Interface(), want.Interface()))
		}
	}
}

// checkUpdateWrites pins the fields an Update method writes (store.go names
// them). fn overwrites every field of cur, the row stored under id, with
// next's, which must differ from cur's in every field, so that a field added
// to the type later must be placed on one side or the other; the result and
// a later read must both be cur with only the fields write copies taken
// from next.
func checkUpdateWrites[T any](t *testing.T, id string, cur, next *T,
	update func(ctx context.Context, id string, fn func(*T) error, entries ...autho.Entry) (*T, error),
	read func(ctx context.Context, id string) (*T, error),
	write func(dst, src *T)) {
	t.Helper()
	c, n := reflect.ValueOf(cur).Elem(), reflect.ValueOf(next).Elem()
	for i := range c.NumField() {
		var d []string
		if diff("", c.Field(i), n.Field(i), &d); len(d) == 0 {
			t.Fatalf("%s: next must differ from the stored row in every field", c.Type().Field(i).Name)
		}
	}
	want := *cur
	write(&want, next)
	got, err := update(t.Context(), id, func(x *T) error { *x = *next; return nil })
	wantErr(t, "update", err, nil)
	check(t, "update result", got, &want)
	got, err = read(t.Context(), id)
	wantErr(t, "read after update", err, nil)
	check(t, "read after update", got, &want)
}

// ids lists the ids of stored objects, in the order given.
func ids[T any](xs []*T, id func(*T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}

func testPing(t *testing.T, newStore newStoreFunc) {
	t.Run("ok", func(t *testing.T) {
		if err := newStore(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping = %v", err)
		}
	})
}
