package gateway

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/common/bytebufferpool"
	"github.com/cloudwego/hertz/pkg/protocol/consts"
	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Media types the gateway speaks.
const (
	contentTypeJSON     = "application/json; charset=utf-8"
	contentTypeProtobuf = "application/x-protobuf"
	contentTypeProtoAlt = "application/protobuf"
)

// Responses are JSON unless the client's Accept names a protobuf media
// type; then they are the idl_http.proto message, in the type it named.

// protobufAccepted returns the protobuf media type the client accepts, if
// any. Quality values are not weighed: naming protobuf at all asks for it.
func protobufAccepted(ctx *app.RequestContext) (string, bool) {
	accept := ctx.Request.Header.Peek(consts.HeaderAccept)
	switch {
	case len(accept) == 0:
		return "", false
	case bytes.Contains(accept, []byte(contentTypeProtobuf)):
		return contentTypeProtobuf, true
	case bytes.Contains(accept, []byte(contentTypeProtoAlt)):
		return contentTypeProtoAlt, true
	}
	return "", false
}

// writeSendResponse answers a successful send.
func writeSendResponse(ctx *app.RequestContext, m pigeonhole.Message) {
	if ct, ok := protobufAccepted(ctx); ok {
		writeProtobuf(ctx, consts.StatusOK, ct, &pb.SendResponse{SendTime: m.SendTime, Chat: m.Chat.String()})
		return
	}
	body := jsonBody(ctx, consts.StatusOK)
	body.B = appendSendResponse(body.B, m)
}

// writePullResponse answers a successful pull.
func writePullResponse(ctx *app.RequestContext, page pigeonhole.Page) {
	setPullCaching(ctx, page.Final)
	if ct, ok := protobufAccepted(ctx); ok {
		writeProtobuf(ctx, consts.StatusOK, ct, pbPullResponse(page))
		return
	}
	body := jsonBody(ctx, consts.StatusOK)
	body.B = appendPullResponse(body.B, page)
}

// writeError answers an error with {"code","message"} or a pb.Error.
func writeError(ctx *app.RequestContext, status int, code pigeonhole.Code, message string) {
	if ct, ok := protobufAccepted(ctx); ok {
		writeProtobuf(ctx, status, ct, &pb.Error{Code: string(code), Message: message})
		return
	}
	body := jsonBody(ctx, status)
	body.B = appendError(body.B, code, message)
}

// jsonBody sets the status and JSON content type and returns the emptied
// response body buffer, so the JSON is appended straight into the buffer
// Hertz writes from, with no copy.
func jsonBody(ctx *app.RequestContext, status int) *bytebufferpool.ByteBuffer {
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType(contentTypeJSON)
	buf := ctx.Response.BodyBuffer()
	buf.Reset()
	return buf
}

func writeProtobuf(ctx *app.RequestContext, status int, contentType string, m proto.Message) {
	buf := ctx.Response.BodyBuffer()
	out, err := proto.MarshalOptions{}.MarshalAppend(buf.B[:0], m)
	if err != nil {
		// Marshalling our own well-formed messages does not fail; if it
		// ever does, the client still gets a JSON answer.
		body := jsonBody(ctx, consts.StatusInternalServerError)
		body.B = appendError(body.B, pigeonhole.CodeInternal, "internal error")
		return
	}
	buf.B = out
	ctx.SetStatusCode(status)
	ctx.Response.Header.SetContentType(contentType)
}

// pbPullResponse converts a page to its wire message.
func pbPullResponse(page pigeonhole.Page) *pb.PullResponse {
	out := &pb.PullResponse{
		Messages:   make([]*pb.Message, len(page.Messages)),
		HasMore:    page.HasMore,
		NextCursor: page.NextCursor,
	}
	for i, m := range page.Messages {
		out.Messages[i] = &pb.Message{Chat: m.Chat.String(), Text: m.Text, Sender: m.Sender, SendTime: m.SendTime}
	}
	return out
}

// The JSON appenders below write the idl_http.proto messages with their
// proto field names, in field order, with int64 as JSON numbers and every
// field present (messages is [] when empty). They are hand-written because
// these are the hot paths: no reflection, one growing buffer.

func appendSendResponse(dst []byte, m pigeonhole.Message) []byte {
	dst = append(dst, `{"send_time":`...)
	dst = strconv.AppendInt(dst, m.SendTime, 10)
	dst = append(dst, `,"chat":`...)
	dst = appendChat(dst, m.Chat)
	return append(dst, '}')
}

func appendPullResponse(dst []byte, page pigeonhole.Page) []byte {
	size := 64
	for _, m := range page.Messages {
		size += 64 + 2*pigeonhole.MaxMemberIDBytes + len(m.Sender) + len(m.Text)
	}
	if cap(dst)-len(dst) < size {
		grown := make([]byte, len(dst), len(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	dst = append(dst, `{"messages":[`...)
	for i, m := range page.Messages {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"chat":`...)
		dst = appendChat(dst, m.Chat)
		dst = append(dst, `,"text":`...)
		dst = appendString(dst, m.Text)
		dst = append(dst, `,"sender":`...)
		dst = appendString(dst, m.Sender)
		dst = append(dst, `,"send_time":`...)
		dst = strconv.AppendInt(dst, m.SendTime, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"has_more":`...)
	dst = strconv.AppendBool(dst, page.HasMore)
	dst = append(dst, `,"next_cursor":`...)
	dst = strconv.AppendInt(dst, page.NextCursor, 10)
	return append(dst, '}')
}

func appendError(dst []byte, code pigeonhole.Code, message string) []byte {
	dst = append(dst, `{"code":`...)
	dst = appendString(dst, string(code))
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, message)
	return append(dst, '}')
}

// appendChat appends the canonical chat id as a JSON string without
// building it first.
func appendChat(dst []byte, chat pigeonhole.ChatID) []byte {
	a, b := chat.Members()
	if a == "" || chat.IsGroup() {
		return appendString(dst, a)
	}
	dst = append(dst, '"')
	dst = appendEscaped(dst, a)
	dst = append(dst, ':')
	dst = appendEscaped(dst, b)
	return append(dst, '"')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// plainASCII marks the bytes appendEscaped copies as they are.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendEscaped appends the inside of a JSON string holding s. It escapes
// what JSON requires (quote, backslash, control characters) plus U+2028
// and U+2029, which JavaScript treats as line ends, and writes each
// invalid UTF-8 byte as \ufffd, so its output is byte for byte what
// encoding/json writes with HTML escaping off.
func appendEscaped(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	start := 0 // s[start:i] is pending, needing no escape
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(dst, s[start:]...)
}
