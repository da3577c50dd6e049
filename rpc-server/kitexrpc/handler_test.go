package kitexrpc_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

// newHandler is a handler over a real service on a fresh embedded store.
func newHandler(tb testing.TB) *kitexrpc.Handler {
	tb.Helper()
	store, err := sqlite.Open(context.Background(), tb.TempDir(), sqlstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return kitexrpc.NewHandler(pigeonhole.NewService(store, pigeonhole.Config{}), slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil)
}

func TestHandler(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	t.Run("MissingMessageIsInvalid", func(t *testing.T) {
		resp, err := h.Send(ctx, &rpc.SendRequest{})
		if err != nil || resp.Code != pigeonhole.CodeInvalidArgument.Number() || resp.Msg == "" {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
	t.Run("SendAnswersTimeAndCanonicalChat", func(t *testing.T) {
		key := "k-1"
		resp, err := h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "b:a", Sender: "a", Text: "hi", ClientMsgId: &key}})
		if err != nil || resp.Code != 0 || resp.Msg != "success" || resp.GetSendTime() <= 0 || resp.GetChat() != "a:b" {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
	t.Run("BusinessErrorsTravelInCode", func(t *testing.T) {
		resp, err := h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "z", Text: "hi"}})
		if err != nil || resp.Code != pigeonhole.CodeInvalidArgument.Number() || resp.Msg != `sender "z" is not a member of chat "a:b"` {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
	t.Run("AbsentReverseMeansForward", func(t *testing.T) {
		h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "b", Text: "second"}})
		resp, err := h.Pull(ctx, &rpc.PullRequest{Chat: "a:b"})
		if err != nil || resp.Code != 0 || len(resp.Messages) != 2 || resp.Messages[0].Text != "hi" || resp.Messages[1].Text != "second" ||
			resp.Messages[0].Chat != "a:b" || !resp.IsSetHasMore() || resp.GetHasMore() || resp.GetNextCursor() != resp.Messages[1].SendTime+1 ||
			!resp.IsSetFinal() || resp.GetFinal() {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
	t.Run("NilPullIsInvalid", func(t *testing.T) {
		resp, err := h.Pull(ctx, nil)
		if err != nil || resp.Code != pigeonhole.CodeInvalidArgument.Number() {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
}

func TestBatches(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	msg := func(sender, text string) *rpc.SendRequest {
		return &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: sender, Text: text}}
	}
	var oldest, newest int64 // the two stored messages' send times
	t.Run("EachSendSucceedsOrFailsAlone", func(t *testing.T) {
		resp, err := h.SendBatch(ctx, &rpc.SendBatchRequest{Items: []*rpc.SendRequest{msg("a", "1"), msg("z", "2"), {}, msg("b", "3"), nil}})
		if err != nil || resp.Code != 0 || len(resp.Items) != 5 {
			t.Fatalf("got %+v, %v", resp, err)
		}
		invalid := pigeonhole.CodeInvalidArgument.Number()
		for i, want := range []int32{0, invalid, invalid, 0, invalid} {
			if got := resp.Items[i].Code; got != want {
				t.Fatalf("item %d: code %d (%s), want %d", i, got, resp.Items[i].Msg, want)
			}
		}
		t1, t3 := resp.Items[0].GetSendTime(), resp.Items[3].GetSendTime()
		if t1 <= 0 || t3 <= 0 || t1 == t3 {
			t.Fatalf("send times %d and %d", t1, t3)
		}
		oldest, newest = min(t1, t3), max(t1, t3) // the items ran concurrently
	})
	t.Run("EachPullIsItsOwnPage", func(t *testing.T) {
		reverse := true
		resp, err := h.PullBatch(ctx, &rpc.PullBatchRequest{Items: []*rpc.PullRequest{
			{Chat: "b:a", Limit: 1}, {Chat: "a:b", Limit: -1}, {Chat: "a:b", Limit: 1, Reverse: &reverse}, {Chat: "x:y"},
		}})
		if err != nil || resp.Code != 0 || len(resp.Items) != 4 {
			t.Fatalf("got %+v, %v", resp, err)
		}
		first, bad, last, empty := resp.Items[0], resp.Items[1], resp.Items[2], resp.Items[3]
		if first.Code != 0 || len(first.Messages) != 1 || first.Messages[0].SendTime != oldest || !first.GetHasMore() || !first.GetFinal() ||
			bad.Code != pigeonhole.CodeInvalidArgument.Number() ||
			last.Code != 0 || len(last.Messages) != 1 || last.Messages[0].SendTime != newest || last.GetFinal() ||
			empty.Code != 0 || len(empty.Messages) != 0 {
			t.Fatalf("got %+v", resp.Items)
		}
	})
	t.Run("TooLargeIsInvalid", func(t *testing.T) {
		items := make([]*rpc.PullRequest, rpc.MaxBatch+1)
		resp, err := h.PullBatch(ctx, &rpc.PullBatchRequest{Items: items})
		if err != nil || resp.Code != pigeonhole.CodeInvalidArgument.Number() || resp.Items != nil {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
	t.Run("EmptyIsEmpty", func(t *testing.T) {
		resp, err := h.SendBatch(ctx, &rpc.SendBatchRequest{})
		if err != nil || resp.Code != 0 || len(resp.Items) != 0 {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
}

// BenchmarkHandler measures the RPC handler on the embedded store, without
// the network: Send (each waits for its commit) and a 10-message Pull.
func BenchmarkHandler(b *testing.B) {
	h := newHandler(b)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: "a benchmark message"}})
	}
	b.Run("Pull", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if resp, err := h.Pull(ctx, &rpc.PullRequest{Chat: "a:b", Limit: 10}); err != nil || resp.Code != 0 {
				b.Fatal(resp, err)
			}
		}
	})
	b.Run("SendParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if resp, err := h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "b", Text: "a benchmark message"}}); err != nil || resp.Code != 0 {
					b.Error(resp, err)
					return
				}
			}
		})
	})
}
