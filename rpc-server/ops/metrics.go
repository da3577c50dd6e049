// Package ops is the message service's operational HTTP surface:
// Prometheus metrics, liveness and readiness, on their own port so that
// probes and scrapes never queue behind RPC traffic.
package ops

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the service's Prometheus metrics in a registry of its own.
type Metrics struct {
	registry      *prometheus.Registry
	rpcRequests   *prometheus.CounterVec
	rpcLatency    *prometheus.HistogramVec
	commitBatch   prometheus.Histogram
	commitLatency *prometheus.HistogramVec
	rangeLatency  *prometheus.HistogramVec
	cacheLookups  *prometheus.CounterVec
}

// NewMetrics registers the service's metrics and the Go runtime's.
func NewMetrics() *Metrics {
	buckets := prometheus.ExponentialBuckets(0.0001, 2, 16) // 100µs .. ~3s
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		rpcRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pigeonhole_rpc_requests_total", Help: "RPC requests served, by method and result code.",
		}, []string{"method", "code"}),
		rpcLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pigeonhole_rpc_duration_seconds", Help: "RPC handling time, by method.", Buckets: buckets,
		}, []string{"method"}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pigeonhole_store_commit_batch_size", Help: "Messages per group-commit transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		commitLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pigeonhole_store_commit_duration_seconds", Help: "Append transaction time, by result.", Buckets: buckets,
		}, []string{"result"}),
		rangeLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pigeonhole_store_range_duration_seconds", Help: "Page read time, by result.", Buckets: buckets,
		}, []string{"result"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pigeonhole_range_cache_lookups_total", Help: "Page reads looked up in the range cache, by result (hit: answered from memory).",
		}, []string{"result"}),
	}
	m.registry.MustRegister(m.rpcRequests, m.rpcLatency, m.commitBatch, m.commitLatency, m.rangeLatency, m.cacheLookups,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRPC records one served RPC.
func (m *Metrics) ObserveRPC(method, code string, d time.Duration) {
	if code == "" {
		code = "ok"
	}
	m.rpcRequests.WithLabelValues(method, code).Inc()
	m.rpcLatency.WithLabelValues(method).Observe(d.Seconds())
}

// ObserveCommit records one append transaction.
func (m *Metrics) ObserveCommit(batch int, d time.Duration, err error) {
	m.commitBatch.Observe(float64(batch))
	m.commitLatency.WithLabelValues(result(err)).Observe(d.Seconds())
}

// ObserveRange records one page read.
func (m *Metrics) ObserveRange(d time.Duration, err error) {
	m.rangeLatency.WithLabelValues(result(err)).Observe(d.Seconds())
}

// ObserveCacheLookup counts one range-cache lookup.
func (m *Metrics) ObserveCacheLookup(hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cacheLookups.WithLabelValues(result).Inc()
}

// ObservePool exports the statistics of a connection pool.
func (m *Metrics) ObservePool(name string, stats func() sql.DBStats) {
	gauge := func(metric, help string, value func(sql.DBStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pigeonhole_store_pool_" + metric, Help: help, ConstLabels: prometheus.Labels{"pool": name},
		}, func() float64 { return value(stats()) })
	}
	m.registry.MustRegister(
		gauge("open_connections", "Open connections.", func(s sql.DBStats) float64 { return float64(s.OpenConnections) }),
		gauge("in_use_connections", "Connections in use.", func(s sql.DBStats) float64 { return float64(s.InUse) }),
		gauge("wait_count", "Waits for a connection so far.", func(s sql.DBStats) float64 { return float64(s.WaitCount) }),
		gauge("wait_seconds", "Time spent waiting for a connection so far.", func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }),
	)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}
