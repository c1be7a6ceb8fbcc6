package mail

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/internal/mail/mailtest"
)

const wait = 10 * time.Second

func mustMailer(t *testing.T, rawURL, from string) *Mailer {
	t.Helper()
	cfg, err := ParseURL(rawURL)
	if err != nil {
		t.Fatalf("ParseURL: %v", err)
	}
	m, err := New(cfg, from)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func mustCompose(t *testing.T, edit func(*Data)) Message {
	t.Helper()
	d := fullData()
	if edit != nil {
		edit(&d)
	}
	msg, err := Compose("api_token.expiring", d)
	if err != nil {
		t.Fatalf("Compose: %v", err)
	}
	return msg
}

// lf compares bodies across the wire, where lines end in CRLF.
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

func TestMailer_Send(t *testing.T) {
	srv := mailtest.NewServer(t)
	m := mustMailer(t, srv.URL(), "Autho Notices <notices@autho.example>")
	msg := mustCompose(t, func(d *Data) {
		d.AccountName = "Café Zoë GmbH" // not ASCII: encoded subject and parts
		d.To = "Ada Lovelace <ada@acme.example>"
	})
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.WaitFor(t, 1, wait)
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
	r := got[0]
	if r.From != "notices@autho.example" || len(r.To) != 1 || r.To[0] != "ada@acme.example" {
		t.Errorf("envelope from %q to %q", r.From, r.To)
	}
	if r.User != mailtest.User {
		t.Errorf("authenticated as %q, want %q", r.User, mailtest.User)
	}
	if from, err := r.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "notices@autho.example" || from[0].Name != "Autho Notices" {
		t.Errorf("From header %q (%v)", r.Header.Get("From"), err)
	}
	if to, err := r.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "ada@acme.example" || to[0].Name != "Ada Lovelace" {
		t.Errorf("To header %q (%v)", r.Header.Get("To"), err)
	}
	if r.Subject != msg.Subject {
		t.Errorf("Subject = %q, want %q", r.Subject, msg.Subject)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/alternative" {
		t.Errorf("Content-Type = %q, want multipart/alternative", r.Header.Get("Content-Type"))
	}
	if lf(r.Text) != msg.Text {
		t.Errorf("text part:\n%q\nwant\n%q", r.Text, msg.Text)
	}
	if lf(r.HTML) != lf(msg.HTML) {
		t.Errorf("HTML part:\n%q\nwant\n%q", r.HTML, msg.HTML)
	}
	if id := r.Header.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@autho\.example>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	if d, err := r.Header.Date(); err != nil || time.Since(d) > time.Hour || time.Until(d) > time.Hour {
		t.Errorf("Date = %q (%v)", r.Header.Get("Date"), err)
	}
	if r.TLS {
		t.Errorf("came over TLS from a server that offers none")
	}
}

func TestMailer_Send_noAuth(t *testing.T) {
	srv := mailtest.NewServer(t)
	m := mustMailer(t, "smtp://"+srv.Addr(), "notices@autho.example")
	if err := m.Send(t.Context(), mustCompose(t, nil)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r := srv.WaitFor(t, 1, wait)[0]; r.User != "" || srv.AuthAttempts() != 0 {
		t.Fatalf("user %q after %d AUTH, want none", r.User, srv.AuthAttempts())
	}
}

func TestMailer_Send_temporaryRefusal(t *testing.T) {
	srv := mailtest.NewServer(t)
	m := mustMailer(t, srv.URL(), "notices@autho.example")
	msg := mustCompose(t, nil)
	srv.FailNext(1)

	err := m.Send(t.Context(), msg)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("first Send: %v, want an *Error", err)
	}
	if e.Code != 451 || e.Permanent || IsPermanent(err) {
		t.Fatalf("first Send: code %d permanent %v (%v), want a temporary 451", e.Code, e.Permanent, err)
	}
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatalf("second Send: %v", err)
	}
	if got := srv.WaitFor(t, 1, wait); len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
}

