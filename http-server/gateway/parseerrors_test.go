package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestErrorStatus(t *testing.T) {
	for head, want := range map[string]int{
		"HTTP/1.1 431 Request Header Fields Too Large\r\n":  431,
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n": 400,
		"HTTP/1.0 408 Request Timeout\r\n":                  408,
		"HTTP/1.1 100 Continue\r\n\r\n":                     0,
		"HTTP/1.1 200 OK\r\n":                               0,
		"Error when parsing request":                        0,
		"HTTP/1.1 4":                                        0,
	} {
		got, ok := errorStatus([]byte(head))
		if !ok {
			got = 0
		}
		if got != want {
			t.Errorf("errorStatus(%q): got %d, want %d", head, got, want)
		}
	}
}

func TestJSONAnswer(t *testing.T) {
	c := &answerConn{maxHeaderBytes: 16 << 10}
	for status, wantCode := range map[int]string{
		431: "header_too_large", 400: "invalid_argument", 413: "too_large", 408: "invalid_argument", 418: "invalid_argument",
	} {
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(c.jsonAnswer(status))), nil)
		if err != nil {
			t.Fatalf("answer to %d does not parse: %v", status, err)
		}
		body, _ := io.ReadAll(resp.Body)
		var e struct{ Code, Message string }
		if err := json.Unmarshal(body, &e); err != nil || e.Code != wantCode || e.Message == "" {
			t.Errorf("answer to %d: body %s (%v), want code %s", status, body, err, wantCode)
		}
		if got, want := resp.StatusCode, StatusCode(pigeonhole.Code(e.Code)); got != want {
			t.Errorf("answer to %d: status %d, want %d for %s", status, got, want, e.Code)
		}
		if !resp.Close || resp.Header.Get(HeaderRequestID) == "" {
			t.Errorf("answer to %d: close %v, request id %q", status, resp.Close, resp.Header.Get(HeaderRequestID))
		}
	}
}
