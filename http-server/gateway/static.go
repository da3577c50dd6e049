package gateway

import (
	"bytes"
	"context"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/pigeonhole-im/pigeonhole/http-server/web"
)

// staticEndpoints returns a GET route for every file of the web client.
// Each file is served as it was embedded: with its validator, revalidated on
// every load (no-cache), so a new gateway's client replaces an old one at
// once, and with the client's Content-Security-Policy.
func staticEndpoints(files []web.File) []endpoint {
	endpoints := make([]endpoint, 0, len(files))
	for _, f := range files {
		endpoints = append(endpoints, endpoint{consts.MethodGet, f.Path, serveFile(f)})
	}
	return endpoints
}

func serveFile(f web.File) app.HandlerFunc {
	etag := []byte(f.ETag)
	return func(_ context.Context, ctx *app.RequestContext) {
		h := &ctx.Response.Header
		h.Set("Content-Security-Policy", web.ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.ETag)
		if bytes.Equal(ctx.Request.Header.Peek("If-None-Match"), etag) {
			ctx.SetStatusCode(consts.StatusNotModified)
			return
		}
		ctx.SetStatusCode(consts.StatusOK)
		h.SetContentType(f.ContentType)
		ctx.Response.SetBodyRaw(f.Body)
	}
}