func TestMailer_Send_permanentRefusal(t *testing.T) {
	srv := mailtest.NewServer(t)
	m := mustMailer(t, srv.URL(), "notices@autho.example")
	srv.RejectNext(1)
	err := m.Send(t.Context(), mustCompose(t, nil))
	var e *Error
	if !errors.As(err, &e) || e.Code != 554 || !IsPermanent(err) {
		t.Fatalf("Send: %v, want a permanent 554", err)
	}
	if strings.ContainsAny(err.Error(), "\r\n") {
		t.Fatalf("error is not one line: %q", err)
	}
}

func TestMailer_Send_wrongPassword(t *testing.T) {
	srv := mailtest.NewServer(t)
	wrong := "Wr0ng-" + mailtest.Password
	m := mustMailer(t, "smtp://"+mailtest.User+":"+wrong+"@"+srv.Addr(), "notices@autho.example")
	err := m.Send(t.Context(), mustCompose(t, nil))
	if err == nil {
		t.Fatal("Send with a wrong password succeeded")
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", err, err, err)} {
		if strings.Contains(s, wrong) {
			t.Fatalf("the error shows the password: %s", s)
		}
	}
	if !IsPermanent(err) {
		t.Errorf("a refused login (535) is not permanent: %v", err)
	}
	if srv.AuthAttempts() != 1 || len(srv.Messages()) != 0 {
		t.Errorf("%d AUTH, %d messages; want 1 and 0", srv.AuthAttempts(), len(srv.Messages()))
	}
}

func TestMailer_Send_STARTTLS(t *testing.T) {
	srv := mailtest.NewServerTLS(t, false)
	m := mustMailer(t, srv.URL(), "notices@autho.example")
	m.rootCAs = srv.RootCAs()
	if err := m.Send(t.Context(), mustCompose(t, nil)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r := srv.WaitFor(t, 1, wait)[0]; !r.TLS || r.User != mailtest.User {
		t.Fatalf("TLS %v user %q: the offered STARTTLS was not used", r.TLS, r.User)
	}
}

func TestMailer_Send_untrustedSTARTTLS(t *testing.T) {
	// The server offers STARTTLS with a certificate nobody trusts: the
	// send fails rather than going on in clear.
	srv := mailtest.NewServerTLS(t, false)
	m := mustMailer(t, srv.URL(), "notices@autho.example")
	err := m.Send(t.Context(), mustCompose(t, nil))
	if err == nil {
		t.Fatal("Send went on past an untrusted certificate")
	}
	if strings.Contains(err.Error(), mailtest.Password) {
		t.Fatalf("the error shows the password: %v", err)
	}
	if srv.AuthAttempts() != 0 || len(srv.Messages()) != 0 {
		t.Fatalf("%d AUTH, %d messages after a failed handshake", srv.AuthAttempts(), len(srv.Messages()))
	}
}

func TestMailer_Send_implicitTLS(t *testing.T) {
	srv := mailtest.NewServerTLS(t, true)
	m := mustMailer(t, "smtps://"+mailtest.User+":"+mailtest.Password+"@"+srv.Addr(), "notices@autho.example")
	m.rootCAs = srv.RootCAs()
	if err := m.Send(t.Context(), mustCompose(t, nil)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if r := srv.WaitFor(t, 1, wait)[0]; !r.TLS || r.User != mailtest.User {
		t.Fatalf("TLS %v user %q", r.TLS, r.User)
	}
}

func TestMailer_Send_smtpsToPlainServer(t *testing.T) {
	srv := mailtest.NewServer(t)
	m := mustMailer(t, "smtps://"+mailtest.User+":"+mailtest.Password+"@"+srv.Addr(), "notices@autho.example")
	if err := m.Send(t.Context(), mustCompose(t, nil)); err == nil {
		t.Fatal("smtps:// to a server without TLS succeeded")
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message went in clear")
	}
}

// TestMailer_Send_remoteHost reaches the loopback server under a name that is
// not loopback, as a real relay would be: credentials go only over STARTTLS.
func TestMailer_Send_remoteHost(t *testing.T) {
	remote := func(t *testing.T, srv *mailtest.Server) *Mailer {
		_, port, _ := net.SplitHostPort(srv.Addr())
		m := mustMailer(t, "smtp://"+mailtest.User+":"+mailtest.Password+"@mail.example.test:"+port, "notices@autho.example")
		m.rootCAs = srv.RootCAs()
		m.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Addr())
		}
		return m
	}
	t.Run("no STARTTLS", func(t *testing.T) {
		srv := mailtest.NewServer(t)
		err := remote(t, srv).Send(t.Context(), mustCompose(t, nil))
		if err == nil {
			t.Fatal("credentials went to a remote host in clear")
		}
		if !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("error does not say STARTTLS is missing: %v", err)
		}
		if srv.AuthAttempts() != 0 || len(srv.Messages()) != 0 {
			t.Fatalf("%d AUTH, %d messages in clear", srv.AuthAttempts(), len(srv.Messages()))
		}
	})
	t.Run("STARTTLS", func(t *testing.T) {
		srv := mailtest.NewServerTLS(t, false)
		if err := remote(t, srv).Send(t.Context(), mustCompose(t, nil)); err != nil {
			t.Fatalf("Send: %v", err)
		}
		if r := srv.WaitFor(t, 1, wait)[0]; !r.TLS || r.User != mailtest.User {
			t.Fatalf("TLS %v user %q", r.TLS, r.User)
		}
	})
}

