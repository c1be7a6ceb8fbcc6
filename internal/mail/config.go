// Package mail sends autho's notification mail: the SMTP settings read from
// AUTHO_SMTP_URL, a Mailer that hands one message to the server, and the
// embedded templates that say to a partner's people what happened and what to
// do about it.
//
// The SMTP password is a secret: no error, String or log line of this package
// contains it.
package mail

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Default ports: submission with STARTTLS (RFC 6409) and submission over
// implicit TLS (RFC 8314).
const (
	DefaultPort    = 587
	DefaultTLSPort = 465
)

// Config is where and how to reach the SMTP server. Its String never shows the
// password.
type Config struct {
	Host string
	Port int
	// ImplicitTLS is smtps://: TLS from the first byte. Otherwise the
	// connection upgrades with STARTTLS when the server offers it.
	ImplicitTLS bool
	Username    string
	Password    string
}

// ParseURL reads smtp://[user[:pass]@]host[:port] or smtps://… . The user and
// password are percent-decoded. Errors never quote raw, which holds the
// password.
func ParseURL(raw string) (Config, error) {
	if strings.TrimSpace(raw) == "" {
		return Config{}, errors.New("mail: the SMTP URL is empty")
	}
	// url.Parse's error quotes the whole URL, password included, so it is
	// replaced rather than wrapped.
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("mail: the SMTP URL does not parse: check the port, and percent-encode special characters of the user and password")
	}
	var c Config
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		c.Port = DefaultPort
	case "smtps":
		c.Port, c.ImplicitTLS = DefaultTLSPort, true
	case "":
		return Config{}, errors.New("mail: the SMTP URL has no scheme: want smtp:// or smtps://")
	default:
		// Not quoted: in a mistyped URL the scheme may be the password.
		return Config{}, errors.New("mail: the SMTP URL's scheme is not smtp or smtps")
	}
	if u.Opaque != "" {
		return Config{}, errors.New("mail: the SMTP URL must be smtp://host[:port] (missing //)")
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return Config{}, errors.New("mail: the SMTP URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, errors.New("mail: the SMTP URL's port is not a number from 1 to 65535")
		}
		c.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return Config{}, errors.New("mail: the SMTP URL's port is empty")
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, errors.New("mail: the SMTP URL must not have a path")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return Config{}, errors.New("mail: the SMTP URL must not have a query")
	}
	if u.Fragment != "" {
		return Config{}, errors.New("mail: the SMTP URL must not have a fragment")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		if c.Username == "" && c.Password != "" {
			return Config{}, errors.New("mail: the SMTP URL has a password but no user")
		}
	}
	return c, nil
}

// String is the URL with the password replaced, for logs and errors.
func (c Config) String() string {
	scheme := "smtp"
	if c.ImplicitTLS {
		scheme = "smtps"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	switch {
	case c.Password != "":
		u.User = url.UserPassword(c.Username, "redacted")
	case c.Username != "":
		u.User = url.User(c.Username)
	}
	return u.String()
}

// GoString keeps %#v from printing the password field.
func (c Config) GoString() string { return "mail.Config(" + c.String() + ")" }

// addr is host:port for messages.
func (c Config) addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// isLoopback reports whether host is this machine: localhost, 127.0.0.0/8 or
// ::1. Only there may credentials cross an unencrypted connection, because
// nobody else can listen on it; it is what lets tests authenticate against a
// plain local server.
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
