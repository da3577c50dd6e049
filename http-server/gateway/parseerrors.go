package gateway

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/network"
	"github.com/cloudwego/hertz/pkg/protocol"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	"github.com/cloudwego/hertz/pkg/protocol/http1"
	"github.com/cloudwego/hertz/pkg/protocol/suite"
	"github.com/cloudwego/hertz/pkg/route"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Hertz answers the requests it cannot parse itself — a header over
// MaxHeaderBytes (431), a malformed request line, header or Content-Length
// (400) — with a plain-text body from a fixed error handler that no option
// or hook of Hertz v0.10.4 replaces, before any middleware runs. Hertz's
// one extension point on that path is the protocol server: the gateway
// registers Hertz's own HTTP/1.1 server, built as Hertz builds it, over
// connections whose writes it watches. A response written for a request
// that never reached the middleware is one of those answers, and is
// written as the gateway's JSON error instead. Every such answer closes
// the connection (Hertz's own rule), so nothing after it is read.

// CodeHeaderTooLarge is the gateway-only code of a request whose line and
// headers are over Config.MaxHeaderBytes (431).
const CodeHeaderTooLarge pigeonhole.Code = "header_too_large"

// parseErrorsFactory makes the HTTP/1.1 protocol server of New's engine.
type parseErrorsFactory struct {
	engine         *route.Engine
	maxHeaderBytes int
}

var _ suite.ServerFactory = (*parseErrorsFactory)(nil)

// New is called by Hertz when the engine starts, with every option set. It
// builds the option struct exactly as Hertz's default factory does.
func (f *parseErrorsFactory) New(core suite.Core) (protocol.Server, error) {
	e, o := f.engine, f.engine.GetOptions()
	s := http1.NewServer()
	s.Option = http1.Option{
		StreamRequestBody:             o.StreamRequestBody,
		GetOnly:                       o.GetOnly,
		DisablePreParseMultipartForm:  o.DisablePreParseMultipartForm,
		DisableKeepalive:              o.DisableKeepalive,
		NoDefaultServerHeader:         o.NoDefaultServerHeader,
		MaxRequestBodySize:            o.MaxRequestBodySize,
		MaxHeaderBytes:                o.MaxHeaderBytes,
		IdleTimeout:                   o.IdleTimeout,
		ReadTimeout:                   o.ReadTimeout,
		ServerName:                    e.GetServerName(),
		ContinueHandler:               e.ContinueHandler,
		TLS:                           o.TLS,
		EnableTrace:                   e.IsTraceEnable(),
		HijackConnHandle:              e.HijackConnHandle,
		DisableHeaderNamesNormalizing: o.DisableHeaderNamesNormalizing,
		NoDefaultDate:                 o.NoDefaultDate,
		NoDefaultContentType:          o.NoDefaultContentType,
	}
	if s.IdleTimeout == 0 && e.GetTransporterName() == "standard" {
		s.IdleTimeout = -1 // as Hertz's default factory does
	}
	s.Core = core
	return parseErrorsServer{inner: s, maxHeaderBytes: f.maxHeaderBytes}, nil
}

// parseErrorsServer is Hertz's HTTP/1.1 server over answerConns.
type parseErrorsServer struct {
	inner          protocol.Server
	maxHeaderBytes int
}

// Serve serves conn's requests. When one was refused as malformed, the
// connection ends without an error: the client was answered, and Hertz
// would otherwise log a line per refusal, which a hostile client could use
// to flood the log.
func (s parseErrorsServer) Serve(c context.Context, conn network.Conn) error {
	ac := &answerConn{Conn: conn, maxHeaderBytes: s.maxHeaderBytes}
	err := s.inner.Serve(c, ac)
	if ac.refused {
		return nil
	}
	return err
}

// answerConn is a connection whose answers to requests that never reached
// the middleware are rewritten as JSON errors. Hertz serves a connection's
// requests one after another, from one goroutine, so it needs no lock.
type answerConn struct {
	network.Conn
	maxHeaderBytes int
	// handled: the middleware ran for the request being answered.
	handled bool
	// replaced: Hertz's own answer was replaced; its remaining writes,
	// up to the flush, are dropped.
	replaced bool
	// refused: a request on this connection got one of Hertz's answers.
	refused bool
}

// markHandled records that the middleware runs for ctx's request.
func markHandled(ctx *app.RequestContext) {
	if c, ok := ctx.GetConn().(*answerConn); ok {
		c.handled = true
	}
}

func (c *answerConn) WriteBinary(b []byte) (int, error) {
	if c.replaced {
		return len(b), nil
	}
	if !c.handled {
		if status, ok := errorStatus(b); ok {
			c.replaced, c.refused = true, true
			if _, err := c.Conn.WriteBinary(c.jsonAnswer(status)); err != nil {
				return 0, err
			}
			return len(b), nil
		}
	}
	return c.Conn.WriteBinary(b)
}

func (c *answerConn) Flush() error {
	c.handled, c.replaced = false, false
	return c.Conn.Flush()
}

// errorStatus returns the status of a response head that starts with an
// error status line ("HTTP/1.1 431 …"); 100 Continue, which Hertz also
// writes before the middleware runs, is not one.
func errorStatus(head []byte) (int, bool) {
	if !bytes.HasPrefix(head, []byte("HTTP/1.")) || len(head) < len("HTTP/1.1 400") {
		return 0, false
	}
	status, err := strconv.Atoi(string(head[len("HTTP/1.1 "):len("HTTP/1.1 400")]))
	if err != nil || status < 400 {
		return 0, false
	}
	return status, true
}

// jsonAnswer is the whole JSON error response for one of Hertz's own
// error statuses; it closes the connection, as Hertz's answer did.
func (c *answerConn) jsonAnswer(status int) []byte {
	// Hertz answers a read that timed out with 400 too (netpoll's timeout
	// is not the net.OpError it looks for), so 400 covers both.
	code, message := pigeonhole.CodeInvalidArgument,
		"the request could not be read: malformed request line, header or Content-Length, or it stalled past the read timeout"
	switch status {
	case consts.StatusRequestHeaderFieldsTooLarge:
		code, message = CodeHeaderTooLarge, fmt.Sprintf("the request line and headers are larger than the limit of %d bytes", c.maxHeaderBytes)
	case consts.StatusRequestEntityTooLarge:
		code, message = pigeonhole.CodeTooLarge, "the request body is too large"
	}
	status = StatusCode(code)
	body := appendError(nil, code, message)
	head := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s: %s\r\nConnection: close\r\n\r\n",
		status, consts.StatusMessage(status), contentTypeJSON, len(body), HeaderRequestID, newRequestID())
	return append([]byte(head), body...)
}
