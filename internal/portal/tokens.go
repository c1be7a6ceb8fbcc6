package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
)

// tokenRow is one API token as the list shows it.
type tokenRow struct {
	ID, Name, Hint string
	Owner          string // the owner's email, shown to admins
	Mine           bool
	Scopes         []string
	Created        time.Time
	Expires        time.Time
	LastUsed       time.Time // zero: never
	LastUsedIP     string
	Revoked        time.Time // zero: not revoked
	Status         string    // an autho.TokenState: "active", "expired" or "revoked"
	Notices        []tokenNotice
}

func (p *Portal) tokenRow(t *autho.APIToken, v *visit, owners map[string]string) tokenRow {
	return tokenRow{
		ID: t.ID, Name: t.Name, Hint: t.Hint, Owner: owners[t.UserID], Mine: t.UserID == v.user.ID,
		Scopes: t.Scopes, Created: t.CreatedAt, Expires: t.ExpiresAt, LastUsed: t.LastUsedAt,
		LastUsedIP: t.LastUsedIP, Revoked: t.RevokedAt, Status: string(t.State(v.now)),
		Notices: p.tokenNotices(t, v.now),
	}
}

// tokenForm is what the create form holds, kept to show it again after a
// mistake.
type tokenForm struct {
	Name   string
	Expiry string // "7", "30", "60", "90" (days) or "date"
	Date   string // YYYY-MM-DD, when Expiry is "date"
	Scopes []string
}

// scopeChoice is one checkbox of the form: a scope the operator allows the
// account.
type scopeChoice struct {
	Value   string
	Checked bool
}

type expiryOption struct {
	Value, Label string
}

type tokensView struct {
	layout
	Tokens       []tokenRow
	ShowOwner    bool
	CannotCreate string // why no token can be made now, or ""
	Form         tokenForm
	Errors       formErrors
	Options      []expiryOption
	MinDate      string
	MaxDate      string
	MaxTTL       string
	AccountEnd   time.Time // set when the account expires before MaxTTL is up: the real limit
	Active       int
	MaxActive    int
	Nonce        string // names what this copy of the form makes (formTokenID)
	ScopeChoices []scopeChoice
}

func (*tokensView) page() string { return "tokens" }

// expiryDays are the form's ready-made lifetimes.
var expiryDays = []int{7, 30, 60, 90}

func (p *Portal) maxTokenTTL() time.Duration {
	if p.admin.MaxTokenTTL > 0 {
		return p.admin.MaxTokenTTL
	}
	return admin.DefaultMaxTokenTTL
}

