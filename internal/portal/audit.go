package portal

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/autho/autho"
)

// auditPageSize is how many events one page of the log shows.
const auditPageSize = 50

type auditView struct {
	layout
	Events []*autho.AuditEvent
	Older  string // link to the next page, or ""
	Paged  bool   // this is not the first page
	Zone   string // the time zone times are shown in
}

func (*auditView) page() string { return "audit" }

// auditPage shows the account's audit log, newest first, a page at a time.
// The cursor in the link is the time and id of the last event shown.
func (p *Portal) auditPage(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := autho.AuditFilter{AccountID: v.account.ID, Limit: auditPageSize + 1}
	if c := r.URL.Query().Get("before"); c != "" {
		before, ok := parseCursor(c)
		if !ok {
			return errNotFound
		}
		f.Before = before
	}
	es, err := p.admin.AuditLog(r.Context(), f)
	if err != nil {
		return err
	}
	av := &auditView{layout: p.layout(v, "Audit log", "audit"), Paged: f.Before != nil, Zone: p.cfg.Location.String()}
	if len(es) > auditPageSize {
		es = es[:auditPageSize]
		last := es[len(es)-1]
		av.Older = "/portal/audit?" + url.Values{"before": {strconv.FormatInt(last.At.UnixMicro(), 10) + "." + last.ID}}.Encode()
	}
	av.Events = es
	p.render(w, r, http.StatusOK, av)
	return nil
}

// parseCursor reads "<unix µs>.<event id>".
func parseCursor(c string) (*autho.AuditEvent, bool) {
	at, id, ok := strings.Cut(c, ".")
	if !ok || !strings.HasPrefix(id, "aud_") || len(id) > 64 {
		return nil, false
	}
	us, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return nil, false
	}
	return &autho.AuditEvent{At: time.UnixMicro(us).UTC(), ID: id}, true
}
