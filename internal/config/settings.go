package config

import (
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/autho/autho/internal/mail"
	"github.com/autho/autho/internal/signer"
)

// setting is one configuration value: an environment variable, the flag
// that overrides it (none for a secret), its default, and how its text
// becomes a field of Config.
type setting struct {
	env, flag, def, usage string
	secret                bool
	parse                 func(c *Config, v string) error
}

// all is the table of settings; the README's configuration table mirrors
// it. Its defaults are the only place a default is written.
var all = []*setting{
	{env: "AUTHO_DATABASE", flag: "db", def: "autho.db", usage: "SQLite file path or postgres:// URL",
		parse: func(c *Config, v string) error { c.Database = v; return nil }},
	// The pool settings apply to PostgreSQL; SQLite is one local file with
	// a connection layout of its own.
	{env: "AUTHO_DB_MAX_CONNS", flag: "db-max-conns", usage: "PostgreSQL: most connections this node opens (default the URL's pool_max_conns, else 10)",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			// The ceiling is far above any sensible pool; it only keeps
			// the value inside the pool's int32.
			n, err := wholeNumber(v, 1, 10000)
			c.DBMaxConns = int32(n)
			return err
		}},
	{env: "AUTHO_DB_ACQUIRE_TIMEOUT", flag: "db-acquire-timeout", def: "2s", usage: "PostgreSQL: longest wait for a connection before a request is answered 503",
		parse: duration(func(c *Config) *time.Duration { return &c.DBAcquireTimeout })},
	{env: "AUTHO_ADDR", flag: "addr", def: "127.0.0.1:8080", usage: "listen address",
		parse: address(func(c *Config) *string { return &c.Addr })},
	{env: "AUTHO_ISSUER", flag: "issuer", usage: "JWT iss and base of published URLs (default http:// + the listen address)",
		parse: httpURL(func(c *Config) *string { return &c.Issuer })},
	{env: "AUTHO_PUBLIC_URL", flag: "public-url", usage: "where people reach the portal (default the issuer)",
		parse: httpURL(func(c *Config) *string { return &c.PublicURL })},
	{env: "AUTHO_AUDIENCE", flag: "audience", def: "autho", usage: "JWT aud",
		parse: func(c *Config, v string) error { c.Audience = v; return nil }},
	{env: "AUTHO_JWT_ALG", flag: "jwt-alg", def: signer.ES256, usage: "ES256, EdDSA, RS256 or HS256",
		parse: func(c *Config, v string) error {
			if signer.CheckAlgorithm(v) != nil {
				return fmt.Errorf("%q is not one of ES256, EdDSA, RS256, HS256", v)
			}
			c.Algorithm = v
			return nil
		}},
	{env: "AUTHO_TOKEN_TTL", flag: "token-ttl", def: "24h", usage: "lifetime of a login JWT",
		parse: duration(func(c *Config) *time.Duration { return &c.TokenTTL })},
	{env: "AUTHO_MAX_TOKEN_TTL", flag: "max-token-ttl", def: "8760h", usage: "longest expiry a portal user may give an API token",
		parse: duration(func(c *Config) *time.Duration { return &c.MaxTokenTTL })},
	{env: "AUTHO_MASTER_KEY", secret: true, usage: "base64 32-byte key encrypting private keys at rest (default: a key file beside a SQLite database)",
		parse: func(c *Config, v string) error { c.MasterKey = v; return nil }},
	{env: "AUTHO_TIMEZONE", flag: "timezone", def: "UTC", usage: "time zone of expires_on and of dates given to commands",
		parse: func(c *Config, v string) error {
			loc, err := time.LoadLocation(v)
			if err != nil || v == "" {
				return fmt.Errorf("%q is not a time zone name (like UTC or Asia/Kathmandu)", v)
			}
			c.Location = loc
			return nil
		}},
	{env: "AUTHO_KEY_ROTATION", flag: "key-rotation", def: "720h", usage: "how often a new signing key is made",
		parse: duration(func(c *Config) *time.Duration { return &c.KeyRotation })},
	{env: "AUTHO_LOGIN_FAILURES_PER_MINUTE", flag: "login-failures-per-minute", def: "30", usage: "refused logins allowed per client IP and per partner token; 0 disables",
		parse: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%q is not a whole number ≥ 0", v)
			}
			c.FailuresPerMinute = n
			return nil
		}},
	{env: "AUTHO_TRUSTED_PROXIES", flag: "trusted-proxies", usage: "comma-separated CIDRs or IP addresses whose X-Forwarded-For is believed",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			var bad []string
			for _, part := range strings.Split(v, ",") {
				p, err := parseProxy(strings.TrimSpace(part))
				if err != nil {
					bad = append(bad, fmt.Sprintf("%q is not a CIDR or an IP address (like 10.0.0.0/8 or 10.0.0.1)", strings.TrimSpace(part)))
					continue
				}
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
			if len(bad) > 0 {
				return errors.New(strings.Join(bad, ", "))
			}
			return nil
		}},
	{env: "AUTHO_INTROSPECTION_SECRET", secret: true, usage: "bearer secret for the introspection endpoint; unset: 404",
		parse: func(c *Config, v string) error { c.IntrospectionSecret = v; return nil }},
	{env: "AUTHO_METRICS_ADDR", flag: "metrics-addr", usage: "separate listen address for /metrics (default: the main listener when it is loopback, else none)",
		parse: address(func(c *Config) *string { return &c.MetricsAddr })},
	{env: "AUTHO_LOG_LEVEL", flag: "log-level", def: "info", usage: "debug, info, warn or error",
		parse: func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "debug", "info", "warn", "error":
				return c.LogLevel.UnmarshalText([]byte(v))
			}
			return fmt.Errorf("%q is not one of debug, info, warn, error", v)
		}},
	{env: "AUTHO_TLS_CERT", flag: "tls-cert", usage: "PEM certificate (chain) file: serve HTTPS, reloaded on SIGHUP",
		parse: func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{env: "AUTHO_TLS_KEY", flag: "tls-key", usage: "PEM private key file of AUTHO_TLS_CERT",
		parse: func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{env: "AUTHO_MAX_ACTIVE_TOKENS", flag: "max-active-tokens", def: "50", usage: "most active API tokens one portal user may hold",
		parse: func(c *Config, v string) (err error) { c.MaxActiveTokens, err = wholeNumber(v, 1, 100000); return err }},
	{env: "AUTHO_PORTAL_CONTACT", flag: "portal-contact", usage: "whom partners should talk to about their account, shown in the portal (an email address or a short text)",
		parse: func(c *Config, v string) error { c.PortalContact = v; return nil }},
	{env: "AUTHO_SMTP_URL", secret: true, usage: "SMTP server for notification mail, smtp://user:pass@host:port (STARTTLS when offered) or smtps://; unset: no mail",
		parse: func(c *Config, v string) error {
			if v == "" {
				return nil
			}
			mc, err := mail.ParseURL(v)
			if err != nil {
				return err
			}
			c.SMTP = &mc
			return nil
		}},
	{env: "AUTHO_PORTAL_REQUIRE_MFA", flag: "portal-require-mfa", def: "false", usage: "require a second factor of every portal user: one without it can only enroll one after signing in",
		parse: func(c *Config, v string) (err error) { c.PortalRequireMFA, err = strconv.ParseBool(v); return err }},
	{env: "AUTHO_SMTP_FROM", flag: "smtp-from", usage: "the From address of notification mail",
		parse: func(c *Config, v string) error {
			if v != "" {
				if _, err := netmail.ParseAddress(v); err != nil {
					return fmt.Errorf("%q is not an email address (like autho@platform.example)", v)
				}
			}
			c.SMTPFrom = v
			return nil
		}},
	{env: "AUTHO_WEBHOOK_ALLOW_PRIVATE", flag: "webhook-allow-private", def: "false", usage: "let webhook endpoints be on loopback, link-local and private addresses (for tests and closed networks)",
		parse: func(c *Config, v string) (err error) { c.WebhookAllowPrivate, err = strconv.ParseBool(v); return err }},
	{env: "AUTHO_SECRET_SCANNING_KEYS_URL", flag: "secret-scanning-keys-url", def: DefaultSecretScanningKeys, usage: "where the public keys that sign GitHub's leaked-token reports are; off: no secret-scanning endpoint",
		parse: func(c *Config, v string) error {
			if u, err := url.Parse(v); v != "off" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
				return fmt.Errorf("%q is neither an http(s) URL nor off", v)
			}
			c.SecretScanningKeys = v
			return nil
		}},
	{env: "AUTHO_DELIVERY_TIME_SCALE", flag: "delivery-time-scale", def: "1", usage: "multiplies the webhook and mail retry waits (tests shrink hours to moments; leave it at 1)",
		parse: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 || f > 1 {
				return fmt.Errorf("%q is not a number in (0, 1]", v)
			}
			c.DeliveryTimeScale = f
			return nil
		}},
}

