package bearer

import (
	"errors"
	"net/http"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/wire"
)

// Token returns the credentials of r's "Authorization: Bearer" header, for
// any bearer (a JWT, or a shared secret such as autho's introspection
// caller's): ErrNoCredentials when there is no header or another scheme,
// ErrInvalidToken when the header is given more than once. The token may be
// empty. Tokens in the query string or form body are not looked at (RFC
// 6750 §2.3 and §5.3: they end up in logs).
func Token(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0 || (len(values) == 1 && values[0] == ""):
		return "", errNoHeader
	case len(values) > 1:
		return "", errManyHeaders
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errOtherScheme
	}
	return strings.Trim(token, " \t"), nil
}

// VerifyRequest reads the bearer from r's Authorization header (see Token)
// and verifies it. It is Middleware without the response, for callers that
// answer in their own way: ErrNoCredentials when there is no header or
// another scheme, ErrUnavailable when strict mode could not ask autho or
// the revocation feed is missing or too old, ErrInvalidToken for anything
// else.
func (v *Verifier) VerifyRequest(r *http.Request) (*Identity, error) {
	token, err := Token(r)
	if err != nil {
		return nil, err
	}
	return v.Verify(r.Context(), token)
}

// Middleware lets a request through to next only with a valid bearer, and puts
// its Identity in the request's context (read it with FromContext). Otherwise
// it answers 401 with WWW-Authenticate and the contract's envelope: result 15
// when no bearer was sent, 16 for any refused one; or, while strict mode
// cannot ask autho or the revocation feed is older than MaxAge, 503 with
// Retry-After and result 14 (see WriteError).
// The response never says why; Config.OnError gets the reason.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.VerifyRequest(r)
		if err != nil {
			if v.onError != nil {
				v.onError(r, err)
			}
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// retryAfterUnavailable is what a client is told to wait while strict mode
// cannot ask autho: as autho's own server says while its database is down.
const retryAfterUnavailable = "5"

// WriteError answers a refusal the way Middleware does: 401, WWW-Authenticate
// and the envelope, result 15 for ErrNoCredentials and 16 for anything else
// (an unknown error is a refusal too, never a pass); except ErrUnavailable,
// no way to tell whether the token was revoked, which is 503, result 14, with
// Retry-After and no challenge, since the token itself was not refused.
// Useful to a handler that calls VerifyRequest itself.
func WriteError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNoCredentials):
		writeRefusal(w, autho.ErrNoCredentials)
	case errors.Is(err, ErrUnavailable):
		w.Header().Set("Retry-After", retryAfterUnavailable)
		writeRefusal(w, autho.ErrServiceUnavailable)
	default:
		writeRefusal(w, autho.ErrInvalidBearer)
	}
}

// writeRefusal answers with e; the status and, for 15 and 16, the challenge
// are the wire table's.
func writeRefusal(w http.ResponseWriter, e *autho.Error) {
	w.Header().Set("Cache-Control", "no-store")
	wire.WriteBare(w, wire.Error(e))
}

// RequireScope lets a request through to next only if Middleware's identity
// has scope. Otherwise it answers 403 with the envelope (result "17",
// "Insufficient scope") and the RFC 6750 §3.1 challenge
// error="insufficient_scope": the token is fine, it just does not grant this.
// The contract defines no code for this case, hence 17. Without an identity in
// the context (RequireScope used outside Middleware) it answers as Middleware
// does for a missing bearer: 401, result 15.
//
// RequireScope panics if scope is not a valid OAuth scope token (RFC 6749
// §3.3: printable ASCII without space, '"' or '\'), as that is a programming
// error and the scope is quoted into a response header.
func RequireScope(scope string, next http.Handler) http.Handler {
	if !validScope(scope) {
		panic("bearer: RequireScope: invalid scope " + scope)
	}
	challenge := `Bearer realm="autho", error="insufficient_scope", scope="` + scope + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := FromContext(r.Context())
		if !ok {
			WriteError(w, errNoHeader)
			return
		}
		if !id.HasScope(scope) {
			w.Header().Set("WWW-Authenticate", challenge)
			writeRefusal(w, autho.ErrInsufficientScope)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func validScope(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
