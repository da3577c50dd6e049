package hostilerpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// TestOversizedRPCFrames sends the message service, on its RPC port,
// requests that announce 1 GiB and then stream 3 × 200 MB, in each
// transport a client may use. Before the server bounded its frames, it
// read and kept them: 634 MiB of resident memory from one connection, not
// given back. Now a frame that announces more than the largest request
// (MaxRequestBytes) is refused from its length and its connection closed,
// and the service keeps answering.
func TestOversizedRPCFrames(t *testing.T) {
	const announced = 1 << 30
	thriftBegin := func(method string) []byte { // a binary Thrift CALL of method, seq id 1
		b := binary.BigEndian.AppendUint32(nil, 0x80010001)
		b = binary.BigEndian.AppendUint32(b, uint32(len(method)))
		b = append(b, method...)
		return binary.BigEndian.AppendUint32(b, 1)
	}
	for _, tc := range []struct {
		name string
		head []byte
	}{
		{"Framed", append(binary.BigEndian.AppendUint32(nil, announced), thriftBegin("Send")...)},
		{"TTHeader", ttHeaderHead(announced, thriftBegin("Send"))},
		// The flag a multiplexing client sets: served by the multiplexed
		// transport, which cuts whole frames before decoding them.
		{"TTHeader multiplexed", ttHeaderHeadFlags(announced, 1, thriftBegin("Send"))},
		// No frame: the length is that of a string, Send's req.message.Chat.
		{"Buffered", binary.BigEndian.AppendUint32(append(thriftBegin("Send"), 12, 0, 1, 12, 0, 1, 11, 0, 1), announced)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rpc := harness.StartRPCServer(t, harness.RPCOptions{})
			gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}})
			client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
			t.Cleanup(client.CloseIdleConnections)
			stopPing := watchPing(t, client, gw.URL)

			sent := streamFrame(t, rpc.Addr, tc.head, 3*200<<20)
			t.Logf("the server took %d MB before it closed the connection", sent>>20)
			readyz(t, client, gw.URL) // a Ping RPC: the service still answers
			stopPing()
			checkPeak(t, "rpc-server", rpc.PID())
		})
	}
}

// ttHeaderHead is a TTHeader frame head announcing a frame of total bytes,
// with an empty header (binary Thrift payload), followed by payload.
func ttHeaderHead(total uint32, payload []byte) []byte {
	return ttHeaderHeadFlags(total, 0, payload)
}

// TestNoGRPCTransport opens a gRPC (HTTP/2) call on the RPC port, which a
// Kitex server serves by default and this service does not use (its
// transport allocates whatever length a message announces, outside the
// codec that bounds requests): the server must close the connection
// without a word of HTTP/2, where it used to answer with its settings.
func TestNoGRPCTransport(t *testing.T) {
	rpc := harness.StartRPCServer(t, harness.RPCOptions{})
	conn, err := net.DialTimeout("tcp", rpc.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(grpcHead(t, 1<<30)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(io.Discard, conn)
	if f, err := fr.ReadFrame(); err == nil {
		t.Fatalf("the server answered HTTP/2: %v", f)
	} else if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server neither answered nor closed the connection")
	}
}

// grpcHead is the start of a gRPC call over HTTP/2 whose message announces
// n bytes: the client preface, settings, the call's headers, and a DATA
// frame with the message's 5-byte prefix.
func grpcHead(t *testing.T, n uint32) []byte {
	t.Helper()
	var b, hb bytes.Buffer
	b.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&b, nil)
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/rpc.IMService/Send"},
		{":authority", "pigeonhole"}, {"content-type", "application/grpc+thrift"}, {"te", "trailers"}} {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
	}
	prefix := binary.BigEndian.AppendUint32([]byte{0}, n)
	if err := errors.Join(fr.WriteSettings(), fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hb.Bytes(), EndHeaders: true}),
		fr.WriteData(1, false, prefix)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// ttHeaderHeadFlags is ttHeaderHead with the header's flags.
func ttHeaderHeadFlags(total uint32, flags uint16, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, total)
	b = binary.BigEndian.AppendUint16(b, 0x1000) // magic
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint32(b, 1) // seq id
	b = binary.BigEndian.AppendUint16(b, 1) // header size / 4
	b = append(b, 0, 0, 0, 0)               // protocol binary, no transforms, padding
	return append(b, payload...)
}

// streamFrame writes head and then up to n bytes of filler to addr, until
// the server closes the connection, and returns how much it wrote.
func streamFrame(t *testing.T, addr string, head []byte, n int) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(head); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	sent := 0
	for sent < n {
		w, err := conn.Write(chunk)
		sent += w
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server neither read nor closed after %d bytes", sent)
			}
			break // closed by the server
		}
	}
	return sent
}

// readyz requires the gateway's /readyz, which pings the service, to
// answer 200.
func readyz(t *testing.T, client *http.Client, base string) {
	t.Helper()
	resp, err := client.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("/readyz: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: status %d, want 200: the service stopped answering", resp.StatusCode)
	}
}