// DefaultSecretScanningKeys is GitHub's document of the keys that sign
// its secret-scanning partner alerts.
const DefaultSecretScanningKeys = "https://api.github.com/meta/public_keys/secret_scanning"

// rule is a condition on a parsed Config that makes the setting env wrong.
type rule struct {
	env    string
	broken func(*Config) bool
	msg    string
}

// rules are checked after parsing, for the settings a command loaded.
var rules = []rule{
	{"AUTHO_SMTP_FROM", func(c *Config) bool { return c.SMTP != nil && c.SMTPFrom == "" }, "must be set when AUTHO_SMTP_URL is: mail needs a From address"},
	{"AUTHO_DATABASE", func(c *Config) bool { return c.Database == "" }, "must not be empty"},
	{"AUTHO_DB_ACQUIRE_TIMEOUT", func(c *Config) bool { return c.DBAcquireTimeout < 100*time.Millisecond }, "must be at least 100ms"},
	{"AUTHO_AUDIENCE", func(c *Config) bool { return c.Audience == "" }, "must not be empty"},
	{"AUTHO_TOKEN_TTL", func(c *Config) bool { return c.TokenTTL < time.Minute }, "must be at least 1m0s"},
	{"AUTHO_MAX_TOKEN_TTL", func(c *Config) bool { return c.MaxTokenTTL < time.Hour }, "must be at least 1h0m0s"},
	{"AUTHO_KEY_ROTATION", func(c *Config) bool { return c.KeyRotation < time.Hour }, "must be at least 1h0m0s"},
	{"AUTHO_INTROSPECTION_SECRET", func(c *Config) bool { return c.IntrospectionSecret != "" && len(c.IntrospectionSecret) < 32 },
		"must be at least 32 characters"},
	{"AUTHO_PORTAL_CONTACT", func(c *Config) bool {
		return len(c.PortalContact) > 200 || strings.ContainsFunc(c.PortalContact, unicode.IsControl)
	}, "must be one line of at most 200 characters"},
	{"AUTHO_TLS_CERT", func(c *Config) bool { return (c.TLSCert == "") != (c.TLSKey == "") },
		"AUTHO_TLS_CERT and AUTHO_TLS_KEY must be given together"},
	{"AUTHO_ADDR", func(c *Config) bool { return c.Issuer == "" && Unspecified(c.Addr) },
		"listens on every interface, so no issuer can be derived from it (verifiers would refuse http://0.0.0.0:…): " +
			"set AUTHO_ISSUER=https://<the name clients reach autho by> (or --issuer)"},
}

func duration(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (like 24h or 90d)", v)
		}
		*field(c) = d
		return nil
	}
}

func address(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		if v != "" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("%q is not host:port", v)
			}
		}
		*field(c) = v
		return nil
	}
}

func httpURL(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		v = strings.TrimRight(v, "/")
		if v != "" {
			p, err := url.Parse(v)
			if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				return fmt.Errorf("%q is not an http(s) URL", v)
			}
		}
		*field(c) = v
		return nil
	}
}

func wholeNumber(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a whole number from %d to %d", v, lo, hi)
	}
	return n, nil
}

// parseProxy reads one trusted proxy: a CIDR, or a bare address meaning
// that host alone. A bare IPv4-mapped IPv6 address is taken as the IPv4
// one, since the server unmaps the peers it compares; a zone is refused,
// since peers are compared without theirs.
func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("zone")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
