package gateway

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
)

// Metrics holds the gateway's Prometheus metrics in a registry of its own;
// it is the http.Handler of GET /metrics.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	attempts *prometheus.CounterVec
	retries  *prometheus.CounterVec
}

// NewMetrics registers the gateway's metrics and the Go runtime's.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pigeonhole_http_requests_total",
			Help: "HTTP requests answered, by route, method, status and error code (\"ok\" on success).",
		}, []string{"route", "method", "status", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pigeonhole_http_request_duration_seconds",
			Help:    "HTTP request handling time, by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"route", "method"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pigeonhole_rpc_attempts_total",
			Help: "RPC attempts to message-service replicas, by method and result.",
		}, []string{"method", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pigeonhole_rpc_retries_total",
			Help: "RPC attempts that retried a failed one, by method.",
		}, []string{"method"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.attempts, m.retries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchPageCache exports the lookups and size of the gateway's page cache;
// a nil cache exports nothing.
func (m *Metrics) WatchPageCache(c *pagecache.Cache) {
	if c == nil {
		return
	}
	lookups := func(result string, count func(pagecache.Stats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "pigeonhole_page_cache_lookups_total",
			Help:        "Pulls looked up in the gateway's page cache, by result.",
			ConstLabels: prometheus.Labels{"result": result},
		}, func() float64 { return float64(count(c.Stats())) })
	}
	m.registry.MustRegister(
		lookups("hit", func(s pagecache.Stats) int64 { return s.Hits }),
		lookups("miss", func(s pagecache.Stats) int64 { return s.Misses }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pigeonhole_page_cache_bytes",
			Help: "Approximate bytes of keys and bodies held by the gateway's page cache.",
		}, func() float64 { return float64(c.Stats().Bytes) }),
	)
}

// watchWaiting exports the number of pulls and inbox calls waiting now.
func (m *Metrics) watchWaiting(waiting func() int64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pigeonhole_waiting_pulls",
		Help: "Pulls and inbox calls waiting for a message (wait_ms) now, against --max-waiters.",
	}, func() float64 { return float64(waiting()) }))
}

// ObserveAttempt records one RPC attempt; retry tells whether it retried
// an earlier attempt of the same call.
func (m *Metrics) ObserveAttempt(method string, retry bool, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.attempts.WithLabelValues(method, result).Inc()
	if retry {
		m.retries.WithLabelValues(method).Inc()
	}
}

// observeRequest counts and times one request; route and method are
// labels from fixed sets (route templates, methodLabels).
func (m *Metrics) observeRequest(ctx *app.RequestContext, route, method string, start time.Time) {
	code := ctx.GetString(codeKey)
	if code == "" {
		code = "ok"
	}
	m.requests.WithLabelValues(route, method, statusLabel(ctx.Response.StatusCode()), code).Inc()
	m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
}

// ServeHTTP answers GET /metrics in the Prometheus text format. It is
// served on a listener of its own (the gateway's --metrics-addr), never on
// the public API's.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	families, err := m.registry.Gather()
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", string(format))
	w.Write(buf.Bytes())
}

// codeKey is where fail leaves the error code for the metrics.
const codeKey = "pigeonhole.code"

func statusLabel(status int) string { return strconv.Itoa(status) }
