// Package mailtest runs a real SMTP server on 127.0.0.1 for tests: it takes
// mail with or without AUTH PLAIN, keeps every message parsed into its parts,
// and can refuse the next messages to test retries.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server accepts. Any other pair is refused with 535.
const (
	User     = "mailtest"
	Password = "mailtest-Secret-9"
)

// Received is one accepted message.
type Received struct {
	From string   // MAIL FROM
	To   []string // RCPT TO, in order
	// User is who authenticated, "" without AUTH.
	User string
	// TLS is whether the message came over TLS (STARTTLS or implicit).
	TLS     bool
	Header  mail.Header
	Subject string // decoded
	Text    string // the text/plain part, decoded
	HTML    string // the text/html part, decoded
	Raw     []byte
}

// Server is the running SMTP server.
type Server struct {
	addr string

	mu       sync.Mutex
	msgs     []Received
	arrived  chan struct{} // closed and replaced at each message
	failNext int
	rejNext  int
	auths    int

	roots *x509.CertPool
}

// NewServer starts a server on a random port of 127.0.0.1, closed when the
// test ends. It offers no TLS.
func NewServer(t testing.TB) *Server {
	t.Helper()
	return start(t, nil, false)
}

// NewServerTLS is NewServer with TLS, by STARTTLS or, when implicit, from the
// first byte (smtps://). Its certificate is made for the test and names
// 127.0.0.1, ::1, localhost and mail.example.test; RootCAs trusts it.
func NewServerTLS(t testing.TB, implicit bool) *Server {
	t.Helper()
	cfg, pool := selfSigned(t)
	s := start(t, cfg, implicit)
	s.roots = pool
	return s
}

func start(t testing.TB, tlsConfig *tls.Config, implicit bool) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s := &Server{addr: ln.Addr().String(), arrived: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(conn *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: conn}, nil
	}))
	srv.Domain = "localhost"
	// Loopback only, so AUTH PLAIN without TLS overhears nothing.
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.ErrorLog = discard{}
	if implicit {
		ln = tls.NewListener(ln, tlsConfig)
	} else {
		srv.TLSConfig = tlsConfig // nil offers no STARTTLS
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		// srv.Close misses a listener that Serve has not yet taken,
		// when a test ends before its first connection.
		ln.Close()
		<-done
	})
	return s
}

// selfSigned makes a certificate valid for two hours around now.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("mailtest: key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost", "mail.example.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("mailtest: certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return cfg, pool
}

// RootCAs trusts the certificate of a NewServerTLS server; nil otherwise.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// AuthAttempts counts AUTH commands, refused ones included: a test can tell
// that no credentials were sent.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// URL is smtp://User:Password@127.0.0.1:port, what AUTHO_SMTP_URL would hold.
func (s *Server) URL() string {
	return "smtp://" + User + ":" + Password + "@" + s.addr
}

// Addr is 127.0.0.1:port.
func (s *Server) Addr() string { return s.addr }

// Messages is every message accepted so far, in order.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// WaitFor waits until at least n messages have arrived and returns them all;
// after timeout it fails the test with what did arrive.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.msgs), s.arrived
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("mailtest: %d messages after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

// FailNext makes the next n messages get a temporary 451 at the end of DATA,
// as a server out of resources would answer.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = n
}

// RejectNext makes the next n messages get a permanent 554 at the end of DATA.
func (s *Server) RejectNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejNext = n
}

// refusal takes one queued refusal, if any.
func (s *Server) refusal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.failNext > 0:
		s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailtest: try again later"}
	case s.rejNext > 0:
		s.rejNext--
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: message refused"}
	}
	return nil
}

func (s *Server) add(r Received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// session is one SMTP connection's transaction state.
type session struct {
	srv  *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (*session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (c *session) Auth(mech string) (sasl.Server, error) {
	c.srv.mu.Lock()
	c.srv.auths++
	c.srv.mu.Unlock()
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != User || password != Password {
			return smtp.ErrAuthFailed
		}
		c.user = username
		return nil
	}), nil
}

func (c *session) Mail(from string, _ *smtp.MailOptions) error {
	c.from = from
	return nil
}

func (c *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	c.to = append(c.to, to)
	return nil
}

func (c *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := c.srv.refusal(); err != nil {
		return err
	}
	got, err := parse(raw)
	if err != nil {
		// A message the helper cannot read is a bug of the sender: say
		// so permanently, and the test sees the reason.
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest: " + err.Error()}
	}
	got.From, got.To, got.User = c.from, append([]string(nil), c.to...), c.user
	_, got.TLS = c.conn.TLSConnectionState()
	c.srv.add(got)
	return nil
}

func (c *session) Reset() { c.from, c.to = "", nil }

func (*session) Logout() error { return nil }

// parse reads the headers and the text and HTML parts, whatever the nesting
// of multiparts and the transfer encodings.
func parse(raw []byte) (Received, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Received{}, err
	}
	r := Received{Header: m.Header, Raw: raw}
	if r.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		return Received{}, fmt.Errorf("subject: %w", err)
	}
	err = walk(m.Header, m.Body, &r)
	return r, err
}

// header is what walk needs of mail.Header and textproto.MIMEHeader.
type header interface{ Get(string) string }

func walk(h header, body io.Reader, r *Received) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mediatype, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mediatype, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediatype, err)
			}
			// NextPart removes a quoted-printable Content-Transfer-Encoding
			// after decoding it, so decode sees only what is left.
			if err := walk(p.Header, p, r); err != nil {
				return err
			}
		}
	}
	b, err := io.ReadAll(decode(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("%s body: %w", mediatype, err)
	}
	switch mediatype {
	case "text/plain":
		r.Text = string(b)
	case "text/html":
		r.HTML = string(b)
	}
	return nil
}

func decode(cte string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body) // it skips the line breaks
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	}
	return body
}

// discard keeps the server's connection errors out of test output.
type discard struct{}

func (discard) Printf(string, ...any) {}
func (discard) Println(...any)        {}
