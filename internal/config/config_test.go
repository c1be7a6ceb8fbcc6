package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// env is a fixed environment for a test.
func env(kv ...string) Source {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return Source{Getenv: func(k string) string { return m[k] }, ReadFile: os.ReadFile}
}

func TestLoad_Defaults(t *testing.T) {
	c, err := Load(nil, env())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Database": "autho.db", "Addr": "127.0.0.1:8080", "Audience": "autho", "Algorithm": "ES256",
		"TokenTTL": 24 * time.Hour, "MaxTokenTTL": 8760 * time.Hour, "KeyRotation": 720 * time.Hour,
		"Location": "UTC", "FailuresPerMinute": 30, "MaxActiveTokens": 50, "DBAcquireTimeout": 2 * time.Second,
		"LogLevel": "INFO", "Issuer": "", "MasterKey": "", "TrustedProxies": 0,
	}
	got := map[string]any{
		"Database": c.Database, "Addr": c.Addr, "Audience": c.Audience, "Algorithm": c.Algorithm,
		"TokenTTL": c.TokenTTL, "MaxTokenTTL": c.MaxTokenTTL, "KeyRotation": c.KeyRotation,
		"Location": c.Location.String(), "FailuresPerMinute": c.FailuresPerMinute, "MaxActiveTokens": c.MaxActiveTokens,
		"DBAcquireTimeout": c.DBAcquireTimeout, "LogLevel": c.LogLevel.String(), "Issuer": c.Issuer,
		"MasterKey": c.MasterKey, "TrustedProxies": len(c.TrustedProxies),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("default %s = %v, want %v", k, got[k], w)
		}
	}
}

