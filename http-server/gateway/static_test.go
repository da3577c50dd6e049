package gateway_test

import (
	"strings"
	"testing"

	"github.com/cloudwego/hertz/pkg/common/ut"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/web"
)

func TestWebClient(t *testing.T) {
	files, err := web.Files()
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, mustService(t), gateway.Config{Web: files})

	t.Run("IndexServedWithPolicy", func(t *testing.T) {
		w := ut.PerformRequest(e, "GET", "/", nil)
		res := w.Result()
		if got, want := res.StatusCode(), 200; got != want {
			t.Fatalf("status: got %d, want %d", got, want)
		}
		if got := string(res.Header.ContentType()); !strings.HasPrefix(got, "text/html") {
			t.Errorf("content type: got %q, want text/html", got)
		}
		if got := string(res.Header.Peek("Content-Security-Policy")); got != web.ContentSecurityPolicy {
			t.Errorf("policy: got %q, want %q", got, web.ContentSecurityPolicy)
		}
		if got, want := string(res.Header.Peek("X-Content-Type-Options")), "nosniff"; got != want {
			t.Errorf("X-Content-Type-Options: got %q, want %q", got, want)
		}
		if !strings.Contains(string(res.Body()), `src="/static/app.js"`) {
			t.Errorf("index does not load the client's module")
		}
	})

	t.Run("ModulesAreJavaScript", func(t *testing.T) {
		w := ut.PerformRequest(e, "GET", "/static/app.js", nil)
		res := w.Result()
		if got := string(res.Header.ContentType()); !strings.HasPrefix(got, "text/javascript") {
			t.Errorf("content type: got %q, want text/javascript", got)
		}
	})

	t.Run("RevalidatedByETag", func(t *testing.T) {
		first := ut.PerformRequest(e, "GET", "/static/style.css", nil).Result()
		etag := string(first.Header.Peek("ETag"))
		if etag == "" {
			t.Fatal("no ETag")
		}
		again := ut.PerformRequest(e, "GET", "/static/style.css", nil, ut.Header{Key: "If-None-Match", Value: etag}).Result()
		if got, want := again.StatusCode(), 304; got != want {
			t.Errorf("status with a matching If-None-Match: got %d, want %d", got, want)
		}
		if len(again.Body()) != 0 {
			t.Errorf("a 304 carries a body of %d bytes", len(again.Body()))
		}
	})

	t.Run("UnknownStaticFileIsJSON404", func(t *testing.T) {
		res := ut.PerformRequest(e, "GET", "/static/nothing.js", nil).Result()
		if got, want := res.StatusCode(), 404; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
		if !strings.Contains(string(res.Body()), `"not_found"`) {
			t.Errorf("body: %s", res.Body())
		}
	})
}
