package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Serving is an http.Server running on a bound listener: what the daemon
// and the gateway start, and what tests boot on :0.
type Serving struct {
	srv       *http.Server
	ln        net.Listener
	tls       bool
	served    chan error
	closeOnce sync.Once
	closeErr  error
}

// Serve starts srv on ln, over TLS when srv.TLSConfig is set.
func Serve(srv *http.Server, ln net.Listener) *Serving {
	// Read now: serving sets up HTTP/2, which may fill srv.TLSConfig in.
	s := &Serving{srv: srv, ln: ln, tls: srv.TLSConfig != nil, served: make(chan error, 1)}
	go func() {
		if s.tls {
			s.served <- srv.ServeTLS(ln, "", "")
			return
		}
		s.served <- srv.Serve(ln)
	}()
	return s
}

// Addr is the bound listen address.
func (s *Serving) Addr() string { return s.ln.Addr().String() }

// URL is the base URL clients use: https:// when serving TLS.
func (s *Serving) URL() string {
	if s.tls {
		return "https://" + s.Addr()
	}
	return "http://" + s.Addr()
}

// Close stops accepting, waits for in-flight requests to finish (until ctx
// ends), and reports why serving stopped if it was not this Close. Later
// calls return the first one's answer. Connections already switched to
// another protocol (WebSockets) are not waited for.
func (s *Serving) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closeErr = s.srv.Shutdown(ctx)
		if serr := <-s.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			s.closeErr = errors.Join(s.closeErr, serr)
		}
	})
	return s.closeErr
}

// drainTimeout bounds how long a stopping process waits for in-flight
// requests.
const drainTimeout = 30 * time.Second

// DrainOnDone waits until ctx ends (SIGINT or SIGTERM), then closes,
// giving in-flight requests up to drainTimeout to finish.
func DrainOnDone(ctx context.Context, log *slog.Logger, closeFn func(context.Context) error) error {
	<-ctx.Done()
	log.Info("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	return closeFn(sctx)
}
