package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// StatusWriter records an answer's status and size for the request log,
// the server's and the gateway's. Unwrap lets a handler reach the real
// writer's Flush and Hijack (for WebSockets) through
// http.ResponseController.
type StatusWriter struct {
	http.ResponseWriter
	Status int // the first status written; 0 until then
	Bytes  int
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += n
	return n, err
}

func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// MethodLabel is what metrics and logs may say of a request's method: one
// of the standard methods (RFC 9110's and PATCH), or "other". The method
// is whatever token the client sent, up to the header limit: kept
// verbatim, every made-up one would be a new series for as long as the
// process lives, and kilobytes of log line.
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// logRequests writes one line per request. It logs the matched route
// pattern, never the raw path or query (a client may put a secret there),
// and no header or body.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		elapsed := time.Since(start)
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		method := MethodLabel(r.Method)
		s.deps.Metrics.observe(route, method, sw.Status, elapsed.Seconds())
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", method),
			// As a person writes the path; the metrics keep the
			// pattern, which their series are already named by.
			slog.String("route", strings.TrimSuffix(route, "{$}")),
			slog.Int("status", sw.Status),
			slog.Int("bytes", sw.Bytes),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("ip", s.clientIP(r)),
		)
	})
}

// recoverPanics turns a panic in a handler into the 500 envelope.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// headers sets what every answer carries regardless of route.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.HSTS {
			w.Header().Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// noStore marks a response that carries a secret or token.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
