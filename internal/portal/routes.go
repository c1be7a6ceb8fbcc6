package portal

import (
	"net/http"

	"github.com/autho/autho/internal/dispatch"
)

// access is who may reach a route.
type access int

const (
	public     access = iota // anyone; a session is read if there is one
	member                   // a signed-in user of any role
	adminOnly                // a signed-in admin of the account
	userChange               // an admin, while the account is open (admin.CheckUserManagement)
	staticFile               // anyone; no session is read
	// enrolling: a signed-in user of any role, even one who must add a
	// second factor first (admin.MustEnroll): the Security page's
	// enrollment. Every other page sends such a user there.
	enrolling
)

// handler is a page handler: it writes a page or returns an error that
// fail turns into one, so that every failure looks the same.
type handler func(w http.ResponseWriter, r *http.Request, v *visit) error

type route struct {
	method  string
	pattern string
	who     access
	h       handler
}

// routeTable lists every page of the portal. Methods are matched by package
// dispatch, so that a wrong method gets the portal's own page with Allow
// rather than ServeMux's plain text.
func (p *Portal) routeTable() []route {
	return []route{
		{"GET", "/portal/{$}", public, p.home},
		{"GET", "/portal/login", public, p.loginPage},
		{"POST", "/portal/login", public, p.login},
		{"POST", "/portal/logout", public, p.logout},
		{"GET", "/portal/login/code", public, p.codePage},
		{"POST", "/portal/login/code", public, p.completeSignIn},
		// An invitation's link: public, since the person has no password
		// yet; the token in the path is the only key.
		{"GET", "/portal/invite/{token}", public, p.invitePage},
		{"POST", "/portal/invite/{token}", public, p.acceptInvite},
		{"POST", "/portal/login/passkey/options", public, p.passkeySignInOptions},
		{"POST", "/portal/login/passkey", public, p.passkeySignIn},
		{"POST", "/portal/login/code/passkey/options", public, p.passkeyCodeOptions},
		{"POST", "/portal/login/code/passkey", public, p.passkeySecondFactor},
		{"POST", "/portal/stepup/passkey/options", member, p.passkeyStepUpOptions},

		{"GET", "/portal/tokens", member, p.tokensPage},
		{"POST", "/portal/tokens", member, p.stepUp("Creating a token", "/portal/tokens", p.createToken)},
		{"GET", "/portal/tokens/{id}/revoke", member, p.revokePage},
		{"POST", "/portal/tokens/{id}/revoke", member, p.revokeToken},

		{"GET", "/portal/account", member, p.accountPage},
		{"POST", "/portal/account/mfa", adminOnly, p.stepUp("Changing whether a second factor is required", "/portal/account", p.setMFARequired)},
		{"GET", "/portal/password", member, p.passwordPage},
		{"POST", "/portal/password", member, p.changePassword},

		{"GET", "/portal/security", enrolling, p.securityPage},
		{"POST", "/portal/security/totp", enrolling, p.beginTOTP},
		{"GET", "/portal/security/totp", enrolling, p.enrollPage},
		{"GET", "/portal/security/totp/qr.png", enrolling, p.totpQR},
		{"POST", "/portal/security/totp/confirm", enrolling, p.confirmTOTP},
		// Not in the SPEC's list, but a stolen session must not be able to
		// strip the factor or read fresh recovery codes without it.
		{"POST", "/portal/security/totp/remove", member, p.stepUp("Removing your authenticator app", "/portal/security", p.removeTOTP)},
		{"POST", "/portal/security/recovery", member, p.stepUp("Making new recovery codes", "/portal/security", p.regenerateCodes)},
		{"POST", "/portal/security/passkeys/options", enrolling, p.passkeyRegisterOptions},
		{"POST", "/portal/security/passkeys", enrolling, p.addPasskey},
		{"POST", "/portal/security/passkeys/{id}/remove", member, p.stepUp("Removing a passkey", "/portal/security", p.removePasskey)},

		{"GET", "/portal/users", adminOnly, p.usersPage},
		{"POST", "/portal/users", userChange, p.stepUp("Adding a user", "/portal/users", p.addUser)},
		{"POST", "/portal/users/{id}/deactivate", userChange, p.stepUp("Deactivating a user", "/portal/users", p.deactivateUser)},
		{"POST", "/portal/users/{id}/activate", userChange, p.stepUp("Reactivating a user", "/portal/users", p.activateUser)},
		// Like revoking a token, signing someone out only takes access
		// away, so it stays open to a closed account's admins.
		{"POST", "/portal/users/{id}/sessions", adminOnly, p.endUserSessions},
		{"POST", "/portal/users/{id}/mfa", userChange, p.stepUp("Removing someone's second factors", "/portal/users", p.clearUserFactors)},
		{"GET", "/portal/users/{id}/password", userChange, p.resetPasswordPage},
		{"POST", "/portal/users/{id}/password", userChange, p.stepUp("Resetting a password", "/portal/users", p.resetPassword)},

		{"GET", "/portal/audit", adminOnly, p.auditPage},

		{"GET", "/portal/static/{name}", staticFile, p.serveStatic},
	}
}

func (p *Portal) routes() http.Handler {
	mux := http.NewServeMux()
	var rts []dispatch.Route
	for _, rt := range p.routeTable() {
		rts = append(rts, dispatch.Route{Method: rt.method, Pattern: rt.pattern, Handler: p.wrap(rt.who, rt.h)})
	}
	dispatch.Register(mux, rts, func(allow string) http.Handler {
		return p.wrap(public, func(w http.ResponseWriter, _ *http.Request, _ *visit) error {
			w.Header().Set("Allow", allow)
			return errMethod
		})
	})
	mux.Handle("/portal/", p.wrap(public, func(http.ResponseWriter, *http.Request, *visit) error { return errNotFound }))
	return mux
}

// wrap reads the session, enforces who may reach the route, runs h and
// turns its error into a page.
func (p *Portal) wrap(who access, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if who == staticFile {
			if err := h(w, r, &visit{}); err != nil {
				p.fail(w, r, nil, err)
			}
			return
		}
		v, err := p.visit(w, r)
		if err != nil {
			p.fail(w, r, v, err)
			return
		}
		if who != public && v.user == nil {
			p.toLogin(w, r, v)
			return
		}
		if who != public && who != enrolling {
			must, err := p.admin.MustEnroll(r.Context(), v.user, v.account)
			if err != nil {
				p.fail(w, r, v, err)
				return
			}
			if must {
				// A form sent now is not kept: nothing but enrollment
				// is open to this user yet.
				http.Redirect(w, r, "/portal/security?done=mfa-required", http.StatusSeeOther)
				return
			}
		}
		if (who == adminOnly || who == userChange) && !v.isAdmin() {
			p.fail(w, r, v, errAdminsOnly)
			return
		}
		if who == userChange {
			if err := p.admin.CheckUserManagement(v.account); err != nil {
				p.fail(w, r, v, err)
				return
			}
		}
		if err := h(w, r, v); err != nil {
			p.fail(w, r, v, err)
		}
	})
}