// tokensView gathers the Token Management page: the tokens v may see (an
// admin, every token of the account), and the create form.
func (p *Portal) tokensView(ctx context.Context, v *visit, form tokenForm, errs formErrors) (*tokensView, error) {
	tv := &tokensView{layout: p.layout(v, "API tokens", "tokens"), Form: form, Errors: errs,
		MaxActive: p.cfg.MaxActiveTokens, ShowOwner: v.isAdmin(), Nonce: newFormNonce()}
	q := admin.TokenQuery{AccountID: v.account.ID}
	if !v.isAdmin() {
		q.User = v.user.ID
	}
	ts, err := p.admin.Tokens(ctx, q)
	if err != nil {
		return nil, err
	}
	expiringFirst(ts, v.now)
	owners := map[string]string{v.user.ID: v.user.Email}
	if v.isAdmin() {
		us, err := p.admin.Users(ctx, v.account.ID)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			owners[u.ID] = u.Email
		}
	}
	for _, t := range ts {
		row := p.tokenRow(t, v, owners)
		if row.Mine && row.Status == string(autho.TokenActive) {
			tv.Active++
		}
		tv.Tokens = append(tv.Tokens, row)
	}
	for _, sc := range v.account.AllowedScopes {
		tv.ScopeChoices = append(tv.ScopeChoices, scopeChoice{sc, slices.Contains(form.Scopes, sc)})
	}
	maxTTL := p.maxTokenTTL()
	// No token outlives its account (admin refuses it): an account that
	// ends sooner than the maximum is the limit, and the form says so.
	limit := v.now.Add(maxTTL)
	if v.account.ExpiresAt.Before(limit) {
		limit, tv.AccountEnd = v.account.ExpiresAt, v.account.ExpiresAt
	}
	for _, d := range expiryDays {
		if !v.now.Add(time.Duration(d) * 24 * time.Hour).After(limit) {
			tv.Options = append(tv.Options, expiryOption{strconv.Itoa(d), fmt.Sprintf("%d days", d)})
		}
	}
	if tv.Form.Expiry == "" {
		tv.Form.Expiry = "date"
		if n := len(tv.Options); n > 0 {
			tv.Form.Expiry = tv.Options[n-1].Value
		}
	}
	loc := p.cfg.Location
	tv.MinDate = v.now.In(loc).AddDate(0, 0, 1).Format(time.DateOnly)
	// The last day whose end (a date means the end of that day) is still
	// within the limit.
	limit = limit.In(loc)
	last := time.Date(limit.Year(), limit.Month(), limit.Day(), 23, 59, 59, 0, loc)
	if last.After(limit) {
		last = last.AddDate(0, 0, -1)
	}
	tv.MaxDate = last.Format(time.DateOnly)
	tv.MaxTTL = ttlText(maxTTL)
	switch {
	case !v.account.Usable(v.now):
		tv.CannotCreate = "New tokens cannot be made while the account is " + string(v.account.State(v.now)) + "."
	case len(tv.Options) == 0 && tv.MaxDate < tv.MinDate:
		tv.CannotCreate = "New tokens cannot be made: a token lasts at least until the end of tomorrow, and the account expires before that."
	case tv.Active >= tv.MaxActive:
		tv.CannotCreate = fmt.Sprintf("You have %d active tokens, the most one person may hold. Revoke one you no longer use to make a new one.", tv.Active)
	}
	return tv, nil
}

func ttlText(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func (p *Portal) tokensPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	tv, err := p.tokensView(r.Context(), v, tokenForm{}, nil)
	if err != nil {
		return err
	}
	tv.Notice = notice(r)
	p.render(w, r, http.StatusOK, tv)
	return nil
}

// tokenCreatedView shows a new token, the only time it is ever shown; or,
// to the same form sent again, the token it made then, without the secret.
type tokenCreatedView struct {
	layout
	Token    string // "": the form was sent again
	ID       string
	Active   bool // still to be revoked, when sent again
	Name     string
	Hint     string
	Expires  time.Time
	Scopes   []string
	LoginURL string
	// PartnerHint names the partner token the curl line needs beside it.
	PartnerHint string
}

func (*tokenCreatedView) page() string { return "token_created" }

// createToken makes an API token for the signed-in user under the
// portal's rules (admin.CreateToken with Operator false: capped lifetime,
// an active and unexpired account) and the per-user cap, and shows it once.
// The answer is the page itself, not a redirect: the secret never goes
// into a URL, a session or the database. A reload of that page sends the
// form again, and its nonce then names the token already made (sentAgain).
func (p *Portal) createToken(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id := formTokenID(v.user.ID, r.PostForm.Get("nonce"))
	if done, err := p.sentAgain(w, r, v, id); done || err != nil {
		return err
	}
	form := tokenForm{
		Name:   r.PostForm.Get("name"),
		Expiry: r.PostForm.Get("expiry"),
		Date:   strings.TrimSpace(r.PostForm.Get("date")),
		Scopes: r.PostForm["scope"],
	}
	again := func(status int, errs formErrors) error {
		// A name too long to be accepted is not worth echoing back.
		if utf8.RuneCountInString(form.Name) > 1000 || !utf8.ValidString(form.Name) {
			form.Name = ""
		}
		tv, err := p.tokensView(r.Context(), v, form, errs)
		if err != nil {
			return err
		}
		p.render(w, r, status, tv)
		return nil
	}
	expires, msg := p.parseExpiry(form, v.now)
	if msg != "" {
		return again(http.StatusBadRequest, formErrors{"expiry": msg})
	}
	t, plain, err := p.admin.CreateTokenCapped(r.Context(), v.actor(), admin.NewToken{
		ID: id, User: v.user.ID, Name: form.Name, ExpiresAt: expires, Scopes: form.Scopes,
	}, p.cfg.MaxActiveTokens)
	if id != "" && isAdminError(err, autho.ErrConflict) {
		// The same form sent twice at once: the other request made it.
		_, err := p.sentAgain(w, r, v, id)
		return err
	}
	var ae *admin.Error
	if errors.As(err, &ae) {
		status, field := http.StatusBadRequest, ""
		switch {
		case errors.Is(err, admin.ErrForbidden):
			status = http.StatusForbidden
		case ae.Field == "name":
			field = "name"
		case ae.Field == "expires_at":
			field = "expiry"
		case ae.Field == "scopes" && len(v.account.AllowedScopes) > 0:
			// Without scopes to choose the form has no such field: the
			// message (a tampered form) goes above it.
			field = "scopes"
		}
		return again(status, formErrors{field: sentence(ae.Message)})
	}
	if err != nil {
		return err
	}
	p.render(w, r, http.StatusOK, &tokenCreatedView{
		layout: p.layout(v, "Your new API token", "tokens"),
		Token:  plain, ID: t.ID, Name: t.Name, Hint: t.Hint, Expires: t.ExpiresAt, Scopes: t.Scopes,
		LoginURL:    strings.TrimRight(p.cfg.PublicURL, "/") + "/v1/autho/apitoken/login/",
		PartnerHint: v.account.PartnerTokenHint,
	})
	return nil
}

