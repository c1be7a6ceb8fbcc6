package main

import (
	"errors"
	"fmt"
	"github.com/autho/autho/internal/config"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/autho/autho/internal/signer"
)

// setting is one configuration value of serve: a flag and an environment
// variable, the flag winning. Values are read as strings first and parsed
// in one place, so every bad value is reported with the setting's name.
type setting struct {
	env, flag, def, usage string
	value                 string
}

// serveSettings is the table of serve's settings (the README's
// configuration table mirrors it; AUTHO_DATABASE is the global --db).
func serveSettings() []*setting {
	return []*setting{
		// The pool settings apply to PostgreSQL; SQLite is one local file
		// with a connection layout of its own.
		{env: "AUTHO_DB_MAX_CONNS", flag: "db-max-conns", usage: "PostgreSQL: most connections this node opens (default the URL's pool_max_conns, else 10)"},
		{env: "AUTHO_DB_ACQUIRE_TIMEOUT", flag: "db-acquire-timeout", def: "2s", usage: "PostgreSQL: longest wait for a connection before a request is answered 503"},
		{env: "AUTHO_ADDR", flag: "addr", def: "127.0.0.1:8080", usage: "listen address"},
		{env: "AUTHO_ISSUER", flag: "issuer", usage: "JWT iss and base of published URLs (default http:// + the listen address)"},
		{env: "AUTHO_PUBLIC_URL", flag: "public-url", usage: "where people reach the portal (default the issuer)"},
		{env: "AUTHO_AUDIENCE", flag: "audience", def: "autho", usage: "JWT aud"},
		{env: "AUTHO_JWT_ALG", flag: "jwt-alg", def: "ES256", usage: "ES256, EdDSA, RS256 or HS256"},
		{env: "AUTHO_TOKEN_TTL", flag: "token-ttl", def: "24h", usage: "lifetime of a login JWT"},
		{env: "AUTHO_MAX_TOKEN_TTL", flag: "max-token-ttl", def: "8760h", usage: "longest expiry a portal user may give an API token"},
		{env: "AUTHO_MASTER_KEY", flag: "master-key", usage: "base64 32-byte key encrypting private keys at rest (default: a key file beside a SQLite database)"},
		{env: "AUTHO_TIMEZONE", flag: "timezone", def: "UTC", usage: "time zone of expires_on"},
		{env: "AUTHO_KEY_ROTATION", flag: "key-rotation", def: "720h", usage: "how often a new signing key is made"},
		{env: "AUTHO_LOGIN_FAILURES_PER_MINUTE", flag: "login-failures-per-minute", def: "30", usage: "refused logins allowed per client IP and per partner token; 0 disables"},
		{env: "AUTHO_TRUSTED_PROXIES", flag: "trusted-proxies", usage: "comma-separated CIDRs whose X-Forwarded-For is believed"},
		{env: "AUTHO_INTROSPECTION_SECRET", flag: "introspection-secret", usage: "bearer secret for the introspection endpoint; unset: 404"},
		{env: "AUTHO_METRICS_ADDR", flag: "metrics-addr", usage: "separate listen address for /metrics (default the main listener)"},
		{env: "AUTHO_LOG_LEVEL", flag: "log-level", def: "info", usage: "debug, info, warn or error"},
		{env: "AUTHO_TLS_CERT", flag: "tls-cert", usage: "PEM certificate (chain) file: serve HTTPS, reloaded on SIGHUP"},
		{env: "AUTHO_TLS_KEY", flag: "tls-key", usage: "PEM private key file of AUTHO_TLS_CERT"},
		{env: "AUTHO_MAX_ACTIVE_TOKENS", flag: "max-active-tokens", def: "50", usage: "most active API tokens one portal user may hold"},
		{env: "AUTHO_PORTAL_CONTACT", flag: "portal-contact", usage: "whom partners should talk to about their account, shown in the portal (an email address or a short text)"},
	}
}

