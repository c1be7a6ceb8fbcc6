// Package config is autho's configuration: every setting, its default and
// its rules written once, and one loader (a flag over the environment over
// the default) that serve, the gateway and the operator commands share.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/autho/autho/internal/mail"
)

// Config is every setting, parsed. A command reads the fields it uses; the
// rest hold their defaults.
type Config struct {
	Database            string
	Addr                string
	Issuer              string // "" derives it from the bound address
	PublicURL           string // "" is the issuer
	Audience            string
	Algorithm           string
	TokenTTL            time.Duration
	MaxTokenTTL         time.Duration
	MasterKey           string // secret: environment or file only
	Location            *time.Location
	KeyRotation         time.Duration
	FailuresPerMinute   int
	TrustedProxies      []netip.Prefix
	IntrospectionSecret string // secret: environment or file only
	MetricsAddr         string
	LogLevel            slog.Level
	DBMaxConns          int32         // 0: the URL's pool_max_conns, else the pool's default
	DBAcquireTimeout    time.Duration // how long a request waits for a pooled connection
	TLSCert, TLSKey     string
	MaxActiveTokens     int          // per portal user
	PortalContact       string       // "" gives a generic phrase
	PortalRequireMFA    bool         // a second factor of every portal user (admin.Service.RequireMFA)
	SMTP                *mail.Config // AUTHO_SMTP_URL, parsed (a secret: environment or file only); nil is no mail
	SMTPFrom            string
	WebhookAllowPrivate bool
	SecretScanningKeys  string // a URL, or "off"
	DeliveryTimeScale   float64

	// names says how each setting was given, for messages: the flag
	// ("--token-ttl") when a flag was used, else the variable.
	names map[string]string
}

// Name is how the setting of the variable env was given: "--flag" when it
// came from a flag, else env itself (or env_FILE for a secret read from a
// file). Messages about a setting use it, so that they name what the
// operator typed.
func (c *Config) Name(env string) string {
	if n, ok := c.names[env]; ok {
		return n
	}
	return env
}

// Source is where settings come from besides flags.
type Source struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error) // for secrets given as *_FILE
}

// Bind adds a flag for each setting of envs that has one (all of them when
// envs is empty). Secrets never get one: ps would show them.
func Bind(fs *pflag.FlagSet, envs ...string) {
	for _, s := range selected(envs) {
		if s.flag == "" {
			continue
		}
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		fs.String(s.flag, s.def, usage)
	}
}

// Load reads the settings of envs (all of them when envs is empty): each
// from its flag in fs when the flag was given, else from the environment,
// else from env_FILE for a secret, else the default. It parses them and
// checks every rule among them, and reports every problem at once, in one
// line, each naming its setting as it was given. fs may be nil (no flags).
func Load(fs *pflag.FlagSet, src Source, envs ...string) (*Config, error) {
	c := &Config{names: map[string]string{}}
	var errs []string
	bad := func(env, msg string) { errs = append(errs, c.Name(env)+": "+msg) }
	ss := selected(envs)
	loaded := map[string]bool{}
	for _, s := range all {
		// A setting this command does not use keeps its default, whatever
		// the environment says of it.
		raw := s.def
		if contains(ss, s) {
			var err error
			if raw, err = s.read(fs, src, c); err != nil {
				bad(s.env, err.Error())
				continue
			}
		}
		if err := s.parse(c, strings.TrimSpace(raw)); err != nil {
			bad(s.env, err.Error())
			continue
		}
		loaded[s.env] = contains(ss, s)
	}
	for _, r := range rules {
		if loaded[r.env] && r.broken(c) {
			bad(r.env, r.msg)
		}
	}
	if len(errs) > 0 {
		// One line, so that a service manager's log shows it whole.
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return c, nil
}

// read returns the raw text of s: flag, environment, file, default.
func (s *setting) read(fs *pflag.FlagSet, src Source, c *Config) (string, error) {
	if fs != nil && s.flag != "" {
		if f := fs.Lookup(s.flag); f != nil && f.Changed {
			c.names[s.env] = "--" + s.flag
			return f.Value.String(), nil
		}
	}
	v := ""
	if src.Getenv != nil {
		v = src.Getenv(s.env)
	}
	if !s.secret {
		if v == "" {
			return s.def, nil
		}
		return v, nil
	}
	file := ""
	if src.Getenv != nil {
		file = src.Getenv(s.env + "_FILE")
	}
	switch {
	case v != "" && file != "":
		return "", fmt.Errorf("set %s or %s_FILE, not both", s.env, s.env)
	case file != "":
		c.names[s.env] = s.env + "_FILE"
		if src.ReadFile == nil {
			return "", errors.New("cannot read files here")
		}
		b, err := src.ReadFile(file)
		if err != nil {
			// The path is the operator's, not a secret; the error of a
			// failed read never holds the file's contents.
			return "", fmt.Errorf("cannot read %s: %v", file, errors.Unwrap(err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return v, nil
}

func selected(envs []string) []*setting {
	if len(envs) == 0 {
		return all
	}
	var out []*setting
	for _, s := range all {
		for _, e := range envs {
			if s.env == e {
				out = append(out, s)
			}
		}
	}
	return out
}

func contains(ss []*setting, s *setting) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Names lists the settings' variables in the table's order, but for those
// in except.
func Names(except ...string) []string {
	var out []string
	for _, s := range all {
		if !slices.Contains(except, s.env) {
			out = append(out, s.env)
		}
	}
	return out
}
