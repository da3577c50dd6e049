package gateway

import (
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// protojsonSend and protojsonPull decode body as the gateway did before
// the flat decoders, with protojson alone.
func protojsonSend(body []byte) (pigeonhole.SendRequest, error) {
	var in pb.SendRequest
	if err := jsonInput.Unmarshal(body, &in); err != nil {
		return pigeonhole.SendRequest{}, err
	}
	return pigeonhole.SendRequest{Chat: in.Chat, Text: in.Text, Sender: in.Sender, ClientMsgID: in.ClientMsgId}, nil
}

func protojsonPull(body []byte) (pigeonhole.PullRequest, error) {
	var in pb.PullRequest
	if err := jsonInput.Unmarshal(body, &in); err != nil {
		return pigeonhole.PullRequest{}, err
	}
	return pigeonhole.PullRequest{Chat: in.Chat, Cursor: in.Cursor, Limit: in.Limit, Reverse: in.Reverse,
		Wait: time.Duration(in.WaitMs) * time.Millisecond}, nil
}

// flatBodies are bodies as clients send them: the flat decoders must take
// every one.
var flatBodies = []string{
	`{}`,
	`{"chat":"a:b","text":"hello","sender":"a"}`,
	` { "chat" : "a:b" ,	"text":"héllo, wörld 👋", "sender":"a", "client_msg_id":"m-1" } ` + "\r\n",
	`{"chat":"a:b","text":"","sender":"a","clientMsgId":"m-2"}`,
	`{"chat":"a:b","cursor":0,"limit":10,"reverse":true}`,
	`{"chat":"a:b","cursor":1796332863225284,"limit":10}`,
	`{"chat":"a:b","cursor":-1,"limit":-5,"reverse":false,"wait_ms":30000}`,
	`{"chat":"a:b","waitMs":2147483647,"cursor":9223372036854775807}`,
	`{"chat":"a:b","cursor":-9223372036854775808,"limit":-2147483648}`,
}

// otherBodies are bodies the flat decoders leave to protojson, which
// accepts some and refuses others.
var otherBodies = []string{
	``, ` `, `[]`, `null`, `{`, `}`, `{}x`, `{},`, `{"chat":"a:b",}`, `{,}`,
	`{"chat":"a\"b"}`, `{"chat":"a\u003ab"}`, `{"chat":"a` + "\x01" + `b"}`, `{"chat":"a` + "\xff" + `b"}`,
	`{"chat":null}`, `{"chat":1}`, `{"chat":true}`, `{"chat":["a:b"]}`, `{"chat":{}}`,
	`{"cursor":"12"}`, `{"cursor":1e3}`, `{"cursor":1.0}`, `{"cursor":-0}`, `{"cursor":01}`, `{"cursor":-}`,
	`{"cursor":+1}`, `{"limit":2147483648}`, `{"cursor":9223372036854775808}`, `{"reverse":"true"}`,
	`{"reverse":tru}`, `{"reverse":True}`, `{"wait_ms":1,"waitMs":2}`, `{"chat":"a:b","chat":"c:d"}`,
	`{"client_msg_id":"x","clientMsgId":"y"}`, `{"unknown":1}`, `{"chat":"a:b","extra":{"n":[1,2]}}`,
	"\ufeff{}", `{"chat" "a:b"}`, `{"chat":"a:b" "text":"t"}`, `{chat:"a:b"}`,
}

// agrees checks that when flat takes body, protojson decodes it to the
// same request.
func agrees[R comparable](t *testing.T, name string, body []byte, flat func([]byte) (R, bool), protojson func([]byte) (R, error)) {
	t.Helper()
	got, ok := flat(body)
	if !ok {
		return
	}
	want, err := protojson(body)
	if err != nil {
		t.Fatalf("%s took %q, which protojson refuses: %v", name, body, err)
	}
	if got != want {
		t.Fatalf("%s(%q) = %+v, protojson %+v", name, body, got, want)
	}
}

func checkFlatAgrees(t *testing.T, body []byte) {
	t.Helper()
	agrees(t, "flatSend", body, flatSend, protojsonSend)
	agrees(t, "flatPull", body, flatPull, protojsonPull)
}

func TestFlatJSONTakesClientBodies(t *testing.T) {
	for _, body := range flatBodies {
		_, sendOK := flatSend([]byte(body))
		_, pullOK := flatPull([]byte(body))
		if !sendOK && !pullOK {
			t.Errorf("neither flat decoder takes %q", body)
		}
		checkFlatAgrees(t, []byte(body))
	}
	for _, body := range otherBodies {
		_, sendOK := flatSend([]byte(body))
		_, pullOK := flatPull([]byte(body))
		if sendOK || pullOK {
			t.Errorf("a flat decoder takes %q (send %v, pull %v), which is protojson's", body, sendOK, pullOK)
		}
	}
}

// FuzzFlatJSON checks that whatever body a flat decoder takes, protojson
// takes too and decodes to the same request.
func FuzzFlatJSON(f *testing.F) {
	for _, body := range append(append([]string{}, flatBodies...), otherBodies...) {
		f.Add([]byte(body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFlatAgrees(t, body) })
}

// BenchmarkBindPullJSON decodes a newest-page pull's JSON body, as the
// gateway does now and with protojson alone, as before.
func BenchmarkBindPullJSON(b *testing.B) {
	body := []byte(`{"chat":"p1:q1","cursor":0,"limit":10,"reverse":true}`)
	b.Run("Flat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := flatPull(body); !ok {
				b.Fatal("not flat")
			}
		}
	})
	b.Run("Protojson", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := protojsonPull(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
