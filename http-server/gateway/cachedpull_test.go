package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// countingService is a real service that counts the pulls reaching it.
type countingService struct {
	gateway.MessageService
	pulls atomic.Int64
}

func (s *countingService) Pull(ctx context.Context, req pigeonhole.PullRequest) (pigeonhole.Page, error) {
	s.pulls.Add(1)
	return s.MessageService.Pull(ctx, req)
}

func TestPageCache(t *testing.T) {
	svc := &countingService{MessageService: mustService(t)}
	metrics := gateway.NewMetrics()
	pages := pagecache.New(1 << 20)
	metrics.WatchPageCache(pages)
	e := newEngine(t, svc, gateway.Config{Pages: pages, Metrics: metrics})
	times := seed(t, svc, "m1", "m2", "m3")
	protobuf := header("Accept", "application/x-protobuf")

	// get answers url (with headers) and reports whether it reached the
	// service, checking that status and Cache-Control agree with final and
	// that HTTP caches are told the answer depends on Accept.
	get := func(t *testing.T, url string, final bool, headers ...ut.Header) (body string, reached bool) {
		t.Helper()
		before := svc.pulls.Load()
		w := perform(e, "GET", url, "", headers...)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", url, w.Code, w.Body.String())
		}
		want := "no-cache"
		if final {
			want = "max-age=31536000, immutable"
		}
		if got := w.Header().Get("Cache-Control"); got != want {
			t.Fatalf("GET %s: Cache-Control %q, want %q", url, got, want)
		}
		if got := w.Header().Get("Vary"); got != "Accept" {
			t.Fatalf("GET %s: Vary %q, want Accept", url, got)
		}
		return w.Body.String(), svc.pulls.Load() > before
	}

	t.Run("FinalPageIsAnsweredFromTheCache", func(t *testing.T) {
		url := "/api/pull?chat=a1:a2&limit=2"
		first, reached := get(t, url, true)
		if !reached {
			t.Fatal("the first pull did not reach the service")
		}
		for range 3 {
			again, reached := get(t, url, true)
			if reached || again != first {
				t.Fatalf("repeated pull: reached the service %v, body %s; want the cached %s", reached, again, first)
			}
		}
		if !strings.Contains(first, `"text":"m2"`) || !strings.Contains(first, fmt.Sprint(`"next_cursor":`, times[2])) {
			t.Fatalf("cached page: %s", first)
		}
	})
	t.Run("EachEncodingHasItsOwnEntry", func(t *testing.T) {
		url := "/api/pull?chat=a1:a2&limit=1"
		jsonBody, _ := get(t, url, true)
		pbBody, reached := get(t, url, true, protobuf)
		if !reached {
			t.Fatal("a protobuf pull was answered with the JSON entry")
		}
		for range 2 {
			again, reached := get(t, url, true, protobuf)
			var out pb.PullResponse
			if err := proto.Unmarshal([]byte(again), &out); reached || again != pbBody || err != nil || out.Messages[0].Text != "m1" {
				t.Fatalf("repeated protobuf pull: reached %v, %v, %v", reached, err, &out)
			}
			if again, reached := get(t, url, true); reached || again != jsonBody {
				t.Fatalf("repeated JSON pull: reached %v, body %s", reached, again)
			}
		}
	})
	t.Run("RequestsDifferingInAnyFieldAreApart", func(t *testing.T) {
		cursor := fmt.Sprint(times[0])
		base, _ := get(t, "/api/pull?chat=a1:a2&limit=1&cursor="+cursor, true)
		for _, url := range []string{
			"/api/pull?chat=a2:a1&limit=1&cursor=" + cursor,
			"/api/pull?chat=a1:a2&limit=1&cursor=" + cursor + "&reverse=true",
			"/api/pull?chat=a1:a2&limit=2&cursor=" + cursor,
			"/api/pull?chat=a1:a2&limit=1&cursor=" + fmt.Sprint(times[1]),
		} {
			body, reached := get(t, url, true)
			if !reached {
				t.Fatalf("%s was answered from another request's entry: %s", url, body)
			}
			if strings.Contains(url, "a2:a1") != (body == base) {
				t.Fatalf("%s: body %s (base %s)", url, body, base)
			}
		}
	})
	t.Run("PagesThatCanGrowAreNeverKept", func(t *testing.T) {
		for _, url := range []string{
			fmt.Sprintf("/api/pull?chat=a1:a2&cursor=%d", times[2]), // the tail
			"/api/pull?chat=a1:a2&reverse=true&limit=1",             // the newest page
			fmt.Sprintf("/api/pull?chat=a1:a2&reverse=true&limit=1&cursor=%d", times[2]+1),
		} {
			for range 2 {
				if _, reached := get(t, url, false); !reached {
					t.Fatalf("%s was answered from the cache", url)
				}
			}
		}
		tail := fmt.Sprintf("/api/pull?chat=a1:a2&cursor=%d", times[2])
		seed(t, svc, "m4")
		if body, _ := get(t, tail, false); !strings.Contains(body, `"text":"m4"`) {
			t.Fatalf("the tail after a new message: %s", body)
		}
	})
	t.Run("LookupsAreMetered", func(t *testing.T) {
		body := scrape(t, metrics)
		st := pages.Stats()
		for _, want := range []string{
			fmt.Sprintf(`pigeonhole_page_cache_lookups_total{result="hit"} %d`, st.Hits),
			fmt.Sprintf(`pigeonhole_page_cache_lookups_total{result="miss"} %d`, st.Misses),
			fmt.Sprintf(`pigeonhole_page_cache_bytes %d`, st.Bytes),
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if st.Hits < 7 {
			t.Errorf("%d hits, want at least 7", st.Hits)
		}
	})
}