func TestLoad_FlagOverEnvironment(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	Bind(fs)
	if err := fs.Parse([]string{"--token-ttl=2h", "--issuer=https://auth.example.com/"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs, env("AUTHO_TOKEN_TTL", "3h", "AUTHO_AUDIENCE", "partners", "AUTHO_ISSUER", "http://other"))
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenTTL != 2*time.Hour || c.Audience != "partners" || c.Issuer != "https://auth.example.com" {
		t.Fatalf("ttl %v, audience %q, issuer %q: want the flags' 2h and issuer, the environment's audience", c.TokenTTL, c.Audience, c.Issuer)
	}
	if c.Name("AUTHO_TOKEN_TTL") != "--token-ttl" || c.Name("AUTHO_AUDIENCE") != "AUTHO_AUDIENCE" {
		t.Fatalf("names %q, %q", c.Name("AUTHO_TOKEN_TTL"), c.Name("AUTHO_AUDIENCE"))
	}
}

// Every problem is reported at once, in one line, each naming the setting
// as the operator gave it: the flag when a flag was used.
func TestLoad_Problems(t *testing.T) {
	tests := []struct {
		name  string
		flags []string
		env   []string
		want  []string // each must appear in the message
	}{
		{"bad duration from a flag", []string{"--token-ttl=soon"}, nil, []string{`--token-ttl: "soon" is not a duration`}},
		{"bad duration from the environment", nil, []string{"AUTHO_TOKEN_TTL", "soon"}, []string{`AUTHO_TOKEN_TTL: "soon" is not a duration`}},
		{"too short", nil, []string{"AUTHO_TOKEN_TTL", "30s"}, []string{"AUTHO_TOKEN_TTL: must be at least 1m0s"}},
		{"all at once", []string{"--jwt-alg=none"}, []string{"AUTHO_ADDR", "8080", "AUTHO_TIMEZONE", "Mars/Olympus_Mons", "AUTHO_LOG_LEVEL", "loud"},
			[]string{`--jwt-alg: "none" is not one of`, `AUTHO_ADDR: "8080" is not host:port`, `AUTHO_TIMEZONE: "Mars/Olympus_Mons" is not a time zone`, `AUTHO_LOG_LEVEL: "loud"`}},
		{"a path is no zone", nil, []string{"AUTHO_TIMEZONE", "../../etc/passwd"}, []string{"AUTHO_TIMEZONE:"}},
		{"bad CIDR", nil, []string{"AUTHO_TRUSTED_PROXIES", "10.0.0.0/8, nope"}, []string{`AUTHO_TRUSTED_PROXIES: "nope" is not a CIDR or an IP address`}},
		{"TLS half given", []string{"--tls-cert=c.pem"}, nil, []string{"--tls-cert: AUTHO_TLS_CERT and AUTHO_TLS_KEY must be given together"}},
		{"short introspection secret", nil, []string{"AUTHO_INTROSPECTION_SECRET", "short"}, []string{"AUTHO_INTROSPECTION_SECRET: must be at least 32 characters"}},
		{"secret twice", nil, []string{"AUTHO_MASTER_KEY", "a", "AUTHO_MASTER_KEY_FILE", "/k"}, []string{"set AUTHO_MASTER_KEY or AUTHO_MASTER_KEY_FILE, not both"}},
		{"not an URL", nil, []string{"AUTHO_PUBLIC_URL", "ftp://x"}, []string{`AUTHO_PUBLIC_URL: "ftp://x" is not an http(s) URL`}},
		{"pool size", nil, []string{"AUTHO_DB_MAX_CONNS", "0"}, []string{`AUTHO_DB_MAX_CONNS: "0" is not a whole number from 1 to 10000`}},
		{"contact on two lines", nil, []string{"AUTHO_PORTAL_CONTACT", "a\nb"}, []string{"AUTHO_PORTAL_CONTACT: must be one line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			Bind(fs)
			if err := fs.Parse(tt.flags); err != nil {
				t.Fatal(err)
			}
			_, err := Load(fs, env(tt.env...))
			if err == nil {
				t.Fatal("loaded")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("more than one line: %q", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
}

// A secret is never a flag, and can come from a file (Docker and
// Kubernetes secrets), whose path, not content, appears in messages.
func TestLoad_Secrets(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	Bind(fs)
	for _, name := range []string{"master-key", "introspection-secret"} {
		if fs.Lookup(name) != nil {
			t.Errorf("--%s exists: a secret on the command line is visible to every local user in ps", name)
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "intro")
	const secret = "an-introspection-secret-read-from-a-file"
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs, env("AUTHO_INTROSPECTION_SECRET_FILE", file))
	if err != nil || c.IntrospectionSecret != secret {
		t.Fatalf("from the file: %v (err %v)", c != nil && c.IntrospectionSecret == secret, err)
	}
	if c.Name("AUTHO_INTROSPECTION_SECRET") != "AUTHO_INTROSPECTION_SECRET_FILE" {
		t.Errorf("named %q", c.Name("AUTHO_INTROSPECTION_SECRET"))
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("tiny-secret\n"), 0o600)
	_, err = Load(fs, env("AUTHO_INTROSPECTION_SECRET_FILE", short))
	if err == nil || !strings.Contains(err.Error(), "AUTHO_INTROSPECTION_SECRET_FILE: must be at least 32") || strings.Contains(err.Error(), "tiny-secret") {
		t.Fatalf("a short secret from a file: %v", err)
	}
	_, err = Load(fs, env("AUTHO_MASTER_KEY_FILE", filepath.Join(dir, "missing")))
	if err == nil || !strings.Contains(err.Error(), "AUTHO_MASTER_KEY_FILE: cannot read "+filepath.Join(dir, "missing")) {
		t.Fatalf("a missing file: %v", err)
	}
}

// A command names the settings it uses; the others keep their defaults
// and cannot stop it, however wrong the environment has them.
func TestLoad_OnlyWhatACommandUses(t *testing.T) {
	c, err := Load(nil, env("AUTHO_ADDR", "nonsense", "AUTHO_TLS_CERT", "c.pem", "AUTHO_TIMEZONE", "Europe/Berlin"), "AUTHO_DATABASE", "AUTHO_TIMEZONE")
	if err != nil {
		t.Fatalf("an operator command with a bad AUTHO_ADDR in its environment: %v", err)
	}
	if c.Location.String() != "Europe/Berlin" || c.Addr != "127.0.0.1:8080" {
		t.Fatalf("zone %v, addr %q", c.Location, c.Addr)
	}
}

// AUTHO_TRUSTED_PROXIES takes CIDRs and bare addresses alike: an operator
// naming the one proxy in front of autho writes its address, and a bare
// address means that host alone.
func TestLoad_TrustedProxies(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // the prefixes, as netip prints them
		bad      string   // part of the error, when the value is refused
	}{
		{"CIDR", "10.0.0.0/8", []string{"10.0.0.0/8"}, ""},
		{"CIDR not at its boundary", "10.1.2.3/8", []string{"10.0.0.0/8"}, ""},
		{"bare IPv4", "10.0.0.1", []string{"10.0.0.1/32"}, ""},
		{"bare IPv6", "::1", []string{"::1/128"}, ""},
		{"IPv6 with a zone", "fe80::1%eth0", nil, `"fe80::1%eth0" is not a CIDR or an IP address`},
		{"mixed, with spaces", " 10.0.0.1 , 192.168.0.0/16,2001:db8::/32 ", []string{"10.0.0.1/32", "192.168.0.0/16", "2001:db8::/32"}, ""},
		{"IPv4-mapped IPv6", "::ffff:10.0.0.1", []string{"10.0.0.1/32"}, ""},
		{"not an address", "10.0.0.1, proxy.internal", nil, `"proxy.internal" is not a CIDR or an IP address`},
		{"empty item", "10.0.0.1,,10.0.0.2", nil, `"" is not a CIDR or an IP address`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(nil, env("AUTHO_TRUSTED_PROXIES", tt.in))
			if tt.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tt.bad) {
					t.Fatalf("err = %v, want it to contain %s", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range c.TrustedProxies {
				got = append(got, p.String())
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("prefixes %v, want %v", got, tt.want)
			}
		})
	}
}
