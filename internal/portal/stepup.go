package portal

import (
	"errors"
	"net/http"
	"sort"

	"github.com/autho/autho/internal/admin"
)

// Step-up: the sensitive actions (admin.StepUpWindow names them) ask a
// user who has a second factor for it again when it was last used in the
// session too long ago. The action's form is not acted on; the page that
// asks for the code carries its fields along in hidden inputs and posts
// them back to the same URL with the code, so that a right code completes
// the original action (a token's form nonce included, so it is made once).
// No script, and nothing kept server-side between the two posts.

// stepUpField names the code in the re-posted form; no action's own form
// has a field of that name.
const stepUpField = "stepup_code"

type hiddenField struct{ Name, Value string }

type stepUpView struct {
	layout
	Passkey      bool   // the user has a passkey to step up with
	PasskeyField string // names the passkey's answer in the re-posted form
	What         string // the action, as the page names it
	Action       string // where the form goes back to
	Back         string // where Cancel goes
	Fields       []hiddenField
	CodeField    string
	Error        string
}

func (*stepUpView) page() string { return "step_up" }

// stepUp wraps the handler of a sensitive action: h runs only when the
// session's second factor is fresh, or once a right code came with the
// form.
func (p *Portal) stepUp(what, back string, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, v *visit) error {
		if err := parseForm(w, r); err != nil {
			return err
		}
		need, err := p.admin.NeedsStepUp(r.Context(), v.session, v.user)
		if err != nil {
			return err
		}
		code, answered := r.PostForm[stepUpField]
		pk, withPasskey := r.PostForm[stepUpPasskeyField]
		for _, f := range []string{stepUpField, stepUpPasskeyField} {
			r.PostForm.Del(f)
			r.Form.Del(f)
		}
		if !need {
			return h(w, r, v)
		}
		fs, err := p.admin.Factors(r.Context(), v.user.ID)
		if err != nil {
			return err
		}
		sv := &stepUpView{layout: p.layout(v, "Confirm with your second factor", ""), What: what, Action: r.URL.Path,
			Back: back, CodeField: stepUpField, Passkey: len(fs.Passkeys) > 0, PasskeyField: stepUpPasskeyField}
		names := make([]string, 0, len(r.PostForm))
		for k := range r.PostForm {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			for _, val := range r.PostForm[k] {
				sv.Fields = append(sv.Fields, hiddenField{k, val})
			}
		}
		switch {
		case withPasskey:
			err = p.admin.FinishPasskeyStepUp(r.Context(), v.session, v.user, v.ip, p.ceremonyID(r), []byte(pk[0]))
			p.ceremonyCookie().set(w, "", -1)
		case answered:
			err = p.admin.StepUp(r.Context(), v.session, v.user, v.ip, code[0])
		default:
			p.render(w, r, http.StatusOK, sv)
			return nil
		}
		var ae *admin.Error
		if errors.As(err, &ae) {
			sv.Error = ae.Message
			p.render(w, r, signInStatus(w, ae), sv)
			return nil
		}
		if err != nil {
			return err
		}
		return h(w, r, v)
	}
}
