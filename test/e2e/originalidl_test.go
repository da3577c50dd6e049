package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/client/genericclient"
	"github.com/cloudwego/kitex/pkg/generic"
	"github.com/cloudwego/kitex/transport"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// originalIDL is the original assignment's Thrift IDL, original fields
// only. The client is built from it at run time (Kitex generic call), so
// no second copy of generated code is kept.
var originalIDL = filepath.Join("..", "testdata", "original_idl_rpc.thrift")

// TestOriginalIDLClient talks to the real rpc-server as a gateway built
// from the original IDL would: its structs lack every field added since,
// and it uses plain Thrift transports, not TTHeader.
func TestOriginalIDLClient(t *testing.T) {
	t.Parallel()
	rpc := harness.StartRPCServer(t, harness.RPCOptions{})
	transports := []struct {
		name     string
		protocol transport.Protocol
	}{
		{"Buffered", transport.PurePayload}, // Kitex's default, as the original gateway used
		{"Framed", transport.Framed},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			call := originalClient(t, rpc.Addr, tr.protocol)
			chat := "orig" + tr.name + ":peer"
			sender := "orig" + tr.name
			before := time.Now().UnixMicro()

			t.Run("SendSucceeds", func(t *testing.T) {
				// The original gateway may set SendTime; the service ignores it.
				msg := map[string]any{"Chat": chat, "Text": "hello", "Sender": sender, "SendTime": int64(42)}
				resp := call(t, "Send", map[string]any{"message": msg})
				if resp["Code"] != int32(0) {
					t.Fatalf("Send: Code %v, Msg %q; want Code 0", resp["Code"], resp["Msg"])
				}
				if msg, _ := resp["Msg"].(string); msg == "" {
					t.Errorf("Send: empty Msg")
				}
			})

			t.Run("PullReturnsTheMessage", func(t *testing.T) {
				resp := call(t, "Pull", map[string]any{"Chat": chat, "Cursor": int64(0), "Limit": int32(10), "Reverse": false})
				if resp["Code"] != int32(0) {
					t.Fatalf("Pull: Code %v, Msg %q; want Code 0", resp["Code"], resp["Msg"])
				}
				msgs, _ := resp["Messages"].([]any)
				if len(msgs) != 1 {
					t.Fatalf("Pull: Messages = %v, want one message", resp["Messages"])
				}
				m, _ := msgs[0].(map[string]any)
				if m["Chat"] != chat || m["Text"] != "hello" || m["Sender"] != sender {
					t.Errorf("Pull: message %v, want chat %q, text hello, sender %q", m, chat, sender)
				}
				if st, _ := m["SendTime"].(int64); st < before {
					t.Errorf("Pull: SendTime %v, want the service's clock in µs (at least %d), not the client's 42", m["SendTime"], before)
				}
				if hasMore, ok := resp["HasMore"].(bool); !ok || hasMore {
					t.Errorf("Pull: HasMore = %#v, want present and false", resp["HasMore"])
				}
				if next, ok := resp["NextCursor"].(int64); !ok || next <= before {
					t.Errorf("Pull: NextCursor = %#v, want present, past the message", resp["NextCursor"])
				}
			})

			t.Run("NonMemberSenderIsABusinessError", func(t *testing.T) {
				msg := map[string]any{"Chat": chat, "Text": "hi", "Sender": "stranger"}
				resp := call(t, "Send", map[string]any{"message": msg})
				if resp["Code"] == int32(0) {
					t.Fatalf("Send from a non-member: Code 0 (%q), want a business error", resp["Msg"])
				}
				if msg, _ := resp["Msg"].(string); !strings.Contains(msg, "stranger") {
					t.Errorf("Send from a non-member: Msg %q, want it to name the sender", msg)
				}
			})

			t.Run("AbsentReverseMeansForward", func(t *testing.T) {
				for _, text := range []string{"second", "third"} {
					msg := map[string]any{"Chat": chat, "Text": text, "Sender": sender}
					if resp := call(t, "Send", map[string]any{"message": msg}); resp["Code"] != int32(0) {
						t.Fatalf("Send: Code %v, Msg %q", resp["Code"], resp["Msg"])
					}
				}
				resp := call(t, "Pull", map[string]any{"Chat": chat, "Cursor": int64(0), "Limit": int32(10)})
				msgs, _ := resp["Messages"].([]any)
				var texts []string
				for _, m := range msgs {
					text, _ := m.(map[string]any)["Text"].(string)
					texts = append(texts, text)
				}
				if got, want := strings.Join(texts, ","), "hello,second,third"; got != want {
					t.Fatalf("Pull without Reverse: texts %s, want %s (oldest first)", got, want)
				}
			})
		})
	}
}

// originalClient returns a function calling method of the original
// IMService on addr over protocol, failing the test on transport errors.
func originalClient(t *testing.T, addr string, protocol transport.Protocol) func(t *testing.T, method string, req map[string]any) map[string]any {
	t.Helper()
	provider, err := generic.NewThriftFileProvider(originalIDL)
	if err != nil {
		t.Fatalf("parsing %s: %v", originalIDL, err)
	}
	g, err := generic.MapThriftGeneric(provider)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := genericclient.NewClient("IMService", g,
		client.WithHostPorts(addr),
		client.WithTransportProtocol(protocol),
		client.WithRPCTimeout(10*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return func(t *testing.T, method string, req map[string]any) map[string]any {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		resp, err := cli.GenericCall(ctx, method, req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		m, ok := resp.(map[string]any)
		if !ok {
			t.Fatalf("%s: response is %T, want map[string]any", method, resp)
		}
		return m
	}
}
