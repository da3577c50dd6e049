package kitexrpc

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/cloudwego/kitex/pkg/remote"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
)

// sendCall is a Buffered (unframed binary Thrift) Send call of text.
func sendCall(text string) []byte {
	b := binary.BigEndian.AppendUint32(nil, 0x80010001)
	b = binary.BigEndian.AppendUint32(b, 4)
	b = append(b, "Send"...)
	b = binary.BigEndian.AppendUint32(b, 1)
	args := &rpc.IMServiceSendArgs{Req: &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: text}}}
	body := make([]byte, args.BLength())
	args.FastWrite(body)
	return append(b, body...)
}

func TestMeasure(t *testing.T) {
	t.Run("WithinTheBoundAndNothingConsumed", func(t *testing.T) {
		call := sendCall(strings.Repeat("x", 1000))
		in := remote.NewReaderBuffer(call)
		if err := measure(in, len(call)); err != nil {
			t.Fatalf("a call of exactly the bound: %v", err)
		}
		if got := in.ReadLen(); got != 0 {
			t.Fatalf("measure consumed %d bytes", got)
		}
	})
	t.Run("OverTheBound", func(t *testing.T) {
		call := sendCall(strings.Repeat("x", 1000))
		if err := measure(remote.NewReaderBuffer(call), len(call)-1); err == nil {
			t.Fatalf("a call one byte over the bound passed")
		}
	})
	t.Run("AStringClaimingMoreThanTheBound", func(t *testing.T) {
		call := sendCall("x")
		i := strings.Index(string(call), "\x00\x00\x00\x01x") // the text's length and byte
		binary.BigEndian.PutUint32(call[i:], 1<<30)
		err := measure(remote.NewReaderBuffer(call), 1<<20)
		if err == nil || !strings.Contains(err.Error(), "larger than the limit") {
			t.Fatalf("got %v, want refused as too large", err)
		}
	})
	t.Run("NotThriftIsLeftToKitex", func(t *testing.T) {
		if err := measure(remote.NewReaderBuffer([]byte("GET / HTTP/1.1\r\n")), 100); err != nil {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("TruncatedFails", func(t *testing.T) {
		call := sendCall("hello")
		if err := measure(remote.NewReaderBuffer(call[:len(call)-3]), 1<<20); err == nil || errors.Is(err, errTooLarge) {
			t.Fatalf("got %v, want a read error", err)
		}
	})
}

// BenchmarkMeasure is what a Buffered Send of a 1 KB text pays for its
// bound.
func BenchmarkMeasure(b *testing.B) {
	call := sendCall(strings.Repeat("x", 1000))
	b.ReportAllocs()
	for b.Loop() {
		if err := measure(remote.NewReaderBuffer(call), 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}
