package elastic_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrapeSum adds up every sample of the metric name at url whose labels
// contain all of the given label pairs (e.g. `method="Send"`).
func scrapeSum(t *testing.T, url, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s: %s", url, resp.Status, b)
	}
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		if !hasLabels(line, labels) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			t.Fatalf("scrape %s: bad sample %q", url, line)
		}
		sum += v
	}
	return sum
}

func hasLabels(line string, labels []string) bool {
	for _, l := range labels {
		if !strings.Contains(line, l) {
			return false
		}
	}
	return true
}

// scrapeRequests is how many sends and pulls a replica has served.
func scrapeRequests(t *testing.T, r *replica) float64 {
	t.Helper()
	return scrapeSum(t, r.metricsURL, "pigeonhole_rpc_requests_total", `method="Send"`) +
		scrapeSum(t, r.metricsURL, "pigeonhole_rpc_requests_total", `method="Pull"`)
}

// waitServed fails the test unless r serves a send or a pull within d:
// gateways must discover a new replica on their own.
func waitServed(t *testing.T, r *replica, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if scrapeRequests(t, r) > 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("replica %s served no traffic within %v of starting", r.Addr, d)
}
