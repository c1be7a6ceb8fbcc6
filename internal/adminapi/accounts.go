package adminapi

import (
	"net/http"
	"time"

	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/config"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/view"
)

func (h *handler) createAccount(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	var req struct {
		Name      string   `json:"name"`
		ExpiresAt *instant `json:"expires_at"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	until := time.Now().Add(admin.DefaultAccountTerm)
	if req.ExpiresAt != nil {
		until = *req.ExpiresAt.time()
	}
	a, pt, err := h.svc.CreateAccount(r.Context(), by, req.Name, until)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, view.AccountOf(a, time.Now(), pt))
}

func (h *handler) getAccount(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	a, err := h.svc.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.AccountOf(a, time.Now(), ""))
}

// listAccounts pages through the accounts, newest first, filtered by
// status and expiring_before (an RFC 3339 time: the accounts whose expiry
// comes before it, for a support tool's "expiring this month").
func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	q := r.URL.Query()
	status := q.Get("status")
	if status != "" && status != string(autho.AccountActive) && status != string(autho.AccountSuspended) {
		return &badRequest{field: "status", detail: `status must be "active" or "suspended"`}
	}
	var before time.Time
	if s := q.Get("expiring_before"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return &badRequest{field: "expiring_before", detail: "expiring_before must be an RFC 3339 time"}
		}
		before = t
	}
	as, err := h.svc.AccountsWhere(r.Context(), admin.AccountQuery{Status: autho.AccountStatus(status), ExpiringBefore: before})
	if err != nil {
		return err
	}
	now := time.Now()
	return replyPage(w, r, as, func(a *autho.Account) (time.Time, string) { return a.CreatedAt, a.ID },
		func(a *autho.Account) view.Account { return view.AccountOf(a, now, "") })
}

// patchAccount changes any of name, expires_at, status and allowed_scopes,
// all or none.
func (h *handler) patchAccount(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	var req struct {
		Name          *string              `json:"name"`
		ExpiresAt     *instant             `json:"expires_at"`
		Status        *autho.AccountStatus `json:"status"`
		AllowedScopes *[]string            `json:"allowed_scopes"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	a, err := h.svc.ChangeAccount(r.Context(), by, r.PathValue("id"), admin.AccountChange{
		Name: req.Name, ExpiresAt: req.ExpiresAt.time(), Status: req.Status, AllowedScopes: req.AllowedScopes,
	})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.AccountOf(a, time.Now(), ""))
}

// rotatePartnerToken gives the account a new partner token, the old one
// working on for grace (a Go duration or days, "36h", "7d"; none: it stops
// at once).
func (h *handler) rotatePartnerToken(w http.ResponseWriter, r *http.Request, by autho.Actor) error {
	var req struct {
		Grace string `json:"grace"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &req); err != nil {
			return err
		}
	}
	var grace time.Duration
	if req.Grace != "" {
		d, err := config.ParseDuration(req.Grace)
		if err != nil {
			return &badRequest{field: "grace", detail: "grace must be a duration such as 36h or 7d"}
		}
		grace = d
	}
	a, pt, until, err := h.svc.RotatePartnerToken(r.Context(), by, r.PathValue("id"), grace)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, view.RotationOf(a, time.Now(), pt, until, grace))
}