func bindSettings(cmd *cobra.Command, ss []*setting) {
	for _, s := range ss {
		cmd.Flags().StringVar(&s.value, s.flag, "", fmt.Sprintf("%s (env %s)", s.usage, s.env))
	}
}

// resolve fills each setting's value: the flag if given, else the
// environment, else the default.
func resolve(cmd *cobra.Command, ss []*setting, getenv func(string) string) map[string]string {
	vals := make(map[string]string, len(ss))
	for _, s := range ss {
		v := s.value
		if !cmd.Flags().Changed(s.flag) {
			v = getenv(s.env)
			if v == "" {
				v = s.def
			}
		}
		vals[s.env] = strings.TrimSpace(v)
	}
	return vals
}

// serveConfig is serve's configuration, parsed and validated.
type serveConfig struct {
	DB                  string
	Addr                string
	Issuer              string // empty: derived from the bound address
	PublicURL           string // empty: the issuer
	Audience            string
	Algorithm           string
	TokenTTL            time.Duration
	MaxTokenTTL         time.Duration
	MasterKey           string
	Location            *time.Location
	KeyRotation         time.Duration
	FailuresPerMinute   int
	TrustedProxies      []netip.Prefix
	IntrospectionSecret string
	MetricsAddr         string
	LogLevel            slog.Level
	DBMaxConns          int32         // 0: the URL's pool_max_conns, else the pool's default
	DBAcquireTimeout    time.Duration // how long a request waits for a pooled connection
	TLSCert, TLSKey     string
	MaxActiveTokens     int    // per portal user
	PortalContact       string // "" gives a generic phrase
	Demo                bool

	// ReadHeaderTimeout bounds how long a client may take to send its
	// headers (slow-loris); not a setting, tests shorten it.
	ReadHeaderTimeout time.Duration
}

func (c *serveConfig) readHeaderTimeout() time.Duration {
	if c.ReadHeaderTimeout > 0 {
		return c.ReadHeaderTimeout
	}
	return 5 * time.Second
}

