// Package adminapi is the admin API: the operator's CLI over HTTP, for a
// platform's back office (CRM, billing, support tools), under /v1/admin/.
// It is a thin adapter over internal/admin, where every rule and the audit
// live: a handler parses, calls one admin method as the operator key's
// actor, and answers in internal/view's shapes; every failure is an RFC 9457
// problem, decided in problem.go alone.
package adminapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/admin"
	"github.com/autho/autho/internal/dispatch"
	"github.com/autho/autho/internal/login"
	"github.com/autho/autho/internal/reqbody"
)

// Config is what the admin API needs from the server.
type Config struct {
	Service *admin.Service
	Keys    Keys // this node's signing keys
	// ClientIP is the address of the caller, believing X-Forwarded-For
	// only from trusted proxies, for the rate limit and the audit log.
	ClientIP func(*http.Request) string
	// FailuresPerMinute bounds the refused keys one client IP may send a
	// minute (AUTHO_LOGIN_FAILURES_PER_MINUTE); 0 turns the limit off.
	FailuresPerMinute int
	Log               *slog.Logger
}

type handler struct {
	svc      *admin.Service
	keys     Keys
	clientIP func(*http.Request) string
	refused  *login.Limiter
	log      *slog.Logger
	mux      *http.ServeMux
}

// opHandler is a route's handler: it acts as the operator key k and
// returns its failure for fail to write.
type opHandler func(w http.ResponseWriter, r *http.Request, by autho.Actor) error

// New returns the admin API's handler, for every path under /v1/admin/.
func New(cfg Config) http.Handler {
	h := &handler{svc: cfg.Service, keys: cfg.Keys, clientIP: cfg.ClientIP, refused: login.NewLimiter(cfg.FailuresPerMinute), log: cfg.Log, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.clientIP == nil {
		h.clientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	// The document is public: it holds no secret, and a generator must
	// read it before anyone has a key.
	rts := []dispatch.Route{{Method: "GET", Pattern: "/v1/admin/openapi.json", Handler: http.HandlerFunc(serveOpenAPI)}}
	for _, rt := range h.routes() {
		rts = append(rts, dispatch.Route{Method: rt.method, Pattern: rt.pattern, Handler: h.authed(rt.handle)})
	}
	dispatch.Register(h.mux, rts, func(allow string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.fail(w, r, &methodNotAllowed{allow}) })
	})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { h.fail(w, r, errNotFound) })
	return h.mux
}

type route struct {
	method, pattern string
	handle          opHandler
}

// routes is every route of the admin API, in one table.
func (h *handler) routes() []route {
	return []route{
		{"POST", "/v1/admin/accounts", h.createAccount},
		{"GET", "/v1/admin/accounts", h.listAccounts},
		{"GET", "/v1/admin/accounts/{id}", h.getAccount},
		{"PATCH", "/v1/admin/accounts/{id}", h.patchAccount},
		{"POST", "/v1/admin/accounts/{id}/partner-token/rotate", h.rotatePartnerToken},
		{"GET", "/v1/admin/accounts/{id}/audit", h.accountAudit},
		{"GET", "/v1/admin/audit", h.allAudit},
		{"GET", "/v1/admin/keys", h.listKeys},
		{"POST", "/v1/admin/keys/rotate", h.rotateKeys},
		{"POST", "/v1/admin/accounts/{id}/users", h.createUser},
		{"GET", "/v1/admin/accounts/{id}/users", h.listUsers},
		{"PATCH", "/v1/admin/users/{id}", h.patchUser},
		{"POST", "/v1/admin/users/{id}/password-reset", h.resetPassword},
		{"POST", "/v1/admin/users/{id}/tokens", h.createToken},
		{"GET", "/v1/admin/tokens", h.listTokens},
		{"GET", "/v1/admin/tokens/{id}", h.getToken},
		{"POST", "/v1/admin/tokens/{id}/revoke", h.revokeToken},
		{"POST", "/v1/admin/webhooks", h.createWebhook},
		{"GET", "/v1/admin/webhooks", h.listWebhooks},
		{"GET", "/v1/admin/webhooks/{id}", h.getWebhook},
		{"DELETE", "/v1/admin/webhooks/{id}", h.deleteWebhook},
		{"POST", "/v1/admin/webhooks/{id}/disable", h.disableWebhook},
		{"GET", "/v1/admin/webhooks/{id}/deliveries", h.listDeliveries},
		{"GET", "/v1/admin/deliveries/{id}", h.getDelivery},
		{"POST", "/v1/admin/deliveries/{id}/retry", h.retryDelivery},
	}
}

// authed checks the operator key of every request before its handler runs:
// a missing, unknown or revoked key is 401 (and counts against the
// client's address, which is refused with 429 once its bucket is empty), a
// read-only key on anything but GET is 403.
func (h *handler) authed(next opHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := h.clientIP(r)
		// Taken before the key is checked, so that keys guessed in
		// parallel count against each other.
		done, wait := h.refused.Take(login.RateKey(ip), time.Now())
		if wait > 0 {
			h.fail(w, r, &tooMany{wait})
			return
		}
		k, err := h.svc.OperatorKeyOf(r.Context(), bearerOf(r))
		done(errors.Is(err, admin.ErrUnauthorized))
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if k.ReadOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.fail(w, r, errReadOnly)
			return
		}
		h.svc.NoteOperatorKeyUse(r.Context(), k, ip)
		run := func(w http.ResponseWriter, r *http.Request) {
			if err := next(w, r, k.Actor(ip)); err != nil {
				h.fail(w, r, err)
			}
		}
		if key := r.Header.Get("Idempotency-Key"); key != "" && r.Method == http.MethodPost {
			if err := h.idempotent(w, r, k, key, run); err != nil {
				h.fail(w, r, err)
			}
			return
		}
		run(w, r)
	})
}

// bearerOf is the credentials of an "Authorization: Bearer" header, "" when
// there is none.
func bearerOf(r *http.Request) string {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

// decode reads a JSON object body into v: application/json only, at most
// 64 KiB, no unknown field (a back office's typo must not be dropped
// silently), nothing after the object.
func decode(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errUnsupportedMedia
	}
	body, err := reqbody.Read(r.Body)
	if errors.Is(err, autho.ErrBodyTooLarge) {
		return errTooLarge
	}
	if err != nil {
		return &badRequest{detail: "the body could not be read"}
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &badRequest{field: fieldOf(err), detail: "the body is not the JSON object this route takes: " + jsonProblem(err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &badRequest{detail: "the body holds more than one JSON value"}
	}
	return nil
}

// fieldOf names the field a decoding error is about, when it says.
func fieldOf(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(f, `"`)
	}
	return ""
}

// jsonProblem is a decoding error in one line, without the Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Type == reflect.TypeFor[time.Time]() {
			return te.Field + " must be an RFC 3339 time, such as 2027-06-30T23:59:59Z"
		}
		return te.Field + " must be a JSON " + te.Type.Kind().String()
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// instant is a time in a request body. time.Time's own decoding fails
// with a parse error that names no field; this one fails as a type error,
// which the decoder fills with the field's name for the problem's field.
type instant time.Time

func (t *instant) UnmarshalJSON(b []byte) error {
	var tt time.Time
	if err := tt.UnmarshalJSON(b); err != nil {
		return &json.UnmarshalTypeError{Value: "string", Type: reflect.TypeFor[time.Time]()}
	}
	*t = instant(tt)
	return nil
}

// time is the instant given, or nil when the body left it out.
func (t *instant) time() *time.Time {
	if t == nil {
		return nil
	}
	tt := time.Time(*t)
	return &tt
}
