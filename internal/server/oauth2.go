package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/reqbody"
	"github.com/autho/autho/internal/wire"
)

// The OAuth2 bridge: POST /oauth2/token is the login exchange in RFC 6749
// §4.4 form (client credentials grant), for partners whose software
// already speaks OAuth2. The partner token is the client_id, the API token
// the client_secret. Every check of the exchange is login.Service.Serve's,
// in its order, with its rate limit and last-used record; this file only
// reads the request's OAuth2 shape and maps the outcome to RFC 6749's
// answers, in one place (oauthFailure).

// tokenPath is where the token endpoint is served.
const tokenPath = "/oauth2/token"

// tokenAnswer is RFC 6749 §5.1's successful response.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// bridgeError is a refusal the bridge alone makes: the request is not a
// well-formed client credentials request. It carries RFC 6749's error code,
// which is also its result label in the logins counter, and a description
// in the characters §5.2 allows there (no '"' nor '\').
type bridgeError struct{ code, description string }

func (e *bridgeError) Error() string { return e.code + ": " + e.description }

var (
	errNotForm          = &bridgeError{"invalid_request", "Body must be application/x-www-form-urlencoded"}
	errNoGrantType      = &bridgeError{"invalid_request", "Must include grant_type"}
	errGrantType        = &bridgeError{"unsupported_grant_type", "Only client_credentials is supported"}
	errCredentialsTwice = &bridgeError{"invalid_request", "Client credentials given both in the Authorization header and in the body"}
	errBadBasic         = &bridgeError{"invalid_request", "Malformed Authorization header"}
)

// handleToken answers POST /oauth2/token, counting answers in the logins
// counter under endpoint "oauth2". Its failures are written here, in
// OAuth2's shape, not by fail.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	err := s.token(w, r)
	a := oauthFailure(err)
	s.deps.Metrics.login("oauth2", a.result)
	if err != nil {
		s.failOAuth(w, r, err, a)
	}
	return nil
}

// token does the work of handleToken: login.Service.Serve runs every
// check, in the login's order, with a Parse of the token request's own.
func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	noStore(w)
	// RFC 6749 §4.4.2: the request is a form. Anything else (none
	// included) Serve would read as JSON; it is refused first, where the
	// login refuses another Content-Type.
	ct := r.Header.Get("Content-Type")
	if form, err := reqbody.ContentType(ct); err != nil || !form {
		return errNotForm
	}
	auth := r.Header.Get("Authorization")
	res, err := s.deps.Login.Serve(r.Context(), login.Request{
		ContentType: ct,
		Length:      r.ContentLength,
		Body:        r.Body,
		ClientIP:    s.clientIP(r),
		Parse: func(body []byte, _ bool) (login.Credentials, []string, error) {
			return parseTokenRequest(body, auth)
		},
	})
	if err != nil {
		return err
	}
	b, err := json.Marshal(tokenAnswer{
		AccessToken: res.Token,
		TokenType:   "Bearer",
		ExpiresIn:   res.ExpiresAt.Unix() - res.IssuedAt.Unix(), // the JWT's exp − iat
		Scope:       res.Scope,
	})
	if err != nil {
		return err
	}
	wire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// usesBasic reports whether an Authorization header is of the Basic scheme.
func usesBasic(auth string) bool {
	scheme, _, _ := strings.Cut(auth, " ")
	return strings.EqualFold(scheme, "Basic")
}

// basicCredentials reads client_secret_basic (RFC 6749 §2.3.1) from an
// Authorization header of the Basic scheme: the base64 of client_id ":"
// client_secret, each form-urlencoded first.
func basicCredentials(auth string) (login.Credentials, error) {
	_, b64, _ := strings.Cut(auth, " ")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return login.Credentials{}, errBadBasic
	}
	id, sec, ok := strings.Cut(string(raw), ":")
	if !ok {
		return login.Credentials{}, errBadBasic
	}
	// Split first, then decode: an escaped ":" belongs to its part.
	if id, err = url.QueryUnescape(id); err != nil {
		return login.Credentials{}, errBadBasic
	}
	if sec, err = url.QueryUnescape(sec); err != nil {
		return login.Credentials{}, errBadBasic
	}
	return login.Credentials{PartnerToken: id, APIToken: sec}, nil
}

