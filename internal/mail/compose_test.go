package mail

import (
	"html"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fullData is Data with every field set, so each kind has what it needs.
func fullData() Data {
	return Data{
		To:          "ada@acme.example",
		AccountName: "Acme Ltd",
		TokenName:   "ci-deploy",
		TokenHint:   "autho_api_Ab3d…x9Zq",
		ExpiresAt:   time.Date(2027, 3, 14, 9, 30, 0, 0, time.UTC),
		DaysLeft:    7,
		LeakedKind:  "api_token",
		LeakURL:     "https://github.com/acme/app/blob/main/.env",
		PortalURL:   "https://autho.example.com/portal/",
		Contact:     "partners@platform.example",
		InviteURL:   "https://autho.example.com/portal/invite/Zm9vYmFy",
		InvitedBy:   "boss@acme.example",
	}
}

func TestCompose(t *testing.T) {
	tests := []struct {
		kind    string
		edit    func(*Data)
		subject string   // exact
		says    []string // in both parts
	}{
		{kind: "account.expiring", subject: "Acme Ltd: your API access expires in 7 days",
			says: []string{"expires on Sunday 14 March 2027 at 09:30 UTC", "renew the agreement"}},
		{kind: "account.expiring", edit: func(d *Data) { d.DaysLeft = 1 }, subject: "Acme Ltd: your API access expires in 1 day",
			says: []string{"in 1 day"}},
		{kind: "account.expired", subject: "Acme Ltd: your API access has expired",
			says: []string{"expired on Sunday 14 March 2027", "renew the agreement", "revoke tokens"}},
		{kind: "account.suspended", subject: "Acme Ltd: your API access is suspended",
			says: []string{"suspended", "reactivated"}},
		{kind: "api_token.leaked", subject: "Acme Ltd: API token \"ci-deploy\" was found in public and revoked",
			says: []string{"ci-deploy", "autho_api_Ab3d…x9Zq", "has been revoked", "Create a new API token", "https://github.com/acme/app/blob/main/.env"}},
		{kind: "api_token.leaked", edit: func(d *Data) {
			d.LeakedKind, d.TokenName, d.TokenHint, d.LeakURL = "partner_token", "", "autho_ptn_Qw12…Zz09", ""
		},
			subject: "Acme Ltd: your partner token was found in public",
			says:    []string{"partner token", "autho_ptn_Qw12…Zz09", "It still works", "rotated"}},
		{kind: "api_token.expiring", subject: "Acme Ltd: your API token \"ci-deploy\" expires in 7 days",
			says: []string{"ci-deploy", "autho_api_Ab3d…x9Zq", "in 7 days", "create a new API token in the portal", "before it expires"}},
		{kind: "api_token.expired", subject: "Acme Ltd: your API token \"ci-deploy\" has expired",
			says: []string{"ci-deploy", "expired on Sunday 14 March 2027", "create a new API token in the portal"}},
		{kind: "api_token.revoked", subject: "Acme Ltd: your API token \"ci-deploy\" was revoked",
			says: []string{"ci-deploy", "was revoked by someone else", "create a new one in the portal"}},
		{kind: "invitation.mail", subject: "Acme Ltd: you are invited to the API portal",
			says: []string{"boss@acme.example added you", "https://autho.example.com/portal/invite/Zm9vYmFy", "works once and until Sunday 14 March 2027 at 09:30 UTC"}},
		{kind: "invitation.mail", edit: func(d *Data) { d.InvitedBy = "" }, subject: "Acme Ltd: you are invited to the API portal",
			says: []string{"the platform added you"}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.kind] = true
		t.Run(tt.kind, func(t *testing.T) {
			d := fullData()
			if tt.edit != nil {
				tt.edit(&d)
			}
			m, err := Compose(tt.kind, d)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			if m.To != d.To {
				t.Errorf("To = %q, want %q", m.To, d.To)
			}
			if m.Subject != tt.subject {
				t.Errorf("Subject = %q, want %q", m.Subject, tt.subject)
			}
			says := append([]string{"Acme Ltd", d.PortalURL, "partners@platform.example"}, tt.says...)
			for _, s := range says {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text does not say %q:\n%s", s, m.Text)
				}
				if !strings.Contains(visible(m.HTML), s) {
					t.Errorf("HTML does not say %q:\n%s", s, m.HTML)
				}
			}
			if !strings.Contains(m.HTML, `href="`+d.PortalURL+`"`) {
				t.Errorf("HTML does not link the portal:\n%s", m.HTML)
			}
			if strings.Contains(m.HTML, "{{") || strings.Contains(m.Text, "{{") || strings.Contains(m.Text, "<no value>") {
				t.Errorf("a template was left unrendered")
			}
			for _, external := range []string{"<img", "<link", "<script", "src="} {
				if strings.Contains(m.HTML, external) {
					t.Errorf("HTML has %s: mails load nothing from outside", external)
				}
			}
		})
	}
	for _, k := range Kinds() {
		if !covered[k] {
			t.Errorf("kind %s has no test", k)
		}
	}
}

