package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// sendTimeout bounds one Send: dial, TLS, AUTH and DATA together. A queue
// worker must not hang on a server that stopped answering.
const sendTimeout = 30 * time.Second

// Message is one mail to one person: a text part and an HTML part of the same
// content, sent as multipart/alternative.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer hands Messages to one SMTP server. Each Send is its own connection,
// so a Mailer is safe for concurrent use and holds no connection between sends.
type Mailer struct {
	cfg     Config
	from    *netmail.Address
	timeout time.Duration

	// Tests reach their servers through these; New leaves them nil, for
	// the system's roots and a plain dialer.
	rootCAs *x509.CertPool
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New checks the settings and the From address (an address or
// "Name <address>").
func New(cfg Config, from string) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: no SMTP host")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, errors.New("mail: the SMTP port is not from 1 to 65535")
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("mail: an SMTP password without a user")
	}
	if strings.TrimSpace(from) == "" {
		return nil, errors.New("mail: no From address (AUTHO_SMTP_FROM)")
	}
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: the From address %q is not a mail address", from)
	}
	// A broken template fails the server's start, not its first mail.
	if _, err := parsed(); err != nil {
		return nil, err
	}
	return &Mailer{cfg: cfg, from: a, timeout: sendTimeout}, nil
}

// Error is a failed Send. Its text is one line and never holds the password.
type Error struct {
	// Code is the SMTP reply code that refused the mail, or 0 when no
	// reply did (the network, a timeout, TLS).
	Code int
	// Permanent is a refusal that will repeat: a 5xx reply, or a message
	// that cannot be sent as it is. A queue may mark it failed at once.
	Permanent bool

	msg   string
	cause error // only a context error, so errors.Is sees cancellation
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.cause }

// IsPermanent reports whether err is a Send error that retrying will not
// cure. Anything else (a 4xx reply, a network failure, a timeout) is worth
// retrying later.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// Send delivers m, bounded by ctx and by 30 s.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	gm, err := m.build(msg)
	if err != nil {
		return &Error{Permanent: true, msg: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	client, err := gomail.NewClient(m.cfg.Host, m.options(ctx)...)
	if err != nil {
		return m.fail(ctx, err)
	}
	err = client.DialAndSendWithContext(ctx, gm)
	if err != nil && gm.IsDelivered() {
		// The server took the DATA; only RSET or QUIT after it failed.
		// Reporting failure would make the queue send the mail twice.
		return nil
	}
	if err != nil {
		return m.fail(ctx, err)
	}
	return nil
}

func (m *Mailer) build(msg Message) (*gomail.Msg, error) {
	to, err := netmail.ParseAddress(msg.To)
	if err != nil {
		return nil, errors.New("mail: the recipient is not a mail address")
	}
	if msg.Text == "" || msg.HTML == "" {
		return nil, errors.New("mail: a message needs a text and an HTML part")
	}
	gm := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := gm.FromFormat(m.from.Name, m.from.Address); err != nil {
		return nil, errors.New("mail: the From address is refused")
	}
	if err := gm.AddToFormat(to.Name, to.Address); err != nil {
		return nil, errors.New("mail: the recipient is refused")
	}
	gm.Subject(oneLine(msg.Subject))
	gm.SetDate()
	id, err := messageID(m.from.Address)
	if err != nil {
		return nil, err
	}
	gm.SetMessageIDWithValue(id)
	gm.SetBodyString(gomail.TypeTextPlain, msg.Text)
	gm.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	return gm, nil
}

// messageID is random@the From domain: go-mail's own uses the host name,
// which says more about our machines than a mail needs to.
func messageID(from string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("mail: no randomness for a Message-ID")
	}
	domain := from[strings.LastIndexByte(from, '@')+1:]
	return hex.EncodeToString(b) + "@" + domain, nil
}

func (m *Mailer) options(ctx context.Context) []gomail.Option {
	tlsConfig := &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: m.rootCAs}
	opts := []gomail.Option{
		gomail.WithPort(m.cfg.Port),
		gomail.WithTimeout(m.timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(m.dialer(ctx, tlsConfig)),
	}
	loopback := isLoopback(m.cfg.Host)
	switch {
	case m.cfg.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case m.cfg.Username != "" && !loopback:
		// Credentials never cross the network in clear: without
		// STARTTLS the send fails before AUTH.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		// STARTTLS when offered, as the spec says; without credentials
		// there is nothing secret to protect but the mail itself.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if m.cfg.Username != "" {
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if loopback {
			// A loopback connection cannot be overheard, so PLAIN and
			// LOGIN may go without TLS there, and only there. This is
			// what lets tests authenticate against a local server.
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(mechs...),
			gomail.WithUsername(m.cfg.Username),
			gomail.WithPassword(m.cfg.Password))
	}
	return opts
}

// dialer connects, adds implicit TLS for smtps:// (go-mail skips its own when
// given a dial function), and closes the connection when ctx ends: go-mail
// watches the context only while dialing.
func (m *Mailer) dialer(ctx context.Context, tlsConfig *tls.Config) gomail.DialContextFunc {
	return func(dctx context.Context, network, addr string) (net.Conn, error) {
		dial := (&net.Dialer{}).DialContext
		if m.dial != nil {
			dial = m.dial
		}
		conn, err := dial(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		if m.cfg.ImplicitTLS {
			tc := tls.Client(conn, tlsConfig)
			if err := tc.HandshakeContext(dctx); err != nil {
				conn.Close()
				return nil, err
			}
			conn = tc
		}
		context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
}

// fail turns go-mail's error into one line without the password, with the
// SMTP code that decides whether retrying can help.
func (m *Mailer) fail(ctx context.Context, err error) error {
	e := &Error{Code: replyCode(err)}
	e.Permanent = e.Code >= 500 && e.Code < 600
	text := err.Error()
	if cerr := ctx.Err(); cerr != nil && e.Code == 0 {
		e.cause = cerr
		text = cerr.Error()
	}
	e.msg = m.redact(fmt.Sprintf("mail: sending through %s: %s", m.cfg.addr(), oneLine(text)))
	return e
}

// replyCode finds the server's reply code in go-mail's error tree.
func replyCode(err error) int {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return 0
}

// redact is a last guard: no code path here puts the password in an error,
// but a server may echo what it was sent.
func (m *Mailer) redact(s string) string {
	if p := m.cfg.Password; p != "" {
		s = strings.ReplaceAll(s, p, "redacted")
		s = strings.ReplaceAll(s, url.QueryEscape(p), "redacted")
	}
	return s
}

// oneLine folds CR, LF and tabs into spaces: a subject must not start a new
// header, and an error goes on one log line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
