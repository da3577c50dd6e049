package gateway

import (
	"strconv"
	"strings"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Binding turns a request into the service's request type. A request's
// fields come from exactly one place: its body when it has one (JSON,
// protobuf, or a form), else its query string. Binding checks only what
// the wire format itself requires (well-formed JSON, integers that parse);
// every rule about the values is the service's.

// HeaderIdempotencyKey may carry a send's client_msg_id instead of the body.
const HeaderIdempotencyKey = "Idempotency-Key"

// jsonInput accepts what proto3 JSON allows — numeric strings for integers,
// proto or JSON field names — and ignores unknown fields, so clients may
// send fields added after their server was built.
var jsonInput = protojson.UnmarshalOptions{DiscardUnknown: true}

// bindSend reads a send request from ctx. Errors: invalid_argument,
// too_large, unsupported_media_type.
func bindSend(ctx *app.RequestContext, maxBody int) (pigeonhole.SendRequest, error) {
	kind, body, err := readRequest(ctx, maxBody)
	if err != nil {
		return pigeonhole.SendRequest{}, err
	}
	var req pigeonhole.SendRequest
	var flat bool
	if kind == bodyJSON {
		req, flat = flatSend(body)
	}
	switch {
	case flat:
	case kind == bodyJSON || kind == bodyProtobuf:
		var in pb.SendRequest
		if err := unmarshal(kind, body, &in); err != nil {
			return pigeonhole.SendRequest{}, err
		}
		req = pigeonhole.SendRequest{Chat: in.Chat, Text: in.Text, Sender: in.Sender, ClientMsgID: in.ClientMsgId}
	default:
		f, err := formFields(ctx, kind, body)
		if err != nil {
			return pigeonhole.SendRequest{}, err
		}
		req = pigeonhole.SendRequest{
			Chat:        f.field("chat"),
			Text:        f.field("text"),
			Sender:      f.field("sender"),
			ClientMsgID: f.field("client_msg_id"),
		}
		if req.ClientMsgID == "" {
			req.ClientMsgID = f.field("clientMsgId")
		}
	}
	return withIdempotencyKey(ctx, req)
}

// withIdempotencyKey takes client_msg_id from the Idempotency-Key header
// when the body has none. Both, differing, is invalid_argument: guessing
// which one the client meant could store a message twice.
func withIdempotencyKey(ctx *app.RequestContext, req pigeonhole.SendRequest) (pigeonhole.SendRequest, error) {
	key := ctx.Request.Header.Peek(HeaderIdempotencyKey)
	switch {
	case len(key) == 0:
	case req.ClientMsgID == "":
		req.ClientMsgID = string(key)
	case req.ClientMsgID != string(key):
		return pigeonhole.SendRequest{}, invalidf("the %s header %s and client_msg_id %s differ",
			HeaderIdempotencyKey, pigeonhole.Quote(string(key)), pigeonhole.Quote(req.ClientMsgID))
	}
	return req, nil
}

// bindPull reads a pull request from ctx. Errors: invalid_argument,
// too_large, unsupported_media_type.
func bindPull(ctx *app.RequestContext, maxBody int) (pigeonhole.PullRequest, error) {
	kind, body, err := readRequest(ctx, maxBody)
	if err != nil {
		return pigeonhole.PullRequest{}, err
	}
	if kind == bodyJSON {
		if req, ok := flatPull(body); ok {
			return req, nil
		}
	}
	switch kind {
	case bodyJSON, bodyProtobuf:
		var in pb.PullRequest
		if err := unmarshal(kind, body, &in); err != nil {
			return pigeonhole.PullRequest{}, err
		}
		return pigeonhole.PullRequest{Chat: in.Chat, Cursor: in.Cursor, Limit: in.Limit, Reverse: in.Reverse,
			Wait: time.Duration(in.WaitMs) * time.Millisecond}, nil
	}
	f, err := formFields(ctx, kind, body)
	if err != nil {
		return pigeonhole.PullRequest{}, err
	}
	req := pigeonhole.PullRequest{Chat: f.field("chat")}
	if s := f.field("cursor"); s != "" {
		if req.Cursor, err = strconv.ParseInt(s, 10, 64); err != nil {
			return pigeonhole.PullRequest{}, invalidf("cursor must be an integer, got %s", pigeonhole.Quote(s))
		}
	}
	if s := f.field("limit"); s != "" {
		limit, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return pigeonhole.PullRequest{}, invalidf("limit must be a 32-bit integer, got %s", pigeonhole.Quote(s))
		}
		req.Limit = int32(limit)
	}
	if s := f.field("wait_ms"); s != "" {
		wait, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return pigeonhole.PullRequest{}, invalidf("wait_ms must be a 32-bit integer, got %q", clip(s, 32))
		}
		req.Wait = time.Duration(wait) * time.Millisecond
	}
	if s := f.field("reverse"); s != "" {
		if req.Reverse, err = strconv.ParseBool(s); err != nil {
			return pigeonhole.PullRequest{}, invalidf("reverse must be true or false, got %s", pigeonhole.Quote(s))
		}
	}
	return req, nil
}

