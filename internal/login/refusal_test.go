package login_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/login"
)

// TestRefusal is the refusal table over records, with no store: each code,
// each boundary (an expiry is reached at its instant), and pairs of failing
// conditions that show the table's order.
func TestRefusal(t *testing.T) {
	now := start
	good := func() *autho.LoginRecord {
		return &autho.LoginRecord{
			Account: autho.LoginAccount{ID: "acc_1", Status: autho.AccountActive, ExpiresAt: now.Add(time.Hour)},
			Token: &autho.LoginToken{ID: "tok_1", UserID: "usr_1", AccountID: "acc_1", ExpiresAt: now.Add(time.Hour),
				UserActive: true},
		}
	}
	ended := func(r *autho.LoginRecord) { r.PartnerTokenEnds = now }
	accountExpired := func(r *autho.LoginRecord) { r.Account.ExpiresAt = now }
	suspended := func(r *autho.LoginRecord) { r.Account.Status = autho.AccountSuspended }
	noToken := func(r *autho.LoginRecord) { r.Token = nil }
	revoked := func(r *autho.LoginRecord) { r.Token.RevokedAt = now.Add(-time.Minute) }
	otherAccount := func(r *autho.LoginRecord) { r.Token.AccountID = "acc_2" }
	tokenExpired := func(r *autho.LoginRecord) { r.Token.ExpiresAt = now }
	deactivated := func(r *autho.LoginRecord) { r.Token.UserActive = false }

	for _, tc := range []struct {
		name  string
		edits []func(*autho.LoginRecord)
		nil   bool // no record: no partner token has the secret
		want  *autho.Error
	}{
		{name: "00 a usable pair"},
		{name: "00 partner token in its grace", edits: []func(*autho.LoginRecord){func(r *autho.LoginRecord) { r.PartnerTokenEnds = now.Add(time.Microsecond) }}},
		{name: "00 API token expiring just after now", edits: []func(*autho.LoginRecord){func(r *autho.LoginRecord) { r.Token.ExpiresAt = now.Add(time.Microsecond) }}},
		{name: "02 no partner token", nil: true, want: autho.ErrInvalidPartnerToken},
		{name: "02 partner token ended at now", edits: []func(*autho.LoginRecord){ended}, want: autho.ErrInvalidPartnerToken},
		{name: "02 before 03: ended partner token, expired account", edits: []func(*autho.LoginRecord){ended, accountExpired}, want: autho.ErrInvalidPartnerToken},
		{name: "03 account expired at now", edits: []func(*autho.LoginRecord){accountExpired}, want: autho.ErrAccountExpired},
		{name: "03 before 07: account expired and suspended", edits: []func(*autho.LoginRecord){accountExpired, suspended}, want: autho.ErrAccountExpired},
		{name: "03 before 04: account expired, no API token", edits: []func(*autho.LoginRecord){accountExpired, noToken}, want: autho.ErrAccountExpired},
		{name: "07 account suspended", edits: []func(*autho.LoginRecord){suspended}, want: autho.ErrInvalidUser},
		{name: "07 account in a status not active", edits: []func(*autho.LoginRecord){func(r *autho.LoginRecord) { r.Account.Status = "closed" }}, want: autho.ErrInvalidUser},
		{name: "07 before 04: account suspended, no API token", edits: []func(*autho.LoginRecord){suspended, noToken}, want: autho.ErrInvalidUser},
		{name: "04 no API token", edits: []func(*autho.LoginRecord){noToken}, want: autho.ErrInvalidAPIToken},
		{name: "04 API token revoked", edits: []func(*autho.LoginRecord){revoked}, want: autho.ErrInvalidAPIToken},
		{name: "04 before 06: revoked token of another account", edits: []func(*autho.LoginRecord){revoked, otherAccount}, want: autho.ErrInvalidAPIToken},
		{name: "04 before 05: API token revoked and expired", edits: []func(*autho.LoginRecord){revoked, tokenExpired}, want: autho.ErrInvalidAPIToken},
		{name: "06 API token of another account", edits: []func(*autho.LoginRecord){otherAccount}, want: autho.ErrWrongAccount},
		{name: "06 before 05: expired token of another account", edits: []func(*autho.LoginRecord){otherAccount, tokenExpired}, want: autho.ErrWrongAccount},
		{name: "05 API token expired at now", edits: []func(*autho.LoginRecord){tokenExpired}, want: autho.ErrAPITokenExpired},
		{name: "05 before 07: expired token of a deactivated user", edits: []func(*autho.LoginRecord){tokenExpired, deactivated}, want: autho.ErrAPITokenExpired},
		{name: "07 user deactivated", edits: []func(*autho.LoginRecord){deactivated}, want: autho.ErrInvalidUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			for _, e := range tc.edits {
				e(r)
			}
			if tc.nil {
				r = nil
			}
			if got := login.Refusal(r, now); got != tc.want {
				t.Fatalf("Refusal = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRecordOf: the record of full rows holds what a login reads of them,
// and no partner token end.
func TestRecordOf(t *testing.T) {
	a := &autho.Account{ID: "acc_1", Name: "A", Status: autho.AccountSuspended, ExpiresAt: start, CreatedAt: start, PartnerTokenHint: "h"}
	tk := &autho.APIToken{ID: "tok_1", UserID: "usr_1", AccountID: "acc_1", Name: "n", Hash: []byte{1}, Hint: "h",
		Scopes: []string{"s"}, CreatedAt: start, ExpiresAt: start.Add(time.Hour), LastUsedAt: start, LastUsedIP: "192.0.2.1",
		RevokedAt: start.Add(time.Minute)}
	u := &autho.User{ID: "usr_1", AccountID: "acc_1", Active: true}
	got := login.RecordOf(a, tk, u)
	want := autho.LoginRecord{
		Account: autho.LoginAccount{ID: "acc_1", Status: autho.AccountSuspended, ExpiresAt: start},
		Token: &autho.LoginToken{ID: "tok_1", UserID: "usr_1", AccountID: "acc_1", Scopes: []string{"s"},
			ExpiresAt: start.Add(time.Hour), RevokedAt: start.Add(time.Minute), UserActive: true},
	}
	if got.Token == nil || !reflect.DeepEqual(*got.Token, *want.Token) || !reflect.DeepEqual(*got, autho.LoginRecord{Account: want.Account, Token: got.Token}) {
		t.Fatalf("RecordOf = %+v (token %+v), want %+v (token %+v)", *got, got.Token, want, *want.Token)
	}
}
