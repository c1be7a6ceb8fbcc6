package portal

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
)

// maxFormBytes bounds a form body. The largest legitimate form (a password
// change: three passwords of 256 characters of up to 4 bytes) is far below.
const maxFormBytes = 64 << 10

// parseForm reads a urlencoded form body, bounded in size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errFormTooLarge
		}
		return errBadForm
	}
	return nil
}

// formErrors are a form's messages by field, each shown next to its field
// and tied to it with aria-describedby; "" is about the whole form.
type formErrors map[string]string

// notices are the fixed confirmations a redirect after a form may ask a
// page to show (?done=key). Fixed texts, so a link cannot make the page say
// anything else.
var notices = map[string]string{
	"revoked":         "The token was revoked. Logins with it are refused from now on.",
	"deactivated":     "The user was deactivated and signed out everywhere. Logins with their API tokens are refused until they are reactivated.",
	"activated":       "The user was reactivated.",
	"sessions":        "The user was signed out everywhere.",
	"password":        "Your password was changed. Your other sessions were signed out.",
	"bye":             "You have signed out.",
	"ended":           "Your session has ended. Sign in again to continue.",
	"signin":          "That sign-in has expired. Sign in again with your password.",
	"totp-added":      "Your authenticator app was added. Sign-ins now ask for a code from it.",
	"totp-removed":    "Your authenticator app was removed. Sign-ins now ask only for your password.",
	"totp-has":        "You already have an authenticator app. Remove it first to add another.",
	"mfa-required":    "A second factor is required to use this portal: add an authenticator app or a passkey to continue.",
	"passkey-added":   "Your passkey was added. You can sign in with it alone, or use it after your password.",
	"passkey-removed": "The passkey was removed. It no longer signs you in.",
	"mfa-on":          "A second factor is now required of everyone in this account. Those without one are asked to add one when they next open the portal.",
	"mfa-off":         "A second factor is no longer required of everyone in this account.",
	"mfa-cleared":     "The user's second factors and recovery codes were removed. They sign in with their password alone until they add a factor again.",
	"mfa-none":        "That user had no second factor; nothing changed.",
	"invited":         "Your password is set and you are signed in.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("done")] }

// isEmail reports whether s is one bare email address.
func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s && strings.Contains(s, "@")
}
