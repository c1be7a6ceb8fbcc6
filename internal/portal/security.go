package portal

import (
	"net/http"
	"strings"
)

// contentSecurityPolicy allows the portal's own script, styles and images
// and nothing else: no inline script, no framing, forms only to this
// origin, and the script's requests (passkey.js asking for a ceremony's
// options) only to it too. An injected tag that slipped past escaping could
// load nothing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// securityHeaders sets what every portal answer carries. Pages are never
// stored by a browser or a proxy: they show tokens, users and audit
// entries, and a back button after signing out must not bring them back.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/portal/static/") {
			h.Set("Cache-Control", "no-store")
			h.Set("Pragma", "no-cache")
		}
		next.ServeHTTP(w, r)
	})
}