// parseTokenRequest reads a token request, its form body and its
// Authorization header auth, into the login's credentials and the scopes
// asked. The form is read as strictly as the login's (a parameter given
// twice is malformed, as RFC 6749 §3.2 wants). A header of another scheme
// than Basic is not client authentication, and is ignored.
func parseTokenRequest(body []byte, auth string) (login.Credentials, []string, error) {
	grant := reqbody.Field{Name: "grant_type"}
	scope := reqbody.Field{Name: "scope"}
	id := reqbody.Field{Name: "client_id"}
	sec := reqbody.Field{Name: "client_secret"}
	if err := reqbody.Parse(body, true, &grant, &scope, &id, &sec); err != nil {
		return login.Credentials{}, nil, err
	}
	switch {
	case grant.Value == "":
		return login.Credentials{}, nil, errNoGrantType
	case grant.Value != "client_credentials":
		return login.Credentials{}, nil, errGrantType
	}
	c := login.Credentials{PartnerToken: id.Value, APIToken: sec.Value}
	if usesBasic(auth) {
		if id.Found || sec.Found {
			return login.Credentials{}, nil, errCredentialsTwice
		}
		var err error
		if c, err = basicCredentials(auth); err != nil {
			return login.Credentials{}, nil, err
		}
	}
	if c.PartnerToken == "" || c.APIToken == "" {
		return login.Credentials{}, nil, autho.ErrMissingTokens
	}
	// An empty scope asks nothing in particular: all of the token's.
	return c, strings.Fields(scope.Value), nil
}

// oauthAnswer is how a token request's outcome is answered: RFC 6749 §5.2's
// error and description at an HTTP status, and the logins counter's result.
type oauthAnswer struct {
	status      int
	code        string // RFC 6749's error; "" for success
	description string
	result      string       // the contract's result code, or the bridge's error
	contract    *autho.Error // the contract's answer, when the login decided
}

// oauthFailure maps any outcome of a token request to its answer, in one
// place: each login refusal (rows 3–9, and 01: no client authentication)
// to invalid_client with the contract's message, the login's other answers
// to RFC 6749's nearest, the bridge's own refusals to themselves. The
// result label is the login's code wherever the login decided, so that
// the two endpoints' counts read alike.
func oauthFailure(err error) oauthAnswer {
	if err == nil {
		return oauthAnswer{status: http.StatusOK, result: "00"}
	}
	var be *bridgeError
	if errors.As(err, &be) {
		return oauthAnswer{status: http.StatusBadRequest, code: be.code, description: be.description, result: be.code}
	}
	if errors.Is(err, login.ErrInvalidScope) {
		return oauthAnswer{status: http.StatusBadRequest, code: "invalid_scope",
			description: "Scope not granted to the API token", result: "invalid_scope"}
	}
	ae := contractError(err)
	a := oauthAnswer{description: ae.Message, result: ae.Code, contract: ae}
	switch ae {
	case autho.ErrMalformedBody, autho.ErrBodyTooLarge:
		a.status, a.code = http.StatusBadRequest, "invalid_request"
	case autho.ErrMissingTokens,
		autho.ErrInvalidPartnerToken, autho.ErrAccountExpired, autho.ErrInvalidUser,
		autho.ErrInvalidAPIToken, autho.ErrWrongAccount, autho.ErrAPITokenExpired:
		a.status, a.code = http.StatusUnauthorized, "invalid_client"
	case autho.ErrTooManyRequests:
		a.status, a.code = http.StatusTooManyRequests, "temporarily_unavailable"
	case autho.ErrServiceUnavailable:
		a.status, a.code = http.StatusServiceUnavailable, "temporarily_unavailable"
	default:
		a.status, a.code = http.StatusInternalServerError, "server_error"
	}
	return a
}

// failOAuth writes a token request's failure as RFC 6749 §5.2 JSON: with
// the Basic challenge of an invalid_client when the client used Basic
// (§5.2), and the headers (Retry-After) and logging of the contract's
// answer when the login decided.
func (s *Server) failOAuth(w http.ResponseWriter, r *http.Request, err error, a oauthAnswer) {
	if a.contract != nil {
		s.failHeaders(w, r, err, a.contract)
	}
	if a.status == http.StatusUnauthorized && usesBasic(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Basic realm="autho"`)
	}
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{a.code, a.description})
	wire.WriteJSON(w, a.status, b)
}
