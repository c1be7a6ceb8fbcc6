package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// DefaultTimeout is how long a receiver has to answer: the specification of
// autho counts a delivery without a 2xx within 10 s as failed.
const DefaultTimeout = 10 * time.Second

// maxAnswer is how much of an answer is read. Nothing in it matters beyond
// the status; reading a little lets the connection be reused, and the cap
// stops a receiver from making autho read forever.
const maxAnswer = 64 << 10

// UserAgent is sent with every delivery, so receivers can tell autho's
// requests in their logs.
const UserAgent = "autho-webhooks"

// Result is the outcome of one attempt. Status is the answer's code, 0 when
// none came. Err is nil exactly when the answer was a 2xx; otherwise it is one
// line for the delivery's record, without the secret, the URL or the answer's
// body.
type Result struct {
	Status int
	Err    error
}

// Sender posts signed deliveries. Its zero value is ready: private addresses
// refused, DefaultTimeout. Set the fields before the first Send; a Sender is
// then safe for concurrent use and must not be copied. It keeps one pool of
// connections, so make one per process, not one per delivery.
type Sender struct {
	// AllowPrivate lets deliveries reach loopback, private and link-local
	// addresses (AUTHO_WEBHOOK_ALLOW_PRIVATE; tests on 127.0.0.1).
	AllowPrivate bool
	// Timeout bounds one attempt from dial to the end of reading the answer;
	// zero means DefaultTimeout.
	Timeout time.Duration

	once   sync.Once
	client *http.Client
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Sender) init() {
	s.once.Do(func() {
		dialer := &net.Dialer{Timeout: s.timeout(), KeepAlive: 30 * time.Second}
		if !s.AllowPrivate {
			// The check happens on the address actually being connected to,
			// after DNS, so a name that resolved to a public address in
			// CheckURL and to 127.0.0.1 now (DNS rebinding) is still refused.
			dialer.Control = refusePrivateDial
		}
		transport := &http.Transport{
			// No proxy from the environment: the proxy would make the
			// connection, and the address check would see only the proxy.
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			MaxIdleConns:           100,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        90 * time.Second,
			TLSHandshakeTimeout:    s.timeout(),
			ExpectContinueTimeout:  time.Second,
			MaxResponseHeaderBytes: maxAnswer,
			// The answer is discarded; nothing to gain from gzip.
			DisableCompression: true,
		}
		s.client = &http.Client{
			Transport: transport,
			Timeout:   s.timeout(),
			// The specification counts a 3xx as a failure: following it
			// would also let a public URL point autho at a private one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
}

// refusePrivateDial is the dialer's Control hook: it runs for every
// connection attempt with the resolved address, before connecting.
func refusePrivateDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return refuse(fmt.Sprintf("the address %s cannot be checked", address))
	}
	if what := classify(ap.Addr()); what != "" {
		return refuse(fmt.Sprintf("the address %s is %s", ap.Addr(), what))
	}
	return nil
}

// Send makes one attempt: a POST of body to rawURL, signed with secret for
// message id at ts. It never retries and never follows a redirect.
func (s *Sender) Send(ctx context.Context, rawURL, secret, id string, ts time.Time, body []byte) Result {
	s.init()
	signature, err := Sign(secret, id, ts, body)
	if err != nil {
		return Result{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: errors.New("the endpoint's URL cannot be used")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", signature)

	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Err: s.describe(ctx, err)}
	}
	// An error while reading the rest changes nothing: the status is the
	// answer.
	_, _ = io.CopyN(io.Discard, resp.Body, maxAnswer)
	resp.Body.Close()

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return Result{Status: resp.StatusCode}
	case resp.StatusCode >= 300 && resp.StatusCode <= 399:
		return Result{Status: resp.StatusCode, Err: fmt.Errorf("answered %s; redirects are not followed, the endpoint's URL must be the final one", statusText(resp.StatusCode))}
	default:
		return Result{Status: resp.StatusCode, Err: fmt.Errorf("answered %s", statusText(resp.StatusCode))}
	}
}

func statusText(code int) string {
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code)
}

// sendError keeps the cause for errors.Is and errors.As while saying it in
// one line without the URL.
type sendError struct {
	msg   string
	cause error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.cause }

// describe turns a client error into a line for the delivery's record. The
// client's url.Error quotes the URL, whose path or query may hold a
// receiver's token, so it is taken apart.
func (s *Sender) describe(ctx context.Context, err error) error {
	cause := err
	if ue, ok := errors.AsType[*url.Error](err); ok {
		cause = ue.Err
	}
	switch {
	case ctx.Err() != nil:
		return &sendError{"the attempt was canceled before an answer came", ctx.Err()}
	case isTimeout(err):
		return &sendError{fmt.Sprintf("no answer within %s", s.timeout()), cause}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return &sendError{"the connection was closed before an answer came", cause}
	}
	return &sendError{cause.Error(), cause}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}