// unmarshal decodes a JSON or protobuf body into m. The error tells the
// client what is wrong and where, without echoing more than a little of
// its input.
func unmarshal(kind bodyKind, body []byte, m proto.Message) error {
	if kind == bodyProtobuf {
		if err := proto.Unmarshal(body, m); err != nil {
			return invalidf("invalid protobuf body: %s", decodeDetail(err))
		}
		return nil
	}
	if err := jsonInput.Unmarshal(body, m); err != nil {
		return invalidf("invalid JSON body: %s", decodeDetail(err))
	}
	return nil
}

// decodeDetail is a protobuf decoding error without its "proto:" prefix
// (which the library spells with a varying space), clipped.
func decodeDetail(err error) string {
	s := strings.TrimPrefix(err.Error(), "proto:")
	s = strings.TrimLeft(s, " \u00a0")
	return clip(s, 200)
}

// bindMessage reads a JSON or protobuf body into m: the bodies with lists
// (members) have no form encoding. Errors: invalid_argument, too_large,
// unsupported_media_type.
func bindMessage(ctx *app.RequestContext, maxBody int, m proto.Message) error {
	kind, body, err := readRequest(ctx, maxBody)
	if err != nil {
		return err
	}
	if kind != bodyJSON && kind != bodyProtobuf {
		return invalidf("the body must be JSON or protobuf")
	}
	return unmarshal(kind, body, m)
}

// bindInbox reads an inbox request: its query string, or a body. Errors:
// invalid_argument, too_large, unsupported_media_type.
func bindInbox(ctx *app.RequestContext, maxBody int) (pigeonhole.InboxRequest, error) {
	kind, body, err := readRequest(ctx, maxBody)
	if err != nil {
		return pigeonhole.InboxRequest{}, err
	}
	if kind == bodyJSON || kind == bodyProtobuf {
		var in pb.InboxRequest
		if err := unmarshal(kind, body, &in); err != nil {
			return pigeonhole.InboxRequest{}, err
		}
		return pigeonhole.InboxRequest{Member: in.Member, Limit: in.Limit, Cursor: in.Cursor,
			Wait: time.Duration(in.WaitMs) * time.Millisecond}, nil
	}
	f, err := formFields(ctx, kind, body)
	if err != nil {
		return pigeonhole.InboxRequest{}, err
	}
	req := pigeonhole.InboxRequest{Member: f.field("member"), Cursor: f.field("cursor")}
	if s := f.field("limit"); s != "" {
		limit, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return pigeonhole.InboxRequest{}, invalidf("limit must be a 32-bit integer, got %q", clip(s, 32))
		}
		req.Limit = int32(limit)
	}
	if s := f.field("wait_ms"); s != "" {
		wait, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return pigeonhole.InboxRequest{}, invalidf("wait_ms must be a 32-bit integer, got %q", clip(s, 32))
		}
		req.Wait = time.Duration(wait) * time.Millisecond
	}
	return req, nil
}

// bindRead reads a read-marker request from a body of any kind. Errors:
// invalid_argument, too_large, unsupported_media_type.
func bindRead(ctx *app.RequestContext, maxBody int) (pigeonhole.ReadRequest, error) {
	kind, body, err := readRequest(ctx, maxBody)
	if err != nil {
		return pigeonhole.ReadRequest{}, err
	}
	if kind == bodyJSON || kind == bodyProtobuf {
		var in pb.ReadRequest
		if err := unmarshal(kind, body, &in); err != nil {
			return pigeonhole.ReadRequest{}, err
		}
		return pigeonhole.ReadRequest{Chat: in.Chat, Member: in.Member, SendTime: in.SendTime}, nil
	}
	f, err := formFields(ctx, kind, body)
	if err != nil {
		return pigeonhole.ReadRequest{}, err
	}
	req := pigeonhole.ReadRequest{Chat: f.field("chat"), Member: f.field("member")}
	if s := f.field("send_time"); s != "" {
		if req.SendTime, err = strconv.ParseInt(s, 10, 64); err != nil {
			return pigeonhole.ReadRequest{}, invalidf("send_time must be an integer, got %q", clip(s, 32))
		}
	}
	return req, nil
}
