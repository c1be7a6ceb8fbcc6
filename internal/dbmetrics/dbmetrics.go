// Package dbmetrics exports a database connection pool's state to
// Prometheus under one set of names, whichever backend holds the pool.
package dbmetrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stat is a pool's state at one moment.
type Stat struct {
	Open, InUse int
	Max         int // the pool's limit; exported only by a Pool with HasMax
	Waits       int64
	WaitTime    time.Duration
}

// Pool names one pool and how to read its state at each scrape.
type Pool struct {
	Name string
	Stat func() Stat
	// HasMax exports Max too (a limit the operator sets).
	HasMax bool
	// Acquiring says WaitTime counts every acquisition, not only the waits
	// for a free connection, so that the help text says what it is.
	Acquiring bool
}

// Collectors exports p.
func (p Pool) Collectors() []prometheus.Collector {
	labels := prometheus.Labels{"pool": p.Name}
	gauge := func(name, help string, f func(Stat) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return f(p.Stat()) })
	}
	counter := func(name, help string, f func(Stat) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels},
			func() float64 { return f(p.Stat()) })
	}
	waitHelp := "Time spent waiting for a free connection."
	if p.Acquiring {
		waitHelp = "Time spent acquiring connections."
	}
	cs := []prometheus.Collector{
		gauge("autho_db_connections_open", "Open database connections.", func(s Stat) float64 { return float64(s.Open) }),
		gauge("autho_db_connections_in_use", "Database connections in use.", func(s Stat) float64 { return float64(s.InUse) }),
	}
	if p.HasMax {
		cs = append(cs, gauge("autho_db_connections_max", "The pool's connection limit.", func(s Stat) float64 { return float64(s.Max) }))
	}
	return append(cs,
		counter("autho_db_waits_total", "Waits for a free connection.", func(s Stat) float64 { return float64(s.Waits) }),
		counter("autho_db_wait_seconds_total", waitHelp, func(s Stat) float64 { return s.WaitTime.Seconds() }),
	)
}
