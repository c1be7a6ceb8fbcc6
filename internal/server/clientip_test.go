package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestServer_ClientIP(t *testing.T) {
	s := New(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}, Deps{})
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct", "192.0.2.1:5555", nil, "192.0.2.1"},
		{"untrusted peer's header ignored", "192.0.2.1:5555", []string{"203.0.113.9"}, "192.0.2.1"},
		{"trusted proxy", "10.1.2.3:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client-forged left entries ignored", "10.1.2.3:80", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", "10.1.2.3:80", []string{"203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"several header lines", "10.1.2.3:80", []string{"1.1.1.1", "203.0.113.9"}, "203.0.113.9"},
		{"only trusted hops", "10.1.2.3:80", []string{"10.2.2.2"}, "10.2.2.2"},
		{"garbage stops the walk", "10.1.2.3:80", []string{"203.0.113.9, nonsense"}, "10.1.2.3"},
		{"no header from proxy", "10.1.2.3:80", nil, "10.1.2.3"},
		{"ipv6 trusted", "[::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"ipv4-mapped peer", "[::ffff:192.0.2.1]:80", nil, "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Fatalf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

// A request whose client hung up is not an internal error worth an ERROR
// line; any other unexpected error is.
func TestServer_FailLogsClientGoneAtDebug(t *testing.T) {
	var buf bytes.Buffer
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}, Deps{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("POST", "/", nil).WithContext(ctx)
	s.fail(httptest.NewRecorder(), r, fmt.Errorf("read: %w", context.Canceled))
	if strings.Contains(buf.String(), "level=ERROR") || !strings.Contains(buf.String(), "client went away") {
		t.Fatalf("log %q", buf.String())
	}
	buf.Reset()
	s.fail(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil), errors.New("boom"))
	if !strings.Contains(buf.String(), "level=ERROR") {
		t.Fatalf("log %q", buf.String())
	}
}