// parseExpiry turns the form's choice into a time; the bounds (future,
// at most the maximum) are admin's to check.
func (p *Portal) parseExpiry(f tokenForm, now time.Time) (time.Time, string) {
	if f.Expiry == "date" {
		if f.Date == "" {
			return time.Time{}, "Pick the date the token should expire on."
		}
		d, err := time.ParseInLocation(time.DateOnly, f.Date, p.cfg.Location)
		if err != nil {
			return time.Time{}, "Enter the date as YYYY-MM-DD, for example 2026-12-31."
		}
		// The end of that day where the operator is, as the CLI does.
		return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, p.cfg.Location), ""
	}
	for _, d := range expiryDays {
		if f.Expiry == strconv.Itoa(d) {
			return now.Add(time.Duration(d) * 24 * time.Hour), ""
		}
	}
	return time.Time{}, "Choose when the token should expire."
}

// sentence makes one of admin's messages read as a sentence on a page.
func sentence(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// revokeView is the confirmation step before a revocation.
type revokeView struct {
	layout
	Token     tokenRow
	ShowOwner bool
}

func (*revokeView) page() string { return "token_revoke" }

// visibleToken returns the token id names if v may see it. A token of
// another account, or (for a member) of another user, is reported exactly
// like a token that does not exist.
func (p *Portal) visibleToken(ctx context.Context, v *visit, id string) (*autho.APIToken, error) {
	if !strings.HasPrefix(id, "tok_") || len(id) > 64 {
		return nil, errTokenNotFound
	}
	t, err := p.admin.Token(ctx, id)
	if isAdminError(err, autho.ErrNotFound) {
		return nil, errTokenNotFound
	}
	if err != nil {
		return nil, err
	}
	if t.AccountID != v.account.ID || (!v.isAdmin() && t.UserID != v.user.ID) {
		return nil, errTokenNotFound
	}
	return t, nil
}

func (p *Portal) revokePage(w http.ResponseWriter, r *http.Request, v *visit) error {
	t, err := p.visibleToken(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	owners := map[string]string{v.user.ID: v.user.Email}
	if t.UserID != v.user.ID {
		if u, err := p.admin.User(r.Context(), t.UserID); err == nil {
			owners[u.ID] = u.Email
		}
	}
	p.render(w, r, http.StatusOK, &revokeView{
		layout: p.layout(v, "Revoke "+t.Name, "tokens"), Token: p.tokenRow(t, v, owners), ShowOwner: v.isAdmin(),
	})
	return nil
}

// revokeToken revokes after the confirmation. Revoking a revoked token
// changes nothing and records nothing.
func (p *Portal) revokeToken(w http.ResponseWriter, r *http.Request, v *visit) error {
	t, err := p.visibleToken(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := p.admin.Revoke(r.Context(), v.actor(), t.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/tokens?done=revoked", http.StatusSeeOther)
	return nil
}
