package adminapi

import (
	"net/http"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/config"
	"github.com/autho/autho/internal/view"
)

// createToken makes an API token for the user, shown in this answer only.
// As the operator's, it may outlive AUTHO_MAX_TOKEN_TTL and the account.
func (h *handler) createToken(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	var req struct {
		Name      string   `json:"name"`
		ExpiresAt *instant `json:"expires_at"`
		ExpiresIn *string  `json:"expires_in"`
		Scopes    []string `json:"scopes"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	now := time.Now()
	until := now.Add(admin.DefaultTokenTerm)
	switch {
	case req.ExpiresAt != nil && req.ExpiresIn != nil:
		return &badRequest{field: "expires_in", detail: "give expires_at or expires_in, not both"}
	case req.ExpiresAt != nil:
		until = *req.ExpiresAt.time()
	case req.ExpiresIn != nil:
		d, err := config.ParseDuration(*req.ExpiresIn)
		if err != nil || d <= 0 {
			return &badRequest{field: "expires_in", detail: "expires_in must be a positive duration such as 90d or 36h"}
		}
		until = now.Add(d)
	}
	t, plain, err := h.svc.CreateToken(r.Context(), by, admin.NewToken{
		User: r.PathValue("id"), Name: req.Name, ExpiresAt: until, Scopes: req.Scopes,
	})
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, view.TokenOf(t, time.Now(), plain))
}

func (h *handler) getToken(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	t, err := h.svc.Token(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.TokenOf(t, time.Now(), ""))
}

// listTokens pages through the API tokens, newest first, filtered by
// account, user (an id or an email) and status, as each is now.
func (h *handler) listTokens(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	q := r.URL.Query()
	status := autho.TokenState(q.Get("status"))
	switch status {
	case "", autho.TokenActive, autho.TokenExpired, autho.TokenRevoked:
	default:
		return &badRequest{field: "status", detail: `status must be "active", "expired" or "revoked"`}
	}
	ts, err := h.svc.Tokens(r.Context(), admin.TokenQuery{AccountID: q.Get("account"), User: q.Get("user")})
	if err != nil {
		return err
	}
	now := time.Now()
	kept := ts[:0]
	for _, t := range ts {
		if status == "" || t.State(now) == status {
			kept = append(kept, t)
		}
	}
	return replyPage(w, r, kept, func(t *autho.APIToken) (time.Time, string) { return t.CreatedAt, t.ID },
		func(t *autho.APIToken) view.Token { return view.TokenOf(t, now, "") })
}

// revokeToken ends the token for good; revoking it again answers it as it
// is and records nothing.
func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	if r.ContentLength != 0 {
		var none struct{}
		if err := decode(r, &none); err != nil {
			return err
		}
	}
	t, err := h.svc.Revoke(r.Context(), by, r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.TokenOf(t, time.Now(), ""))
}
