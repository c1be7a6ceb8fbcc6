package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/autho/autho/bearer"
	"github.com/autho/autho/internal/config"
)

// Flags are the gateway's command-line flags as typed. The command's
// defaults are its own: the zero Flags has Revocations off.
type Flags struct {
	Upstream, Listen, JWKS, HS256File string
	Strict                            bool
	Revocations                       bool
	RevocationsMaxAge                 time.Duration
}

// ParseConfig checks every flag and setting and reports all mistakes at
// once, one each, naming what to fix. Secrets are never repeated. It
// returns the log level too.
func ParseConfig(f Flags, src config.Source) (*Config, slog.Level, error) {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	httpURL := func(name, v string) *url.URL {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s: %q is not an http(s) URL", name, v)
			return nil
		}
		return u
	}

	// The settings it shares with serve; the strict mode's secret only
	// when it is used.
	envs := []string{"AUTHO_ISSUER", "AUTHO_AUDIENCE", "AUTHO_LOG_LEVEL"}
	if f.Strict {
		envs = append(envs, "AUTHO_INTROSPECTION_SECRET")
	}
	set, err := config.Load(nil, src, envs...)
	if err != nil {
		errs = append(errs, err.Error())
		set, _ = config.Load(nil, config.Source{}, envs...)
	}
	c := &Config{
		Listen:              strings.TrimSpace(f.Listen),
		Issuer:              set.Issuer,
		Audience:            set.Audience,
		Strict:              f.Strict,
		IntrospectionSecret: set.IntrospectionSecret,
	}
	c.Upstream = httpURL("--upstream", strings.TrimSpace(f.Upstream))
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("--listen: %q is not host:port", c.Listen)
	}
	if strings.TrimSpace(src.Getenv("AUTHO_ISSUER")) == "" {
		bad("AUTHO_ISSUER is required: the gateway accepts only tokens whose iss is autho's issuer, e.g. AUTHO_ISSUER=http://127.0.0.1:8080")
	}
	if f.HS256File != "" {
		if c.HS256Keys, err = bearer.NewSecretFile(f.HS256File); err != nil {
			bad("--hs256-secret-file: %v (write it with autho keys export-hs256)", err)
		}
	} else {
		c.JWKSURL = strings.TrimSpace(f.JWKS)
		if c.JWKSURL == "" && c.Issuer != "" {
			c.JWKSURL = c.Issuer + "/.well-known/jwks.json"
		}
		if c.JWKSURL != "" {
			httpURL("--jwks", c.JWKSURL)
		}
	}
	if c.Strict {
		if c.IntrospectionSecret == "" && src.Getenv("AUTHO_INTROSPECTION_SECRET") == "" && src.Getenv("AUTHO_INTROSPECTION_SECRET_FILE") == "" {
			bad("--strict needs AUTHO_INTROSPECTION_SECRET, the secret autho's introspection endpoint was given")
		}
		if c.Issuer != "" {
			c.IntrospectionURL = c.Issuer + "/v1/autho/token/introspect/"
		}
	}
	if f.Revocations {
		c.Revocations, c.RevocationsMaxAge = true, f.RevocationsMaxAge
		if c.Issuer != "" {
			c.RevocationsURL = c.Issuer + "/v1/autho/revocations"
		}
		// The gateway polls at the bearer package's default: a max age
		// not above it would fail closed between polls.
		if f.RevocationsMaxAge <= bearer.DefaultRevocationsEvery {
			bad("--revocations-max-age: %v must be longer than the feed's poll period, %v (default 10m)", f.RevocationsMaxAge, bearer.DefaultRevocationsEvery)
		}
	}
	if len(errs) > 0 {
		return nil, 0, errors.New(strings.Join(errs, "; "))
	}
	return c, set.LogLevel, nil
}