func TestCompose_genericContact(t *testing.T) {
	for _, k := range Kinds() {
		d := fullData()
		d.Contact = ""
		m, err := Compose(k, d)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !strings.Contains(m.Text, "the platform's support team") || !strings.Contains(visible(m.HTML), "the platform's support team") {
			t.Errorf("%s does not name the platform's support team when Contact is empty", k)
		}
	}
}

func TestCompose_escapesHTML(t *testing.T) {
	for _, k := range Kinds() {
		d := fullData()
		d.AccountName = "<b>Acme & Co</b>"
		d.TokenName = `<script>alert("x")</script>`
		d.LeakURL = "javascript:alert(1)"
		m, err := Compose(k, d)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if strings.Contains(m.HTML, "<b>Acme") || strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, `href="javascript:`) {
			t.Errorf("%s: HTML not escaped:\n%s", k, m.HTML)
		}
		if !strings.Contains(m.HTML, "&lt;b&gt;Acme &amp; Co&lt;/b&gt;") {
			t.Errorf("%s: HTML does not show the escaped account name:\n%s", k, m.HTML)
		}
		// Plain text is not HTML: the name stays as it is.
		if !strings.Contains(m.Text, "<b>Acme & Co</b>") || !strings.Contains(m.Subject, "<b>Acme & Co</b>") {
			t.Errorf("%s: text or subject altered the name: %q", k, m.Subject)
		}
	}
}

func TestCompose_subjectIsOneLine(t *testing.T) {
	d := fullData()
	d.AccountName = "Acme\r\nBcc: victim@example.com"
	m, err := Compose("account.suspended", d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Fatalf("subject has a line break: %q", m.Subject)
	}
}

func TestCompose_refused(t *testing.T) {
	tests := []struct {
		name, kind string
		edit       func(*Data)
	}{
		{"unknown kind", "account.exploded", nil},
		{"kind not mailed", "account.created", nil},
		{"no recipient", "account.suspended", func(d *Data) { d.To = "" }},
		{"no account", "account.suspended", func(d *Data) { d.AccountName = "" }},
		{"no portal", "account.suspended", func(d *Data) { d.PortalURL = "" }},
		{"no expiry", "account.expiring", func(d *Data) { d.ExpiresAt = time.Time{} }},
		{"no days", "api_token.expiring", func(d *Data) { d.DaysLeft = 0 }},
		{"no token name", "api_token.revoked", func(d *Data) { d.TokenName = "" }},
		{"no token hint", "api_token.expired", func(d *Data) { d.TokenHint = "" }},
		{"leak of no kind", "api_token.leaked", func(d *Data) { d.LeakedKind = "" }},
		{"leak of another kind", "api_token.leaked", func(d *Data) { d.LeakedKind = "operator_key" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fullData()
			if tt.edit != nil {
				tt.edit(&d)
			}
			if m, err := Compose(tt.kind, d); err == nil {
				t.Fatalf("Compose made %q", m.Subject)
			}
		})
	}
}

var tag = regexp.MustCompile(`<[^>]*>`)

// visible is the text a reader of the HTML part sees.
func visible(h string) string {
	return html.UnescapeString(tag.ReplaceAllString(h, ""))
}
