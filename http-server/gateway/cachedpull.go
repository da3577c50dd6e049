package gateway

import (
	"encoding/binary"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Cache-Control of pull answers. A final page (pigeonhole.Page.Final) never
// changes, so any HTTP cache may keep it; any other page (a tail, the
// newest messages) must be fetched again each time. Shared caches still
// skip final pages of requests that carry Authorization, as HTTP requires
// without "public".
const (
	headerCacheControl = "Cache-Control"
	cacheControlFinal  = "max-age=31536000, immutable"
	cacheControlOpen   = "no-cache"
)

// setPullCaching tells HTTP caches how long they may keep a pull's answer,
// and that it depends on the request's Accept (JSON or protobuf), so that
// a cache never hands one encoding to a client that asked for the other.
func setPullCaching(ctx *app.RequestContext, final bool) {
	if final {
		ctx.Response.Header.Set(headerCacheControl, cacheControlFinal)
	} else {
		ctx.Response.Header.Set(headerCacheControl, cacheControlOpen)
	}
	ctx.Response.Header.Set("Vary", "Accept")
}

// pageKeyBytes is the size of a page key without its chat.
const pageKeyBytes = 1 + 1 + 4 + 8

// appendPageKey appends the page cache's key for req answered in
// contentType ("" for JSON): every input the answer depends on, as bound,
// with the chat last and whole, so distinct requests never share a key.
// The chat is as the client wrote it; "a:b" and "b:a" are separate
// entries of one page. The caller (none when authentication is off) is
// part of the key, so a page is only ever answered to a caller the
// service let read it.
func appendPageKey(dst []byte, req pigeonhole.PullRequest, caller pigeonhole.Caller, contentType string) []byte {
	var encoding byte
	switch contentType {
	case contentTypeProtobuf:
		encoding = 1
	case contentTypeProtoAlt:
		encoding = 2
	}
	var reverse byte
	if req.Reverse {
		reverse = 1
	}
	dst = append(dst, encoding, reverse)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(req.Limit))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(req.Cursor))
	dst = append(dst, byte(len(caller.Member)))
	dst = append(dst, caller.Member...)
	return append(dst, req.Chat...)
}

// writeCachedPull answers a pull with a body kept by the page cache.
func writeCachedPull(ctx *app.RequestContext, contentType string, body []byte) {
	if contentType == "" {
		contentType = contentTypeJSON
	}
	ctx.SetStatusCode(consts.StatusOK)
	ctx.Response.Header.SetContentType(contentType)
	setPullCaching(ctx, true)
	ctx.Response.SetBodyRaw(body)
}
