package portal

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/autho/autho"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the templates/<name>.html files, each defining "content"
// inside the shared layout. Every one is parsed at start.
var pageNames = []string{
	"login", "tokens", "token_created", "token_revoke", "account", "password",
	"users", "user_created", "user_invited", "user_reset", "audit", "error", "invite",
	"login_code", "security", "totp_enroll", "recovery_codes", "step_up",
}

// pages holds each page parsed together with the layout.
type pages struct {
	byName map[string]*template.Template
}

func parsePages(fsys fs.FS, static *assets, loc *time.Location) (*pages, error) {
	funcs := template.FuncMap{
		"asset": static.url,
		// No-break spaces keep a date on one line; a line may break only
		// between the date and the time.
		"date":     func(t time.Time) string { return t.In(loc).Format("2\u00a0Jan\u00a02006") },
		"datetime": func(t time.Time) string { return t.In(loc).Format("2\u00a0Jan\u00a02006, 15:04\u00a0MST") },
		"iso":      func(t time.Time) string { return t.In(loc).Format(time.RFC3339) },
		"action":   actionLabel,
		"actor":    actorLabel,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("portal templates: %w", err)
	}
	ps := &pages{byName: make(map[string]*template.Template, len(pageNames))}
	for _, name := range pageNames {
		file := "templates/" + name + ".html"
		if _, err := fs.Stat(fsys, file); err != nil {
			return nil, fmt.Errorf("portal templates: %s is missing", file)
		}
		t, err := template.Must(base.Clone()).ParseFS(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("portal templates: %w", err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("portal templates: %s defines no \"content\"", file)
		}
		ps.byName[name] = t
	}
	return ps, nil
}

// view is the typed data of one page; page names its template.
type view interface {
	page() string
}

// layout is what every page shows around its content.
type layout struct {
	Title   string
	Nav     string // the menu entry to mark as current
	User    *autho.User
	Account *autho.Account
	Admin   bool
	Notice  string // a one-line confirmation of what was just done
	Banners []banner
	Contact contact
	// PasskeysOff is why passkeys are not offered here, or "".
	PasskeysOff string
}

// banner is a warning about the account shown on every page. It ends by
// saying whom to talk to: Ask, then the contact, which the layout writes
// once (a link when it is an email address).
type banner struct {
	Kind  string // "danger" or "warning"
	Title string
	Text  string
	Ask   string // "To renew the account, talk to"
}

// contact is whom to talk to about the account.
type contact struct {
	Text   string
	Mailto string // set when Text is an email address
}

// render executes the page into a buffer first, so that a template error
// becomes a clean error page instead of half a page, then writes it.
func (p *Portal) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	var buf bytes.Buffer
	if err := p.pages.byName[v.page()].ExecuteTemplate(&buf, "layout", v); err != nil {
		p.log.Error("portal: rendering page", "page", v.page(), "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(fallbackPage)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// fallbackPage is shown when a page cannot be rendered at all.
const fallbackPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Something went wrong · autho</title></head>` +
	`<body><main><h1>Something went wrong</h1><p>Something went wrong on our side and nothing was changed. ` +
	`<a href="/portal/">Back to the portal</a></p></main></body></html>`

// layout builds the frame of a page for v.
func (p *Portal) layout(v *visit, title, nav string) layout {
	l := layout{Title: title, Nav: nav, User: v.user, Account: v.account, Admin: v.isAdmin(), Contact: p.contact(),
		PasskeysOff: p.admin.PasskeysOff()}
	if v.account != nil {
		l.Banners = p.banners(v.account, v.now)
	}
	return l
}

// expiryWarning is how long before an account's expiry its people are
// warned on every page: the same "soon" as a token's.
const expiryWarning = autho.TokenExpiringWithin

// banners explains an account state that stops or will stop its tokens,
// and says whom to talk to. One banner says it all, so that the contact
// is named once.
func (p *Portal) banners(a *autho.Account, now time.Time) []banner {
	day := a.ExpiresAt.In(p.cfg.Location).Format("2 January 2006")
	closed := "Logins with its API tokens are refused, no new tokens can be made and its users cannot be changed."
	soon := ""
	if !a.Expired(now) && a.ExpiresAt.Sub(now) <= expiryWarning {
		// The same count of days as the account page's countdown.
		soon = "expires on " + day + " (" + inDays(autho.CalendarDays(now, a.ExpiresAt, p.cfg.Location)) + ")"
	}
	switch {
	case a.Status == autho.AccountSuspended:
		b := banner{"danger", "This account is suspended.",
			closed + " You can still sign in here, see your tokens and revoke them.", "To have the account reactivated, talk to"}
		switch {
		case a.Expired(now):
			b.Title, b.Ask = "This account is suspended, and it expired on "+day+".", "To have it reactivated and renewed, talk to"
		case soon != "":
			b.Title = "This account is suspended, and it " + soon + "."
		}
		return []banner{b}
	case a.Expired(now):
		return []banner{{"danger", "This account expired on " + day + ".", closed, "To renew the account, talk to"}}
	case soon != "":
		return []banner{{"warning", "This account " + soon + ".", "After that, logins with its API tokens are refused.", "To renew it in time, talk to"}}
	}
	return nil
}

func (p *Portal) contact() contact {
	c := p.cfg.Contact
	if c == "" {
		return contact{Text: "your contact at the platform"}
	}
	if isEmail(c) {
		return contact{Text: c, Mailto: "mailto:" + c}
	}
	return contact{Text: c}
}

// actionLabel is how the audit log reads an action.
func actionLabel(a autho.AuditAction) string {
	switch a {
	case autho.AuditLogin:
		return "signed in"
	case autho.AuditLoginFailed:
		return "failed to sign in (wrong password)"
	case autho.AuditLoginDenied:
		return "was refused sign-in (user deactivated)"
	case autho.AuditLogout:
		return "signed out"
	case autho.AuditPasswordChange:
		return "changed their password"
	case autho.AuditTokenCreate:
		return "created API token"
	case autho.AuditTokenRevoke:
		return "revoked API token"
	case autho.AuditUserCreate:
		return "added user"
	case autho.AuditUserCreateRefused:
		return "could not add user"
	case autho.AuditUserDeactivate:
		return "deactivated user"
	case autho.AuditUserActivate:
		return "reactivated user"
	case autho.AuditUserSessions:
		return "signed out everywhere: user"
	case autho.AuditUserPassword:
		return "reset the password of user"
	case autho.AuditUserRole:
		return "changed the role of user"
	case autho.AuditAccountCreate:
		return "created the account"
	case autho.AuditAccountRenew:
		return "renewed the account"
	case autho.AuditAccountSuspend:
		return "suspended the account"
	case autho.AuditAccountReactivate:
		return "reactivated the account"
	case autho.AuditAccountScopes:
		return "set the scopes the account may give its tokens"
	case autho.AuditAccountRename:
		return "renamed the account"
	case autho.AuditAccountMFARequired:
		return "changed whether the account requires a second factor"
	case autho.AuditPartnerTokenRotate:
		return "gave the account a new partner token"
	case autho.AuditSigningKeyRotate:
		return "added a signing key"
	case autho.AuditSigningKeyReset:
		return "dropped signing keys sealed with a lost master key"
	case autho.AuditMFAAdd:
		// A passkey's event names it after the email.
		return "added a second factor: user"
	case autho.AuditMFARemove:
		return "removed a second factor of user"
	case autho.AuditRecoveryCodeUsed:
		return "signed in with a recovery code: user"
	case autho.AuditRecoveryCodesRenew:
		return "made new recovery codes for user"
	case autho.AuditMFAReset:
		return "cleared every second factor of user"
	case autho.AuditLoginSecondFailed:
		return "failed to sign in (wrong code or passkey)"
	case autho.AuditStepUp:
		return "confirmed a sensitive action with a second factor"
	case autho.AuditLoginPasskeyFailed:
		return "failed to sign in with a passkey"
	case autho.AuditStepUpFailed:
		return "failed to confirm a sensitive action (wrong code or passkey)"
	case autho.AuditInvitationSent:
		return "mailed an invitation to user"
	case autho.AuditInvitationUsed:
		return "set their password with their invitation: user"
	case autho.AuditInvitationExpired:
		return "invitation expired unused: user"
	}
	return string(a)
}

// actorLabel is how the audit log names who acted: a person by email, the
// platform's operator as the platform (with the CLI's or the operator key's
// name), autho on its own schedule as autho.
func actorLabel(e *autho.AuditEvent) string {
	if name, ok := e.ByOperator(); ok {
		return "the platform (" + name + ")"
	}
	if e.ActorEmail == "" {
		return e.ActorID
	}
	return e.ActorEmail
}

// errorPage is any failure.
type errorPage struct {
	layout
	Message string
}

func (*errorPage) page() string { return "error" }
