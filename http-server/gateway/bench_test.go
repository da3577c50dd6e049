package gateway_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/ut"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
)

// BenchmarkSendInProcess is a full JSON send through the engine and the
// real service over SQLite (each send waits for its commit's fsync).
func BenchmarkSendInProcess(b *testing.B) {
	e := newEngine(b, mustService(b), gateway.Config{})
	body := `{"chat":"alice:bob","text":"a typical line of chat, about sixty bytes long","sender":"alice"}`
	b.ReportAllocs()
	for b.Loop() {
		w := ut.PerformRequest(e, "POST", "/api/send", &ut.Body{Body: strings.NewReader(body), Len: len(body)},
			ut.Header{Key: "Content-Type", Value: "application/json"})
		if w.Code != 200 {
			b.Fatalf("send: %d %s", w.Code, w.Body.String())
		}
	}
}

// seedHistory stores 20 typical lines in a1:a2 and returns the JSON body of
// a pull of the first page of 10 of them (a final page, with more after).
func seedHistory(b *testing.B, svc gateway.MessageService) string {
	b.Helper()
	texts := make([]string, 20)
	for i := range texts {
		texts[i] = fmt.Sprintf("message %d: a typical line of chat", i)
	}
	times := seed(b, svc, texts...)
	return fmt.Sprintf(`{"chat":"a1:a2","cursor":%d,"limit":10}`, times[0])
}

// BenchmarkPullInProcess is a full JSON pull of a 10-message page through
// the engine and the real service over SQLite; "FromPageCache" answers the
// same final page from the gateway's page cache after the first pull.
func BenchmarkPullInProcess(b *testing.B) {
	for _, bc := range []struct {
		name  string
		pages *pagecache.Cache
	}{{"ThroughTheService", nil}, {"FromPageCache", pagecache.New(1 << 20)}} {
		b.Run(bc.name, func(b *testing.B) {
			svc := mustService(b)
			e := newEngine(b, svc, gateway.Config{Pages: bc.pages})
			body := seedHistory(b, svc)
			b.ReportAllocs()
			for b.Loop() {
				w := ut.PerformRequest(e, "GET", "/api/pull", &ut.Body{Body: strings.NewReader(body), Len: len(body)},
					ut.Header{Key: "Content-Type", Value: "application/json"})
				if w.Code != 200 || !strings.Contains(w.Body.String(), `"has_more":true`) {
					b.Fatalf("pull: %d %s", w.Code, w.Body.String())
				}
			}
		})
	}
}
