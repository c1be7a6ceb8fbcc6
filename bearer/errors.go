package bearer

import "errors"

// The kinds of refusal. Every error Token, Verify, VerifyClaims, VerifyRequest
// and Middleware produce is an *Error whose Kind is one of these, so callers
// map them to an answer with errors.Is and never by reading text.
var (
	// ErrNoCredentials: the request carries no bearer at all (no
	// Authorization header, or another scheme such as Basic). Result 15.
	ErrNoCredentials = errors.New("bearer: credentials not provided")

	// ErrInvalidToken: a bearer was given and is refused, for whatever
	// reason. Result 16. The reason is in Error.Reason, for logs only.
	ErrInvalidToken = errors.New("bearer: invalid or expired token")

	// ErrUnavailable: the bearer verified locally, but whether it was
	// revoked cannot be told: strict mode got no definite answer from
	// autho's introspection endpoint (it cannot be reached, timed out, or
	// answered anything but 200 with a boolean "active"), or the
	// revocation feed has not been fetched yet or not for longer than
	// RevocationsConfig.MaxAge. Result 14, 503 with Retry-After: the token
	// may well be good, and a client told 16 would throw it away and log
	// in again, which is no help while autho is down.
	ErrUnavailable = errors.New("bearer: revocation state unavailable")
)

// Error is a refusal. Reason and Err say precisely why; they are meant for the
// service's own logs and are never written to the client, because telling an
// attacker which check failed helps them forge the next attempt. Neither ever
// contains the token. Treat an Error as read-only: the commonest refusals are
// shared values.
type Error struct {
	Kind   error  // ErrNoCredentials, ErrInvalidToken or ErrUnavailable
	Reason string // short, fixed text such as "expired" or "alg does not match the key"
	Err    error  // the underlying cause, if any (a golang-jwt error, a network error, …)
}

func (e *Error) Error() string {
	s := e.Kind.Error() + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is see both the kind and the cause, so a caller can count
// expiries with errors.Is(err, jwt.ErrTokenExpired) if it wants to.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func invalid(reason string, cause error) *Error {
	return &Error{Kind: ErrInvalidToken, Reason: reason, Err: cause}
}

func unavailable(reason string, cause error) *Error {
	return &Error{Kind: ErrUnavailable, Reason: reason, Err: cause}
}

// Refusals that carry no cause are shared values: the cheapest refusals
// (oversized or garbage input) then allocate nothing.
var (
	errNoHeader     = &Error{Kind: ErrNoCredentials, Reason: "no Authorization header"}
	errOtherScheme  = &Error{Kind: ErrNoCredentials, Reason: "Authorization scheme is not Bearer"}
	errManyHeaders  = invalid("more than one Authorization header", nil)
	errEmpty        = invalid("empty token", nil)
	errTooLarge     = invalid("token larger than MaxTokenBytes", nil)
	errNotCompact   = invalid("not the JWS compact form", nil)
	errAlgNone      = invalid(`alg "none" refused`, nil)
	errAlgNotAllow  = invalid("alg not allowed", nil)
	errAlgMismatch  = invalid("alg does not match the key", nil)
	errBadHeader    = invalid("malformed header", nil)
	errForbiddenHdr = invalid("forbidden header parameter (jku, x5u, jwk, x5c or crit)", nil)
	errBadTyp       = invalid(`typ is not "JWT"`, nil)
	errFeedAsBearer = invalid(`typ is "`+RevocationsType+`": the revocation feed is not a bearer`, nil)
	errBadClaims    = invalid("malformed claims (not a JSON object in UTF-8, or a name given twice or in two letter cases)", nil)
	errHighS        = invalid("ES256 signature with a high s (the malleated twin of the low-s one)", nil)
	errInactive     = invalid("introspection: token is not active", nil)
)
