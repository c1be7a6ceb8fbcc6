package adminapi

import (
	"net/http"

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
	limit, c, err := pageQuery(r)
	if err != nil {
		return err
	}
	f := autho.AuditFilter{AccountID: accountID, Limit: limit + 1}
	if c != nil {
		f.Before = &autho.AuditEvent{At: c.at, ID: c.id}
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