// parseServeConfig parses every setting and reports all bad values at once,
// one line each, each naming its setting.
func parseServeConfig(db string, v map[string]string) (*serveConfig, error) {
	c := &serveConfig{
		DB:                  db,
		Addr:                v["AUTHO_ADDR"],
		Issuer:              strings.TrimRight(v["AUTHO_ISSUER"], "/"),
		PublicURL:           strings.TrimRight(v["AUTHO_PUBLIC_URL"], "/"),
		Audience:            v["AUTHO_AUDIENCE"],
		Algorithm:           v["AUTHO_JWT_ALG"],
		MasterKey:           v["AUTHO_MASTER_KEY"],
		IntrospectionSecret: v["AUTHO_INTROSPECTION_SECRET"],
		MetricsAddr:         v["AUTHO_METRICS_ADDR"],
		TLSCert:             v["AUTHO_TLS_CERT"],
		TLSKey:              v["AUTHO_TLS_KEY"],
		PortalContact:       v["AUTHO_PORTAL_CONTACT"],
	}
	var errs []string
	bad := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	duration := func(name string, dst *time.Duration, min time.Duration) {
		d, err := config.ParseDuration(v[name])
		switch {
		case err != nil:
			bad(name, "%q is not a duration (like 24h or 90d)", v[name])
		case d < min:
			bad(name, "must be at least %s", min)
		default:
			*dst = d
		}
	}
	if db == "" {
		bad("AUTHO_DATABASE", "must not be empty")
	}
	if n := v["AUTHO_DB_MAX_CONNS"]; n != "" {
		// The ceiling is far above any sensible pool; it only keeps the
		// value inside the pool's int32.
		if i, err := strconv.Atoi(n); err != nil || i < 1 || i > 10000 {
			bad("AUTHO_DB_MAX_CONNS", "%q is not a whole number from 1 to 10000", n)
		} else {
			c.DBMaxConns = int32(i)
		}
	}
	duration("AUTHO_DB_ACQUIRE_TIMEOUT", &c.DBAcquireTimeout, 100*time.Millisecond)
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("AUTHO_ADDR", "%q is not host:port", c.Addr)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("AUTHO_METRICS_ADDR", "%q is not host:port", c.MetricsAddr)
		}
	}
	for _, u := range []struct{ name, val string }{{"AUTHO_ISSUER", c.Issuer}, {"AUTHO_PUBLIC_URL", c.PublicURL}} {
		if u.val == "" {
			continue
		}
		p, err := url.Parse(u.val)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(u.name, "%q is not an http(s) URL", u.val)
		}
	}
	if c.Audience == "" {
		bad("AUTHO_AUDIENCE", "must not be empty")
	}
	if err := signer.CheckAlgorithm(c.Algorithm); err != nil {
		bad("AUTHO_JWT_ALG", "%q is not one of ES256, EdDSA, RS256, HS256", c.Algorithm)
	}
	duration("AUTHO_TOKEN_TTL", &c.TokenTTL, time.Minute)
	duration("AUTHO_MAX_TOKEN_TTL", &c.MaxTokenTTL, time.Hour)
	duration("AUTHO_KEY_ROTATION", &c.KeyRotation, time.Hour)
	if loc, err := time.LoadLocation(v["AUTHO_TIMEZONE"]); err != nil || v["AUTHO_TIMEZONE"] == "" {
		bad("AUTHO_TIMEZONE", "%q is not a time zone name (like UTC or Asia/Kathmandu)", v["AUTHO_TIMEZONE"])
	} else {
		c.Location = loc
	}
	if n, err := strconv.Atoi(v["AUTHO_LOGIN_FAILURES_PER_MINUTE"]); err != nil || n < 0 {
		bad("AUTHO_LOGIN_FAILURES_PER_MINUTE", "%q is not a whole number ≥ 0", v["AUTHO_LOGIN_FAILURES_PER_MINUTE"])
	} else {
		c.FailuresPerMinute = n
	}
	if s := v["AUTHO_TRUSTED_PROXIES"]; s != "" {
		for _, part := range strings.Split(s, ",") {
			p, err := netip.ParsePrefix(strings.TrimSpace(part))
			if err != nil {
				bad("AUTHO_TRUSTED_PROXIES", "%q is not a CIDR (like 10.0.0.0/8)", part)
				continue
			}
			c.TrustedProxies = append(c.TrustedProxies, p.Masked())
		}
	}
	if s := c.IntrospectionSecret; s != "" && len(s) < 32 {
		bad("AUTHO_INTROSPECTION_SECRET", "must be at least 32 characters")
	}
	if err := c.LogLevel.UnmarshalText([]byte(v["AUTHO_LOG_LEVEL"])); err != nil || !validLevel(v["AUTHO_LOG_LEVEL"]) {
		bad("AUTHO_LOG_LEVEL", "%q is not one of debug, info, warn, error", v["AUTHO_LOG_LEVEL"])
	}
	if n, err := strconv.Atoi(v["AUTHO_MAX_ACTIVE_TOKENS"]); err != nil || n < 1 || n > 100000 {
		bad("AUTHO_MAX_ACTIVE_TOKENS", "%q is not a whole number from 1 to 100000", v["AUTHO_MAX_ACTIVE_TOKENS"])
	} else {
		c.MaxActiveTokens = n
	}
	if s := c.PortalContact; len(s) > 200 || strings.ContainsFunc(s, unicode.IsControl) {
		bad("AUTHO_PORTAL_CONTACT", "must be one line of at most 200 characters")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("AUTHO_TLS_CERT", "AUTHO_TLS_CERT and AUTHO_TLS_KEY must be given together")
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return c, nil
}

func validLevel(s string) bool {
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}
