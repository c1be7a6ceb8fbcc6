package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
)

//go:embed templates
var templateFS embed.FS

// Data is what a notification may say. It holds no secret by construction:
// TokenHint is the token's display hint, never the token.
type Data struct {
	To          string
	AccountName string
	TokenName   string
	TokenHint   string
	ExpiresAt   time.Time // shown in its own location; set it to AUTHO_TIMEZONE
	DaysLeft    int       // for *.expiring
	LeakedKind  string    // for api_token.leaked: "api_token" or "partner_token"
	LeakURL     string    // where a leaked token was found; may be ""
	PortalURL   string
	Contact     string // whom to ask; "" means the platform's support team
	// InviteURL is an invitation's one-time link (invitation.mail): the
	// one secret a mail carries, to the one person it is for. InvitedBy
	// is who added them (an email), "" for the platform's operator.
	InviteURL string
	InvitedBy string
}

// kind says what a notification needs and to whom it goes.
type kind struct {
	admins bool // to the account's admins; otherwise to the token's owner
	token  bool // names a token
	expiry bool // shows ExpiresAt
	days   bool // shows DaysLeft
	invite bool // an invitation to a new user, with its link
}

// kinds are named by the event types they tell of.
var kinds = map[string]kind{
	"account.expiring":   {admins: true, expiry: true, days: true},
	"account.expired":    {admins: true, expiry: true},
	"account.suspended":  {admins: true},
	"api_token.leaked":   {admins: true, token: true},
	"api_token.expiring": {token: true, expiry: true, days: true},
	"api_token.expired":  {token: true, expiry: true},
	"api_token.revoked":  {token: true},
	"invitation.mail":    {invite: true, expiry: true},
}

// Kinds lists the event types Compose has a mail for.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// view is what the templates see.
type view struct {
	Data
	Contact     string // Data.Contact or the generic one
	Expires     string
	Days        string
	Subject     string // for the HTML title
	ToAdmins    bool
	PartnerLeak bool
	Invite      bool
	Inviter     string // Data.InvitedBy or "the platform"
}

type templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// parsed reads every template once, at New or the first Compose; TestCompose
// renders each kind, so a broken or missing template fails the tests first.
var parsed = sync.OnceValues(func() (map[string]templates, error) {
	out := make(map[string]templates, len(kinds))
	for name := range kinds {
		text, err := texttemplate.New("layout.txt").ParseFS(templateFS, "templates/layout.txt", "templates/"+name+".txt")
		if err != nil {
			return nil, err
		}
		html, err := htmltemplate.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		for _, def := range []string{"subject", "body"} {
			if text.Lookup(def) == nil {
				return nil, fmt.Errorf("mail: templates/%s.txt defines no %q", name, def)
			}
		}
		if html.Lookup("body") == nil {
			return nil, fmt.Errorf("mail: templates/%s.html defines no \"body\"", name)
		}
		out[name] = templates{text: text, html: html}
	}
	return out, nil
})

// Compose renders the mail for an event type (see Kinds) to d.To.
func Compose(name string, d Data) (Message, error) {
	k, ok := kinds[name]
	if !ok {
		return Message{}, fmt.Errorf("mail: no mail for %q", name)
	}
	if err := k.check(name, d); err != nil {
		return Message{}, err
	}
	all, err := parsed()
	if err != nil {
		return Message{}, err
	}
	t := all[name]
	v := view{
		Data:        d,
		Contact:     d.Contact,
		ToAdmins:    k.admins,
		PartnerLeak: d.LeakedKind == "partner_token",
		Invite:      k.invite,
		Inviter:     d.InvitedBy,
	}
	if strings.TrimSpace(v.Inviter) == "" {
		v.Inviter = "the platform"
	}
	if strings.TrimSpace(v.Contact) == "" {
		v.Contact = "the platform's support team"
	}
	if k.expiry {
		v.Expires = d.ExpiresAt.Format("Monday 2 January 2006 at 15:04 MST")
	}
	if k.days {
		v.Days = fmt.Sprintf("%d days", d.DaysLeft)
		if d.DaysLeft == 1 {
			v.Days = "1 day"
		}
	}

	var b bytes.Buffer
	if err := t.text.ExecuteTemplate(&b, "subject", v); err != nil {
		return Message{}, fmt.Errorf("mail: %s subject: %w", name, err)
	}
	v.Subject = oneLine(b.String())
	b.Reset()
	if err := t.text.Execute(&b, v); err != nil {
		return Message{}, fmt.Errorf("mail: %s text: %w", name, err)
	}
	text := strings.TrimSpace(b.String()) + "\n"
	b.Reset()
	if err := t.html.Execute(&b, v); err != nil {
		return Message{}, fmt.Errorf("mail: %s HTML: %w", name, err)
	}
	return Message{To: d.To, Subject: v.Subject, Text: text, HTML: b.String()}, nil
}

// check refuses Data that would make a mail with a hole in it.
func (k kind) check(name string, d Data) error {
	var missing []string
	if strings.TrimSpace(d.To) == "" {
		missing = append(missing, "To")
	}
	if strings.TrimSpace(d.AccountName) == "" {
		missing = append(missing, "AccountName")
	}
	if strings.TrimSpace(d.PortalURL) == "" {
		missing = append(missing, "PortalURL")
	}
	leakOfPartnerToken := name == "api_token.leaked" && d.LeakedKind == "partner_token"
	if k.token && !leakOfPartnerToken && strings.TrimSpace(d.TokenName) == "" {
		missing = append(missing, "TokenName")
	}
	if k.token && strings.TrimSpace(d.TokenHint) == "" {
		missing = append(missing, "TokenHint")
	}
	if k.invite && strings.TrimSpace(d.InviteURL) == "" {
		missing = append(missing, "InviteURL")
	}
	if k.expiry && d.ExpiresAt.IsZero() {
		missing = append(missing, "ExpiresAt")
	}
	if len(missing) > 0 {
		return fmt.Errorf("mail: %s needs %s", name, strings.Join(missing, ", "))
	}
	if k.days && d.DaysLeft < 1 {
		return fmt.Errorf("mail: %s needs DaysLeft of 1 or more", name)
	}
	if name == "api_token.leaked" && d.LeakedKind != "api_token" && d.LeakedKind != "partner_token" {
		return errors.New(`mail: api_token.leaked needs LeakedKind "api_token" or "partner_token"`)
	}
	return nil
}
