package server

import (
	"encoding/json"
	"net/http"

	"github.com/autho/autho"
	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/introspect"
	"github.com/autho/autho/internal/reqbody"
	"github.com/autho/autho/internal/wire"
)

// introspectionAnswer is RFC 7662's response, not the contract's envelope:
// callers are other APIs and OAuth libraries that expect this shape. An
// inactive token's answer is exactly {"active":false}.
type introspectionAnswer struct {
	Active    bool            `json:"active"`
	TokenType string          `json:"token_type,omitempty"`
	Scope     string          `json:"scope,omitempty"`
	Issuer    string          `json:"iss,omitempty"`
	Subject   string          `json:"sub,omitempty"`
	Audience  bearer.Audience `json:"aud,omitempty"` // a string when there is one, as autho issues
	ExpiresAt int64           `json:"exp,omitempty"`
	IssuedAt  int64           `json:"iat,omitempty"`
	NotBefore int64           `json:"nbf,omitempty"`
	ID        string          `json:"jti,omitempty"`
	Account   string          `json:"acc,omitempty"`
	Token     string          `json:"tok,omitempty"`
}

// handleIntrospect answers POST /v1/autho/token/introspect/. It exists only
// while AUTHO_INTROSPECTION_SECRET is set; then the caller must present that
// secret as its bearer before anything else is looked at. Failures other
// than the answer itself use the envelope like every other route.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) error {
	svc := s.deps.Introspection
	if svc == nil {
		return autho.ErrNotFoundRoute
	}
	noStore(w)
	if err := introspectionCaller(r, svc); err != nil {
		return err
	}
	form, err := reqbody.Check(r.Header.Get("Content-Type"), r.ContentLength)
	if err != nil {
		return err
	}
	body, err := reqbody.Read(r.Body)
	if err != nil {
		return err
	}
	token, err := introspect.ParseBody(body, form)
	if err != nil {
		return err
	}
	res, err := svc.Introspect(r.Context(), token)
	if err != nil {
		return err
	}
	ans := introspectionAnswer{Active: res.Active}
	if res.Active {
		c := res.Claims
		ans = introspectionAnswer{
			Active:    true,
			TokenType: "Bearer",
			Scope:     c.Scope,
			Issuer:    c.Issuer,
			Subject:   c.Subject,
			Audience:  c.Audience,
			ExpiresAt: seconds(c.ExpiresAt),
			IssuedAt:  seconds(c.IssuedAt),
			NotBefore: seconds(c.NotBefore),
			ID:        c.ID,
			Account:   c.Account,
			Token:     c.Token,
		}
	}
	b, err := json.Marshal(ans)
	if err != nil {
		return err
	}
	wire.WriteJSON(w, http.StatusOK, b)
	return nil
}

// seconds is an answer's time: Unix seconds, 0 (so omitted) when absent.
func seconds(d bearer.NumericDate) int64 {
	if d.IsZero() {
		return 0
	}
	return d.Unix()
}

// introspectionCaller checks the caller's bearer against the secret: none
// (or another scheme) is result 15, a wrong one 16, both 401 with a
// challenge, as for any bearer-protected route.
func introspectionCaller(r *http.Request, svc *introspect.Service) error {
	secret, err := bearer.Token(r)
	if err != nil {
		return err
	}
	if !svc.Authorized(secret) {
		return autho.ErrInvalidBearer
	}
	return nil
}
