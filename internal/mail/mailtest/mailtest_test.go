package mailtest

import (
	"net/smtp"
	"strings"
	"testing"
	"time"
)

// raw is a mail another client might send: the alternative nested in a
// mixed multipart, the text part in base64, the HTML in quoted-printable.
const raw = "From: Sender <sender@example.test>\r\n" +
	"To: rcpt@example.test\r\n" +
	"Subject: =?UTF-8?B?Q2Fmw6kgbm90aWNl?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n" +
	"\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"SGVsbG8sIENhZsOpIQpTZWNvbmQgbGluZSB0aGF0IGlzIGxvbmcgZW5vdWdoIHRvIGJlIHdy\r\n" +
	"YXBwZWQu\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=UTF-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"<p class=3D\"x\">Hello, Caf=C3=A9!</p>=\r\n" +
	"<p>soft break</p>\r\n" +
	"--inner--\r\n" +
	"--outer--\r\n"

func TestServer_parsesParts(t *testing.T) {
	s := NewServer(t)
	auth := smtp.PlainAuth("", User, Password, "127.0.0.1")
	if err := smtp.SendMail(s.Addr(), auth, "sender@example.test", []string{"rcpt@example.test", "cc@example.test"}, []byte(raw)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	r := s.WaitFor(t, 1, 10*time.Second)[0]
	if r.From != "sender@example.test" || strings.Join(r.To, ",") != "rcpt@example.test,cc@example.test" || r.User != User {
		t.Errorf("from %q to %q user %q", r.From, r.To, r.User)
	}
	if r.Subject != "Café notice" {
		t.Errorf("Subject = %q", r.Subject)
	}
	if want := "Hello, Café!\nSecond line that is long enough to be wrapped."; r.Text != want {
		t.Errorf("Text = %q, want %q", r.Text, want)
	}
	if want := "<p class=\"x\">Hello, Café!</p><p>soft break</p>"; r.HTML != want {
		t.Errorf("HTML = %q, want %q", r.HTML, want)
	}
	if string(r.Raw) != raw {
		t.Errorf("Raw differs from what was sent")
	}
}

func TestServer_refusals(t *testing.T) {
	s := NewServer(t)
	send := func() error {
		return smtp.SendMail(s.Addr(), nil, "sender@example.test", []string{"rcpt@example.test"}, []byte("Subject: x\r\n\r\nbody\r\n"))
	}
	s.FailNext(2)
	for i := range 2 {
		if err := send(); err == nil || !strings.HasPrefix(err.Error(), "451") {
			t.Fatalf("send %d: %v, want 451", i, err)
		}
	}
	s.RejectNext(1)
	if err := send(); err == nil || !strings.HasPrefix(err.Error(), "554") {
		t.Fatalf("send: %v, want 554", err)
	}
	if err := send(); err != nil {
		t.Fatalf("send after the refusals: %v", err)
	}
	if got := s.WaitFor(t, 1, 10*time.Second); len(got) != 1 || got[0].User != "" || got[0].Text != "body\r\n" {
		t.Fatalf("got %+v, want the one accepted message, without AUTH", got)
	}
}

func TestServer_wrongPassword(t *testing.T) {
	s := NewServer(t)
	auth := smtp.PlainAuth("", User, "not-"+Password, "127.0.0.1")
	err := smtp.SendMail(s.Addr(), auth, "sender@example.test", []string{"rcpt@example.test"}, []byte("Subject: x\r\n\r\nbody\r\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "535") {
		t.Fatalf("SendMail: %v, want 535", err)
	}
	if s.AuthAttempts() != 1 || len(s.Messages()) != 0 {
		t.Fatalf("%d AUTH, %d messages", s.AuthAttempts(), len(s.Messages()))
	}
}
