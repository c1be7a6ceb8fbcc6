package portal

import (
	"net/http"
	"time"

	"github.com/autho/autho"
)

type accountView struct {
	layout
	Status    string // "active", "suspended" or "expired"
	Expires   time.Time
	Countdown string // "expires in 12 days", "expires today", "expired 3 days ago"
	Hint      string
	Admins    []string // emails of the account's active admins, for members to ask
	// MFARequired is the account's own requirement, which its admins set;
	// MFAEveryone the operator's, for every account.
	MFARequired, MFAEveryone bool
}

func (*accountView) page() string { return "account" }

// accountPage shows the account: its state, expiry and partner token hint,
// and who its admins are.
func (p *Portal) accountPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	a := v.account
	av := &accountView{layout: p.layout(v, "Account", "account"), Status: string(a.State(v.now)), Expires: a.ExpiresAt,
		Countdown: countdown(a.ExpiresAt, v.now, p.cfg.Location), Hint: a.PartnerTokenHint,
		MFARequired: a.MFARequired, MFAEveryone: p.admin.RequireMFA}
	av.Notice = notice(r)
	us, err := p.admin.Users(r.Context(), a.ID)
	if err != nil {
		return err
	}
	for _, u := range us {
		if u.Role == autho.RoleAdmin && u.Active {
			av.Admins = append(av.Admins, u.Email)
		}
	}
	p.render(w, r, http.StatusOK, av)
	return nil
}

// setMFARequired turns the account's requirement of a second factor on
// (required=on) or off; admin.SetMFARequired audits it.
func (p *Portal) setMFARequired(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	on := r.PostForm.Get("required") == "on"
	if _, err := p.admin.SetMFARequired(r.Context(), v.actor(), v.account.ID, on); err != nil {
		return err
	}
	done := "mfa-off"
	if on {
		done = "mfa-on"
	}
	http.Redirect(w, r, "/portal/account?done="+done, http.StatusSeeOther)
	return nil
}
