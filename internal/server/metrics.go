package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus series the server exports. Labels hold only
// bounded values (route patterns, methods as MethodLabel names them, status
// and result codes): never a token, an email, a raw path or a client's
// made-up method.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.HistogramVec
	logins   *prometheus.CounterVec
	admin    *prometheus.CounterVec
}

// NewMetrics makes a registry with the process, Go runtime and build
// series, the server's own, and any extra collectors (database pools).
func NewMetrics(extra ...prometheus.Collector) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "autho_http_request_duration_seconds",
			Help:    "HTTP requests by route pattern, method and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "status"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "autho_logins_total",
			Help: `Login answers by endpoint ("login", or "oauth2" for the OAuth2 token endpoint) and result code ("00" success; "09" is the rate limit; the token endpoint's own refusals by their OAuth2 error).`,
		}, []string{"endpoint", "result"}),
		admin: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "autho_admin_requests_total",
			Help: "Admin API requests by route pattern and status.",
		}, []string{"route", "status"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		m.requests, m.logins, m.admin,
	)
	m.reg.MustRegister(extra...)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) observe(route, method string, status int, seconds float64) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Observe(seconds)
	// The admin API's own mux has set its pattern by now.
	if strings.HasPrefix(route, adminPrefix) {
		m.admin.WithLabelValues(route, strconv.Itoa(status)).Inc()
	}
}

// adminPrefix is where the admin API's routes are.
const adminPrefix = "/v1/admin/"

// login counts one answer of a way into the login exchange: endpoint is
// "login" or "oauth2".
func (m *Metrics) login(endpoint, result string) {
	if m == nil {
		return
	}
	m.logins.WithLabelValues(endpoint, result).Inc()
}
