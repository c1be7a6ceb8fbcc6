package portal_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/portal"
)

const day = 24 * time.Hour

// noticeTokens arranges, through the store, tokens in every state of
// notice, and returns them by name with the clock at the moment the list
// is looked at.
func noticeTokens(e *env) map[string]*autho.APIToken {
	e.t.Helper()
	ctx := context.Background()
	type spec struct {
		name    string
		owner   *autho.User
		expires time.Duration // from the moment the list is looked at
		used    time.Duration // how long before that moment it was used; 0: never
		revoke  bool
	}
	// The moment the list is looked at: 100 days after the tokens were
	// made, a minute apart each.
	specs := []spec{
		{"soon-one", e.ann, 5 * day, time.Hour, false},
		{"never-one", e.bob, 200 * day, 0, false},
		{"idle-one", e.ann, 200 * day, 100 * day, false},
		{"both-one", e.bob, day, 0, false},
		{"edge-in", e.boss, 30 * day, time.Hour, false},
		{"edge-out", e.ann, 30*day + time.Minute, time.Hour, false},
		{"today-one", e.boss, 3 * time.Hour, time.Hour, false},
		{"revoked-one", e.ann, 5 * day, 0, true},
		{"expired-one", e.bob, -time.Hour, 0, false},
	}
	now := start.Add(100 * day)
	out := map[string]*autho.APIToken{}
	for _, s := range specs {
		tk, _, err := e.admin.CreateToken(ctx, autho.OperatorCLI, admin.NewToken{User: s.owner.ID, Name: s.name, ExpiresAt: e.clock.Now().Add(300 * day)})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.store.UpdateAPIToken(ctx, tk.ID, func(t *autho.APIToken) error { t.ExpiresAt = now.Add(s.expires); return nil }); err != nil {
			e.t.Fatal(err)
		}
		if s.used > 0 {
			if err := e.store.RecordTokenUse(ctx, []autho.TokenUse{{TokenID: tk.ID, At: now.Add(-s.used), IP: "198.51.100.7"}}); err != nil {
				e.t.Fatal(err)
			}
		}
		if s.revoke {
			if _, err := e.admin.Revoke(ctx, autho.OperatorCLI, tk.ID); err != nil {
				e.t.Fatal(err)
			}
		}
		out[s.name] = tk
		e.clock.Add(time.Minute)
	}
	e.clock.Add(now.Sub(e.clock.Now()))
	// Made just now and never used: too new to be nagged.
	tk, _, err := e.admin.CreateToken(ctx, autho.OperatorCLI, admin.NewToken{User: e.ann.ID, Name: "fresh-one", ExpiresAt: now.Add(60 * day)})
	if err != nil {
		e.t.Fatal(err)
	}
	out["fresh-one"] = tk
	return out
}

var (
	rowIDs      = regexp.MustCompile(`<tr class="row-[a-z]+" id="(tok_[^"]+)"`)
	noticeBadge = regexp.MustCompile(`<span class="badge notice notice-([a-z_]+)">([^<]*)</span>`)
)

// rowNotices is what the Notice cell of a token's row shows, as
// "kind: text" in order.
func rowNotices(t *testing.T, body, id string) []string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no row for %s", id)
	}
	row := body[i : i+strings.Index(body[i:], "</tr>")]
	j := strings.Index(row, `<td data-label="Notice" class="notices">`)
	if j < 0 {
		t.Fatalf("row %s has no Notice cell:\n%s", id, row)
	}
	cell := row[j : j+strings.Index(row[j:], "</td>")]
	var out []string
	for _, m := range noticeBadge.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1]+": "+m[2])
	}
	return out
}

