package login_test

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/reqbody"
)

// TestService_Serve: a request's pre-checks, in the contract's order (415,
// 413, 429 per IP, 08, 01, 429 per partner token), each alone and each
// before the next. The pre-checks read no store, so one backend serves.
func TestService_Serve(t *testing.T) {
	f := newFixture(t, openSQLite, 2)
	ctx := t.Context()
	good := f.goodPartner(t)
	spent := f.goodPartner(t)
	const spentIP = "203.0.113.9"
	// Two refusals empty the buckets of spentIP and of spent's partner token.
	for range 2 {
		f.svc.Login(ctx, spent.withAPI("autho_api_x"), spentIP)
	}
	jsonOf := func(p partner) string {
		return fmt.Sprintf(`{"api_token":%q,"partner_token":%q}`, p.APIToken, p.PartnerToken)
	}
	form := url.Values{"api_token": {good.APIToken}, "partner_token": {good.PartnerToken}}.Encode()
	big := strings.Repeat(" ", reqbody.MaxBytes) + jsonOf(good)

	for i, tc := range []struct {
		name        string
		contentType string
		length      int64 // -1: the body's own length
		body        io.Reader
		ip          string // "": an address of the case's own
		code        string
	}{
		{"00 JSON", "application/json", -1, strings.NewReader(jsonOf(good)), "", "00"},
		{"00 JSON with parameters", "application/json; charset=utf-8", -1, strings.NewReader(jsonOf(good)), "", "00"},
		{"00 no Content-Type", "", -1, strings.NewReader(jsonOf(good)), "", "00"},
		{"00 form", "application/x-www-form-urlencoded", -1, strings.NewReader(form), "", "00"},
		{"13 another Content-Type", "text/plain", -1, strings.NewReader(jsonOf(good)), "", "13"},
		{"13 before 11: another Content-Type, declared too long", "text/plain", reqbody.MaxBytes + 1, strings.NewReader(jsonOf(good)), "", "13"},
		{"11 declared too long", "application/json", reqbody.MaxBytes + 1, strings.NewReader(jsonOf(good)), "", "11"},
		{"11 before 09: declared too long, from a spent IP", "application/json", reqbody.MaxBytes + 1, strings.NewReader(jsonOf(good)), spentIP, "11"},
		{"09 a spent IP", "application/json", -1, strings.NewReader(jsonOf(good)), spentIP, "09"},
		{"09 before 08: a spent IP, a malformed body", "application/json", -1, strings.NewReader("{"), spentIP, "09"},
		{"11 a body longer than declared", "application/json", 10, strings.NewReader(big), "", "11"},
		{"11 a body longer than the limit, undeclared", "application/json", -1, strings.NewReader(big), "", "11"},
		{"08 a body that cannot be read", "application/json", -1, iotest.ErrReader(errors.New("connection reset")), "", "08"},
		{"08 malformed", "application/json", -1, strings.NewReader(`{"api_token":`), "", "08"},
		{"08 before 01: malformed and missing", "application/json", -1, strings.NewReader(`{"api_token":1`), "", "08"},
		{"01 missing", "application/json", -1, strings.NewReader(`{"api_token":"a"}`), "", "01"},
		{"01 before 09: missing, with a spent partner token", "application/json", -1, strings.NewReader(`{"partner_token":"` + spent.PartnerToken + `"}`), "", "01"},
		{"09 a spent partner token", "application/json", -1, strings.NewReader(jsonOf(spent)), "", "09"},
		{"02 after the pre-checks", "application/json", -1, strings.NewReader(jsonOf(good.withPartner("nope"))), "", "02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ip := tc.ip
			if ip == "" {
				ip = fmt.Sprintf("198.51.100.%d", i+1)
			}
			_, err := f.svc.Serve(ctx, login.Request{ContentType: tc.contentType, Length: tc.length, Body: tc.body, ClientIP: ip})
			wantCode(t, err, tc.code)
		})
	}
}

// TestService_Serve_BadBodiesDoNotCount: answers 400 (08, 01) spend nothing
// of the client's bucket; only refusals of the table do.
func TestService_Serve_BadBodiesDoNotCount(t *testing.T) {
	f := newFixture(t, openSQLite, 2)
	const ip = "198.51.100.200"
	for _, body := range []string{"{", `{"api_token":"a"}`, "{", `{"partner_token":"p"}`} {
		_, err := f.svc.Serve(t.Context(), login.Request{ContentType: "application/json", Length: -1, Body: strings.NewReader(body), ClientIP: ip})
		if err == nil {
			t.Fatalf("%s: logged in", body)
		}
	}
	if err := f.svc.CheckIP(ip); err != nil {
		t.Fatalf("after four 400 answers: %v, want the IP still allowed", err)
	}
}
