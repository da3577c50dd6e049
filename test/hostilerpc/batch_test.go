package hostilerpc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/transport"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc/imservice"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// TestHugeBatches calls the message service's batch methods directly, as
// a hostile client on the RPC port would. Before batches were bounded in
// bytes, one PullBatch of 64 pulls of the newest 100 of 100 messages of
// 64,000 bytes answered 410 MB, and one SendBatch of 1,024 texts of 60 KB
// stored 61 MB. Now a PullBatch's pages share 8 MiB, and such a SendBatch
// is refused at the transport (the request is larger than any the service
// needs) and stores nothing.
func TestHugeBatches(t *testing.T) {
	rpcServer := harness.StartRPCServer(t, harness.RPCOptions{})
	cli, err := imservice.NewClient(rpc.ServiceName, client.WithHostPorts(rpcServer.Addr),
		client.WithTransportProtocol(transport.TTHeader), client.WithMetaHandler(transmeta.ClientTTHeaderHandler),
		client.WithRPCTimeout(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	text := strings.Repeat("x", 64_000)
	sends := make([]*rpc.SendRequest, 100)
	for i := range sends {
		sends[i] = &rpc.SendRequest{Message: &rpc.Message{Chat: "big:peer", Sender: "big", Text: text}}
	}
	if resp, err := cli.SendBatch(ctx, &rpc.SendBatchRequest{Items: sends}); err != nil || resp.Code != 0 {
		t.Fatalf("100 sends of 64,000 bytes: %+v, %v", resp, err)
	}

	t.Run("PullBatchAnswerIsBounded", func(t *testing.T) {
		reverse := true
		pulls := make([]*rpc.PullRequest, 64)
		for i := range pulls {
			pulls[i] = &rpc.PullRequest{Chat: "big:peer", Limit: 100, Reverse: &reverse}
		}
		resp, err := cli.PullBatch(ctx, &rpc.PullBatchRequest{Items: pulls})
		if err != nil || resp.Code != 0 || len(resp.Items) != len(pulls) {
			t.Fatalf("PullBatch: %v, %v", resp.GetMsg(), err)
		}
		total := 0
		for _, item := range resp.Items {
			for _, m := range item.Messages {
				total += len(m.Text)
			}
		}
		t.Logf("a PullBatch of %d pulls answered %d bytes of text", len(pulls), total)
		if total > rpc.MaxBatchBytes {
			t.Errorf("the answer holds %d bytes of text, over 8 MiB", total)
		}
		for i, item := range resp.Items {
			if item.Code != 0 || len(item.Messages) == 0 || !item.GetHasMore() {
				t.Fatalf("item %d: code %d %q, %d messages, has_more %v; want a cut page", i, item.Code, item.Msg, len(item.Messages), item.GetHasMore())
			}
		}
	})

	t.Run("HugeSendBatchStoresNothing", func(t *testing.T) {
		text := strings.Repeat("y", 60_000)
		sends := make([]*rpc.SendRequest, 1024)
		for i := range sends {
			sends[i] = &rpc.SendRequest{Message: &rpc.Message{Chat: "huge:peer", Sender: "huge", Text: text}}
		}
		resp, err := cli.SendBatch(ctx, &rpc.SendBatchRequest{Items: sends})
		if err == nil && resp.Code == 0 {
			t.Errorf("a SendBatch of 1,024 texts of 60 KB was accepted")
		}
		page, err := cli.Pull(ctx, &rpc.PullRequest{Chat: "huge:peer", Limit: 100})
		if err != nil || page.Code != 0 {
			t.Fatalf("the service no longer answers: %+v, %v", page, err)
		}
		t.Logf("the SendBatch stored %d messages (of the first 100 looked at)", len(page.Messages))
		if len(page.Messages) != 0 {
			t.Errorf("the SendBatch stored messages")
		}
	})
	checkPeak(t, "rpc-server", rpcServer.PID())
}
