package main

import (
	"os"
	"time"

	"github.com/autho/autho/internal/config"
)

// serveConfig is serve's configuration: the settings, and what serve is
// told besides them.
type serveConfig struct {
	*config.Config
	Demo bool

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

// source is where the settings of every command come from besides flags.
func (a *app) source() config.Source {
	return config.Source{Getenv: a.getenv, ReadFile: os.ReadFile}
}

// settings loads the named settings for a command without flags of its
// own for them (the operator commands).
func (a *app) settings(envs ...string) (*config.Config, error) {
	return config.Load(nil, a.source(), envs...)
}