func TestTokens_Notices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokens := noticeTokens(e)
	boss := e.browser("192.0.2.1")
	boss.mustLogin(e.boss)
	p := boss.get("/portal/tokens")
	wantPage(t, p, http.StatusOK, `<th scope="col">Notice</th>`)
	for name, want := range map[string][]string{
		"soon-one":    {"expiring: expires in 5 days"},
		"never-one":   {"never_used: never used"},
		"idle-one":    {"unused: unused for 100 days"},
		"both-one":    {"expiring: expires tomorrow", "never_used: never used"},
		"edge-in":     {"expiring: expires in 30 days"},
		"edge-out":    nil,
		"today-one":   {"expiring: expires today"},
		"revoked-one": nil,
		"expired-one": nil,
		"fresh-one":   nil,
	} {
		if got := rowNotices(t, p.body, tokens[name].ID); !slices.Equal(got, want) {
			t.Errorf("%s: notices %q, want %q", name, got, want)
		}
	}
	// A row without notices has an empty cell, which the phone layout
	// hides instead of labelling nothing.
	if !strings.Contains(p.body, `id="`+tokens["fresh-one"].ID+`"`) || strings.Count(p.body, `class="notices"></td>`) != 4 {
		t.Errorf("want 4 empty Notice cells, found %d", strings.Count(p.body, `class="notices"></td>`))
	}
}

// An admin's list of the account's tokens starts with those expiring within
// 30 days, soonest first, then the rest in the store's order (newest
// first); a member's own list is ordered by the same rule.
func TestTokens_ExpiringFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokens := noticeTokens(e)
	all, err := e.store.APITokens(context.Background(), autho.TokenFilter{AccountID: e.account.ID})
	if err != nil {
		t.Fatal(err)
	}
	rest := func(mine func(*autho.APIToken) bool, soonest ...string) []string {
		var ids []string
		for _, n := range soonest {
			ids = append(ids, tokens[n].ID)
		}
		for _, tk := range all {
			if mine(tk) && !slices.Contains(ids, tk.ID) {
				ids = append(ids, tk.ID)
			}
		}
		return ids
	}
	names := map[string]string{}
	for n, tk := range tokens {
		names[tk.ID] = n
	}
	for _, tc := range []struct {
		who  *autho.User
		want []string
	}{
		{e.boss, rest(func(*autho.APIToken) bool { return true }, "today-one", "both-one", "soon-one", "edge-in")},
		{e.ann, rest(func(tk *autho.APIToken) bool { return tk.UserID == e.ann.ID }, "soon-one")},
	} {
		t.Run(tc.who.Email, func(t *testing.T) {
			b := e.browser("192.0.2.1")
			b.mustLogin(tc.who)
			var got []string
			for _, m := range rowIDs.FindAllStringSubmatch(b.get("/portal/tokens").body, -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, tc.want) {
				label := func(ids []string) (s []string) {
					for _, id := range ids {
						s = append(s, names[id])
					}
					return s
				}
				t.Errorf("order %v,\nwant  %v", label(got), label(tc.want))
			}
		})
	}
}

// The account page counts the days to the expiry, or since it, in the
// portal's time zone.
func TestAccount_Countdown(t *testing.T) {
	t.Parallel()
	// The account expires on 2 March 2027, 09:00 UTC: 1 March, 23:00 in
	// UTC-10.
	hawaii := time.FixedZone("HST", -10*60*60)
	end := start.Add(365 * day)
	for _, tc := range []struct {
		name string
		loc  *time.Location
		at   time.Time
		want string
	}{
		{"a year ahead", nil, start, "expires in 365 days</strong> <span class=\"muted\">(on <time datetime=\"2027-03-02T09:00:00Z\">2\u00a0Mar\u00a02027, 09:00\u00a0UTC</time>)"},
		{"ten days ahead", nil, end.Add(-10 * day), "expires in 10 days"},
		{"tomorrow", nil, end.Add(-23 * time.Hour), "expires tomorrow"},
		{"today", nil, end.Add(-time.Hour), "expires today"},
		{"today in the portal's zone", hawaii, end.Add(-23 * time.Hour), "expires today</strong> <span class=\"muted\">(on <time datetime=\"2027-03-01T23:00:00-10:00\">1\u00a0Mar\u00a02027, 23:00\u00a0HST</time>)"},
		{"at its instant", nil, end, "expired today"},
		{"three days ago", nil, end.Add(3*day + time.Hour), "expired 3 days ago"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *portal.Config) { c.Location = tc.loc })
			e.clock.Add(tc.at.Sub(start))
			b := e.browser("192.0.2.1")
			b.mustLogin(e.ann)
			wantPage(t, b.get("/portal/account"), http.StatusOK, `<dd id="account-expiry"><strong>`+tc.want)
		})
	}
}
