package gateway

import (
	"fmt"
	"testing"

	"github.com/cloudwego/hertz/pkg/app"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// BenchmarkAppendPullResponse encodes a page of 10 messages as JSON.
func BenchmarkAppendPullResponse(b *testing.B) {
	chat, err := pigeonhole.ParseChatID("alice:bob")
	if err != nil {
		b.Fatal(err)
	}
	page := pigeonhole.Page{HasMore: true, NextCursor: 1700000000000011}
	for i := range 10 {
		page.Messages = append(page.Messages, pigeonhole.Message{
			Chat: chat, Sender: "alice", SendTime: 1700000000000000 + int64(i),
			Text: fmt.Sprintf("message %d: a typical line of chat with \"quotes\" and an emoji 🐦", i),
		})
	}
	buf := appendPullResponse(nil, page)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendPullResponse(buf[:0], page)
	}
}

// BenchmarkBindSendJSON binds a JSON send body from a request context.
func BenchmarkBindSendJSON(b *testing.B) {
	body := []byte(`{"chat":"alice:bob","text":"a typical line of chat, about sixty bytes long","sender":"alice","client_msg_id":"m-123"}`)
	ctx := app.NewContext(0)
	ctx.Request.Header.SetMethod("POST")
	ctx.Request.Header.SetContentTypeBytes([]byte("application/json"))
	ctx.Request.SetBody(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, err := bindSend(ctx, DefaultMaxBodyBytes)
		if err != nil || req.Sender != "alice" {
			b.Fatalf("bind: %+v %v", req, err)
		}
	}
}

// BenchmarkCheckFraming checks the header block of a typical send, as the
// middleware does on every request.
func BenchmarkCheckFraming(b *testing.B) {
	headers := []byte("Host: 127.0.0.1:8080\r\nUser-Agent: load/1.0\r\nContent-Type: application/json\r\n" +
		"Content-Length: 112\r\nX-Request-Id: 0123456789abcdef\r\nAccept: */*\r\n\r\n")
	b.SetBytes(int64(len(headers)))
	b.ReportAllocs()
	for b.Loop() {
		if err := checkFraming(headers, true); err != nil {
			b.Fatal(err)
		}
	}
}
