package main

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/autho/autho"
	"github.com/autho/autho/internal/postgres"
	"github.com/autho/autho/internal/server"
	"github.com/autho/autho/internal/sqlite"
)

// serveMetrics serves /metrics alone on AUTHO_METRICS_ADDR, so it can be
// kept off the public listener.
func (d *daemon) serveMetrics(m *server.Metrics) error {
	ln, err := net.Listen("tcp", d.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("AUTHO_METRICS_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	d.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.metricsAddr = ln.Addr().String()
	go func() {
		if err := d.metrics.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics listener stopped", "err", err)
		}
	}()
	return nil
}

// poolCollectors exports the database connection pools' state.
func poolCollectors(st autho.Store) []prometheus.Collector {
	gauge := func(name, help, pool string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: name, Help: help, ConstLabels: prometheus.Labels{"pool": pool},
		}, f)
	}
	counter := func(name, help, pool string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: name, Help: help, ConstLabels: prometheus.Labels{"pool": pool},
		}, f)
	}
	switch s := st.(type) {
	case *sqlite.Store:
		var cs []prometheus.Collector
		for _, pool := range []string{"sqlite_read", "sqlite_write"} {
			stat := func() sql.DBStats {
				r, w := s.DBStats()
				if pool == "sqlite_read" {
					return r
				}
				return w
			}
			cs = append(cs,
				gauge("autho_db_connections_open", "Open database connections.", pool, func() float64 { return float64(stat().OpenConnections) }),
				gauge("autho_db_connections_in_use", "Database connections in use.", pool, func() float64 { return float64(stat().InUse) }),
				counter("autho_db_waits_total", "Waits for a free connection.", pool, func() float64 { return float64(stat().WaitCount) }),
				counter("autho_db_wait_seconds_total", "Time spent waiting for a free connection.", pool, func() float64 { return stat().WaitDuration.Seconds() }),
			)
		}
		return cs
	case *postgres.Store:
		const pool = "postgres"
		return []prometheus.Collector{
			gauge("autho_db_connections_open", "Open database connections.", pool, func() float64 { return float64(s.Stat().TotalConns()) }),
			gauge("autho_db_connections_in_use", "Database connections in use.", pool, func() float64 { return float64(s.Stat().AcquiredConns()) }),
			gauge("autho_db_connections_max", "The pool's connection limit.", pool, func() float64 { return float64(s.Stat().MaxConns()) }),
			counter("autho_db_waits_total", "Waits for a free connection.", pool, func() float64 { return float64(s.Stat().EmptyAcquireCount()) }),
			counter("autho_db_wait_seconds_total", "Time spent acquiring connections.", pool, func() float64 { return s.Stat().AcquireDuration().Seconds() }),
		}
	}
	return nil
}
