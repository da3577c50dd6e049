package gateway_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
)

func TestMetrics(t *testing.T) {
	m := gateway.NewMetrics()
	e := newEngine(t, mustService(t), gateway.Config{Metrics: m})
	perform(e, "POST", "/api/send", `{"chat":"a:b","text":"hi","sender":"a"}`, header("Content-Type", "application/json"))
	perform(e, "POST", "/api/send", `{"chat":"a:b","text":"hi","sender":"x"}`, header("Content-Type", "application/json"))
	perform(e, "GET", "/api/pull?chat=a:b", "")
	perform(e, "GET", "/no/such/thing/qz-unmatched", "")
	m.ObserveAttempt("Send", false, errors.New("refused"))
	m.ObserveAttempt("Send", true, nil)

	body := scrape(t, m)
	if got := perform(e, "GET", "/metrics", "").Code; got != 404 {
		t.Fatalf("GET /metrics on the API's listener: status %d, want 404", got)
	}
	for _, want := range []string{
		`pigeonhole_http_requests_total{code="ok",method="POST",route="/api/send",status="200"} 1`,
		`pigeonhole_http_requests_total{code="invalid_argument",method="POST",route="/api/send",status="400"} 1`,
		`pigeonhole_http_requests_total{code="ok",method="GET",route="/api/pull",status="200"} 1`,
		`pigeonhole_http_requests_total{code="not_found",method="GET",route="unmatched",status="404"} 1`,
		`pigeonhole_http_request_duration_seconds_count{method="GET",route="/api/pull"} 1`,
		`pigeonhole_rpc_attempts_total{method="Send",result="error"} 1`,
		`pigeonhole_rpc_retries_total{method="Send"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "qz-unmatched") {
		t.Errorf("an unmatched path became a label value")
	}
}

// scrape is GET /metrics of m.
func scrape(tb testing.TB, m *gateway.Metrics) string {
	tb.Helper()
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		tb.Fatalf("GET /metrics: status %d", w.Code)
	}
	return w.Body.String()
}