func TestMailer_Send_context(t *testing.T) {
	// A server that accepts and never answers: only ctx ends the Send.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	conns.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	})
	t.Cleanup(func() { ln.Close(); conns.Wait() })

	m := mustMailer(t, "smtp://"+ln.Addr().String(), "notices@autho.example")
	m.timeout = time.Hour // so that only ctx can end it
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Send(ctx, mustCompose(t, nil)) }()
	select {
	case err = <-done:
	case <-time.After(wait):
		t.Fatalf("Send went on %v past the end of its context", wait)
	}
	if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
		t.Fatalf("Send: %v, want a temporary deadline error", err)
	}
}

func TestMailer_Send_concurrent(t *testing.T) {
	srv := mailtest.NewServer(t)
	m := mustMailer(t, srv.URL(), "notices@autho.example")
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Go(func() {
			errs <- m.Send(t.Context(), mustCompose(t, func(d *Data) { d.To = fmt.Sprintf("u%d@acme.example", i) }))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := srv.WaitFor(t, 10, wait); len(got) != 10 {
		t.Fatalf("%d messages, want 10", len(got))
	}
}

func TestMailer_Send_refusedMessage(t *testing.T) {
	srv := mailtest.NewServer(t)
	m := mustMailer(t, srv.URL(), "notices@autho.example")
	good := mustCompose(t, nil)
	for name, edit := range map[string]func(*Message){
		"bad recipient":  func(m *Message) { m.To = "not an address" },
		"two recipients": func(m *Message) { m.To = "a@acme.example, b@acme.example" },
		"no text":        func(m *Message) { m.Text = "" },
		"no HTML":        func(m *Message) { m.HTML = "" },
	} {
		msg := good
		edit(&msg)
		if err := m.Send(t.Context(), msg); !IsPermanent(err) {
			t.Errorf("%s: %v, want a permanent error", name, err)
		}
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a refused message was sent")
	}
}

func TestNew(t *testing.T) {
	cfg := Config{Host: "mail.example.com", Port: 587}
	for _, from := range []string{"notices@autho.example", "Autho <notices@autho.example>", `"Autho, Inc." <notices@autho.example>`} {
		if _, err := New(cfg, from); err != nil {
			t.Errorf("New(%q): %v", from, err)
		}
	}
	tests := []struct {
		name string
		cfg  Config
		from string
	}{
		{"no from", cfg, ""},
		{"bad from", cfg, "notices at autho"},
		{"two froms", cfg, "a@autho.example, b@autho.example"},
		{"no host", Config{Port: 587}, "notices@autho.example"},
		{"no port", Config{Host: "mail.example.com"}, "notices@autho.example"},
		{"password without user", Config{Host: "mail.example.com", Port: 587, Password: password}, "notices@autho.example"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg, tt.from)
		if err == nil {
			t.Errorf("%s: New accepted it", tt.name)
		} else if strings.Contains(err.Error(), password) {
			t.Errorf("%s: the error shows the password: %v", tt.name, err)
		}
	}
}
