package adminapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/view"
)

// accountAudit pages through one account's audit log, newest first.
func (h *handler) accountAudit(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	a, err := h.svc.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.auditPage(w, r, a.ID)
}

// allAudit pages through every event, of every account and of none.
func (h *handler) allAudit(w http.ResponseWriter, r *http.Request, _ autho.Actor) error {
	return h.auditPage(w, r, "")
}

// auditPage reads one page from the store itself (the log grows without
// bound): the cursor is the last event's (time, id), so events added
// meanwhile, which are newer, never shift a page.
func (h *handler) auditPage(w http.ResponseWriter, r *http.Request, accountID string) error {
	q := r.URL.Query()
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxLimit {
			return &badRequest{field: "limit", detail: fmt.Sprintf("limit must be a whole number from 1 to %d", maxLimit)}
		}
		limit = n
	}
	f := autho.AuditFilter{AccountID: accountID, Limit: limit + 1}
	if c := q.Get("cursor"); c != "" {
		at, id, err := parseCursor(c)
		if err != nil {
			return &badRequest{field: "cursor", detail: "cursor is not one this API gave: start again without it"}
		}
		f.Before = &autho.AuditEvent{At: at, ID: id}
	}
	es, err := h.svc.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	out := page[view.AuditEvent]{Items: make([]view.AuditEvent, 0, min(limit, len(es)))}
	for i, e := range es {
		if i == limit {
			out.NextCursor = makeCursor(es[i-1].At, es[i-1].ID)
			break
		}
		out.Items = append(out.Items, view.AuditEventOf(e))
	}
	return reply(w, http.StatusOK, out)
}
