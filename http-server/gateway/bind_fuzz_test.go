package gateway

import (
	"errors"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"
	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// maxErrorMessageBytes is the most an error message may take, whatever
// the input: a few quoted prefixes and the text around them.
const maxErrorMessageBytes = 1 << 10

// fuzzMaxBody keeps fuzzed bodies able to pass the body limit too.
const fuzzMaxBody = 4 << 10

// bindRequest builds a request with contentType and body (none when
// empty) on url, and binds it both as a send and as a pull, checking
// what every binding error must be: a *pigeonhole.Error with a code of
// the gateway's and a short message.
func bindRequest(t *testing.T, url, contentType string, body []byte) {
	t.Helper()
	for _, bind := range []func(*app.RequestContext) error{
		func(ctx *app.RequestContext) error { _, err := bindSend(ctx, fuzzMaxBody); return err },
		func(ctx *app.RequestContext) error { _, err := bindPull(ctx, fuzzMaxBody); return err },
	} {
		ctx := app.NewContext(0)
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI(url)
		if contentType != "" {
			ctx.Request.Header.SetContentTypeBytes([]byte(contentType))
		}
		if len(body) > 0 {
			ctx.Request.SetBody(body)
		}
		err := bind(ctx)
		if err == nil {
			continue
		}
		var perr *pigeonhole.Error
		if !errors.As(err, &perr) {
			t.Fatalf("binding error %v is not a *pigeonhole.Error", err)
		}
		switch perr.Code {
		case pigeonhole.CodeInvalidArgument, pigeonhole.CodeTooLarge, CodeUnsupportedMediaType:
		default:
			t.Fatalf("binding error code %q (%s)", perr.Code, perr.Message)
		}
		if len(perr.Message) > maxErrorMessageBytes {
			t.Fatalf("binding error message of %d bytes: %.200s…", len(perr.Message), perr.Message)
		}
	}
}

func FuzzBindJSON(f *testing.F) {
	for _, s := range []string{
		`{"chat":"a1:a2","text":"hi","sender":"a1","client_msg_id":"m1"}`,
		`{"chat":"a1:a2","cursor":"12","limit":5,"reverse":true}`,
		`{"cursor":"x"}`, `{"limit":1e99}`, `[1,2]`, `{"text":"\ud800"}`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { bindRequest(t, "/api/send", "application/json", body) })
}

func FuzzBindForm(f *testing.F) {
	for _, s := range []string{
		"chat=a1:a2&text=hi&sender=a1", "cursor=x&limit=99999999999", "reverse=maybe",
		"chat=%zz&&=&text", `{"chat":"a1:a2"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		bindRequest(t, "/api/send", "application/x-www-form-urlencoded", body)
	})
}

func FuzzBindQuery(f *testing.F) {
	for _, s := range []string{
		"chat=a1:a2&cursor=5&limit=2&reverse=false", "cursor=-1", "limit=1%00", "reverse=%ff", "a=b&&&;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) { bindRequest(t, "/api/pull?"+query, "", nil) })
}

func FuzzBindProtobuf(f *testing.F) {
	send, _ := proto.Marshal(&pb.SendRequest{Chat: "a1:a2", Text: "hi", Sender: "a1", ClientMsgId: "m1"})
	pull, _ := proto.Marshal(&pb.PullRequest{Chat: "a1:a2", Cursor: 7, Limit: 3, Reverse: true})
	for _, b := range [][]byte{send, pull, {0x0a, 0xff}, {0xff, 0xff, 0xff}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) { bindRequest(t, "/api/send", contentTypeProtobuf, body) })
}

func FuzzBindMultipart(f *testing.F) {
	form := "--B\r\nContent-Disposition: form-data; name=\"chat\"\r\n\r\na1:a2\r\n--B--\r\n"
	for _, s := range []string{form, "--B\r\n", "--B--", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		bindRequest(t, "/api/send", "multipart/form-data; boundary=B", body)
	})
}
