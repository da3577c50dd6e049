package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol/consts"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Codes of conditions that exist only in HTTP. They never reach the
// service, so they are not part of pigeonhole's closed set.
const (
	// CodeMethodNotAllowed: the path exists, but not for this method (405).
	CodeMethodNotAllowed pigeonhole.Code = "method_not_allowed"
	// CodeUnsupportedMediaType: a body whose Content-Type the gateway
	// cannot decode (415).
	CodeUnsupportedMediaType pigeonhole.Code = "unsupported_media_type"
	// CodeNotImplemented: a request method the gateway does not know (501).
	CodeNotImplemented pigeonhole.Code = "not_implemented"
)

// statusByCode is the one table from error code to HTTP status.
var statusByCode = map[pigeonhole.Code]int{
	pigeonhole.CodeInvalidArgument:  consts.StatusBadRequest,
	pigeonhole.CodeTooLarge:         consts.StatusRequestEntityTooLarge,
	pigeonhole.CodeNotFound:         consts.StatusNotFound,
	pigeonhole.CodeConflict:         consts.StatusConflict,
	pigeonhole.CodeUnauthenticated:  consts.StatusUnauthorized,
	pigeonhole.CodePermissionDenied: consts.StatusForbidden,
	pigeonhole.CodeRateLimited:      consts.StatusTooManyRequests,
	pigeonhole.CodeUnavailable:      consts.StatusServiceUnavailable,
	pigeonhole.CodeDeadlineExceeded: consts.StatusGatewayTimeout,
	pigeonhole.CodeInternal:         consts.StatusInternalServerError,
	CodeMethodNotAllowed:            consts.StatusMethodNotAllowed,
	CodeUnsupportedMediaType:        consts.StatusUnsupportedMediaType,
	CodeNotImplemented:              consts.StatusNotImplemented,
	CodeHeaderTooLarge:              consts.StatusRequestHeaderFieldsTooLarge,
}

// StatusCode returns the HTTP status for an error code; codes it does not
// know are 500.
func StatusCode(code pigeonhole.Code) int {
	if status, ok := statusByCode[code]; ok {
		return status
	}
	return consts.StatusInternalServerError
}

// classify returns the code and client-safe message of err: those of its
// *pigeonhole.Error, except that a bare context deadline (the gateway's own
// RequestTimeout, when a MessageService does not translate it) is
// deadline_exceeded rather than internal.
func classify(err error) (pigeonhole.Code, string) {
	var perr *pigeonhole.Error
	if !errors.As(err, &perr) && errors.Is(err, context.DeadlineExceeded) {
		return pigeonhole.CodeDeadlineExceeded, "the request timed out"
	}
	return pigeonhole.ErrorCode(err), pigeonhole.ErrorMessage(err)
}

// fail answers err: the status from the table, a body with the code and the
// client-safe message (pigeonhole.ErrorMessage, never err.Error()),
// Retry-After on 429 and 503 (unless already set), and the invalid_token
// challenge on 401 (unless a challenge is already set). A 5xx is logged with the request id and the
// full error, which may hold driver details the client never sees.
func (g *gateway) fail(c context.Context, ctx *app.RequestContext, err error) {
	code, message := classify(err)
	status := StatusCode(code)
	ctx.Set(codeKey, string(code))
	if status == consts.StatusServiceUnavailable || (status == consts.StatusTooManyRequests && len(ctx.Response.Header.Peek("Retry-After")) == 0) {
		ctx.Response.Header.Set("Retry-After", "1")
	}
	if status == consts.StatusUnauthorized && len(ctx.Response.Header.Peek("WWW-Authenticate")) == 0 {
		ctx.Response.Header.Set("WWW-Authenticate", challengeInvalidToken)
	}
	if status >= 500 {
		g.log.LogAttrs(c, slog.LevelError, "request failed",
			slog.String("request_id", RequestID(c)),
			slog.String("method", string(ctx.Request.Header.Method())),
			slog.String("path", string(ctx.Request.URI().Path())),
			slog.Int("status", status),
			slog.String("code", string(code)),
			slog.String("error", err.Error()),
		)
	}
	writeError(ctx, status, code, message)
}

// recovered answers a handler's panic with 500 internal and logs the panic
// value and stack. Whatever the handler had written is discarded.
func (g *gateway) recovered(c context.Context, ctx *app.RequestContext, r any) {
	g.log.LogAttrs(c, slog.LevelError, "handler panicked",
		slog.String("request_id", RequestID(c)),
		slog.String("method", string(ctx.Request.Header.Method())),
		slog.String("path", string(ctx.Request.URI().Path())),
		slog.String("panic", fmt.Sprint(r)),
		slog.String("stack", string(debug.Stack())),
	)
	ctx.Abort()
	ctx.Set(codeKey, string(pigeonhole.CodeInternal))
	ctx.Response.Reset()
	ctx.Response.Header.Set(HeaderRequestID, RequestID(c))
	writeError(ctx, consts.StatusInternalServerError, pigeonhole.CodeInternal, "internal error")
}

// invalidf is an invalid_argument error for input the gateway cannot bind.
func invalidf(format string, args ...any) error {
	return pigeonhole.Errorf(pigeonhole.CodeInvalidArgument, format, args...)
}

// clip shortens client input echoed in a message to at most n bytes,
// cutting on a rune boundary, so a huge value never comes back whole.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
