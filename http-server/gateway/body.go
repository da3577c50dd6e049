package gateway

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"

	"github.com/cloudwego/hertz/pkg/app"
	"github.com/cloudwego/hertz/pkg/protocol"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// bodyKind is how a request's fields are encoded.
type bodyKind uint8

const (
	bodyNone      bodyKind = iota // no body: the query string
	bodyJSON                      // application/json, */*+json, or no Content-Type
	bodyProtobuf                  // application/x-protobuf, application/protobuf
	bodyForm                      // application/x-www-form-urlencoded
	bodyMultipart                 // multipart/form-data
	bodyUnsupported
)

// readRequest returns the request's body, bounded by maxBody, and how it
// is encoded. Errors: too_large, unsupported_media_type, invalid_argument.
func readRequest(ctx *app.RequestContext, maxBody int) (bodyKind, []byte, error) {
	contentType := ctx.Request.Header.ContentType()
	kind := kindOf(contentType)
	if kind == bodyUnsupported && ctx.Request.Header.ContentLength() > 0 {
		return 0, nil, unsupported(contentType) // refuse before reading it
	}
	body, err := readBody(ctx, maxBody)
	switch {
	case err != nil:
		return 0, nil, err
	case len(body) == 0:
		return bodyNone, nil, nil
	case kind == bodyUnsupported:
		return 0, nil, unsupported(contentType)
	case kind == bodyForm && startsWithBrace(body):
		// `curl -d '{…}'` labels JSON as a form; no form starts with '{'
		// meaningfully, so take it for what it is.
		return bodyJSON, body, nil
	}
	return kind, body, nil
}

// readBody returns the whole body, or too_large once it passes maxBody.
//
// With streamed bodies (New's server), Hertz has read at most 8 KiB before
// the handler runs, so a body of any size is refused here after reading at
// most maxBody+1 bytes (none when Content-Length tells), and the answer is
// JSON. The response then closes the connection, so the client stops
// sending; Hertz discards what is still on the wire after writing it. A
// body Hertz read whole (up to 8 KiB, or any body on an engine without
// streaming) is used in place, with no copy.
func readBody(ctx *app.RequestContext, maxBody int) ([]byte, error) {
	req := &ctx.Request
	length := req.Header.ContentLength()
	if length > maxBody {
		ctx.SetConnectionClose()
		return nil, tooLarge(maxBody)
	}
	if !req.IsBodyStream() {
		body := req.Body()
		if len(body) > maxBody {
			return nil, tooLarge(maxBody)
		}
		return body, nil
	}
	if read := req.BodyBytes(); length >= 0 && len(read) == length {
		return read, nil
	}
	var body []byte
	var err error
	if length >= 0 {
		body = make([]byte, length)
		_, err = io.ReadFull(req.BodyStream(), body)
	} else { // chunked: the size is known only at the end
		body, err = io.ReadAll(io.LimitReader(req.BodyStream(), int64(maxBody)+1))
	}
	switch {
	case err != nil:
		return nil, invalidf("the request body could not be read: it ended early or timed out")
	case len(body) > maxBody:
		ctx.SetConnectionClose()
		return nil, tooLarge(maxBody)
	}
	return body, nil
}

// kindOf maps a Content-Type header to a body kind; parameters such as
// charset are ignored and no Content-Type at all is taken as JSON.
func kindOf(contentType []byte) bodyKind {
	media := contentType
	if i := bytes.IndexByte(media, ';'); i >= 0 {
		media = media[:i]
	}
	media = bytes.TrimSpace(media)
	switch {
	case len(media) == 0,
		bytes.EqualFold(media, []byte("application/json")),
		len(media) > 5 && bytes.EqualFold(media[len(media)-5:], []byte("+json")):
		return bodyJSON
	case bytes.EqualFold(media, []byte(contentTypeProtobuf)),
		bytes.EqualFold(media, []byte(contentTypeProtoAlt)):
		return bodyProtobuf
	case bytes.EqualFold(media, []byte("application/x-www-form-urlencoded")):
		return bodyForm
	case bytes.EqualFold(media, []byte("multipart/form-data")):
		return bodyMultipart
	}
	return bodyUnsupported
}

func startsWithBrace(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

func tooLarge(maxBody int) error {
	return pigeonhole.Errorf(pigeonhole.CodeTooLarge, "the request body is larger than the limit of %d bytes", maxBody)
}

func unsupported(contentType []byte) error {
	return pigeonhole.Errorf(CodeUnsupportedMediaType,
		"Content-Type %s is not supported; use application/json, application/x-protobuf, "+
			"application/x-www-form-urlencoded or multipart/form-data", pigeonhole.Quote(string(contentType)))
}

// fields looks up the value of a form or query field; "" when absent.
type fields interface {
	field(name string) string
}

// formFields returns the fields of a bodiless request (its query string)
// or of a form body. Errors: invalid_argument for a broken multipart body.
func formFields(ctx *app.RequestContext, kind bodyKind, body []byte) (fields, error) {
	switch kind {
	case bodyForm:
		args := new(protocol.Args)
		args.ParseBytes(body)
		return argsFields{args}, nil
	case bodyMultipart:
		_, params, err := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
		if err != nil || params["boundary"] == "" {
			return nil, invalidf("multipart/form-data needs a boundary parameter in Content-Type")
		}
		// The body is already bounded by maxBody, so it all fits in memory
		// and nothing is written to temporary files.
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(int64(len(body)) + 1)
		if err != nil {
			return nil, invalidf("invalid multipart/form-data body")
		}
		defer form.RemoveAll() //nolint:errcheck
		return multipartFields(form.Value), nil
	}
	return argsFields{ctx.QueryArgs()}, nil
}

type argsFields struct{ args *protocol.Args }

func (f argsFields) field(name string) string { return string(f.args.Peek(name)) }

type multipartFields map[string][]string

func (f multipartFields) field(name string) string {
	if v := f[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}
