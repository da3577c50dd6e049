package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/hertz/pkg/common/ut"
	"github.com/cloudwego/hertz/pkg/route"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pagecache"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

// BenchmarkAuth measures what authentication and rate limiting cost, side
// by side with the same requests without them: a send, a pull through the
// service, and a pull answered from the page cache (the cheapest request,
// where their share is largest). Verified tokens are cached, so a request
// costs a cache lookup, not a signature check; the target is under 10%.
// The rate limit is set high enough never to refuse: only its bucket
// lookup is measured.
func BenchmarkAuth(b *testing.B) {
	modes := []struct {
		name string
		auth bool
	}{{"Off", false}, {"JWT", true}}
	for _, mode := range modes {
		engine := func(b *testing.B, pages *pagecache.Cache) (*route.Engine, *pigeonhole.Service, []ut.Header) {
			cfg := gateway.Config{Pages: pages}
			var headers []ut.Header
			store := mustOpenStore(b)
			svc := pigeonhole.NewService(store, pigeonhole.Config{RequireCaller: mode.auth})
			seeder := pigeonhole.NewService(store, pigeonhole.Config{})
			if mode.auth {
				v, err := jwtauth.New(jwtauth.Config{Secret: testSecret, Subject: pigeonhole.ValidateMemberID})
				if err != nil {
					b.Fatal(err)
				}
				cfg.Auth = v
				cfg.SendLimit = gateway.Limit{Rate: 1e9, Burst: 1e9}
				cfg.PullLimit = gateway.Limit{Rate: 1e9, Burst: 1e9}
				headers = append(headers, header("Authorization", bearer(mustToken(b, "a1", time.Hour))))
			}
			return newEngine(b, svc, cfg), seeder, append(headers, header("Content-Type", "application/json"))
		}
		b.Run("Send/"+mode.name, func(b *testing.B) {
			e, _, headers := engine(b, nil)
			body := `{"chat":"a1:a2","text":"a typical line of chat, about sixty bytes long","sender":"a1"}`
			b.ReportAllocs()
			for b.Loop() {
				if w := ut.PerformRequest(e, "POST", "/api/send", &ut.Body{Body: strings.NewReader(body), Len: len(body)}, headers...); w.Code != 200 {
					b.Fatalf("send: %d %s", w.Code, w.Body.String())
				}
			}
		})
		for _, pull := range []struct {
			name  string
			pages *pagecache.Cache
		}{{"Pull", nil}, {"PullFromPageCache", pagecache.New(1 << 20)}} {
			b.Run(pull.name+"/"+mode.name, func(b *testing.B) {
				e, svc, headers := engine(b, pull.pages)
				body := seedHistory(b, svc)
				b.ReportAllocs()
				for b.Loop() {
					w := ut.PerformRequest(e, "GET", "/api/pull", &ut.Body{Body: strings.NewReader(body), Len: len(body)}, headers...)
					if w.Code != 200 {
						b.Fatalf("pull: %d %s", w.Code, w.Body.String())
					}
				}
			})
		}
	}
}
