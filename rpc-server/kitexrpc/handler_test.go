package kitexrpc_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/notify"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

// newHandler is a handler over a real service on a fresh embedded store.
func newHandler(tb testing.TB) *kitexrpc.Handler {
	tb.Helper()
	return newHandlerWith(tb, pigeonhole.Config{})
}

// newHandlerWith is newHandler with the service's limits given.
func newHandlerWith(tb testing.TB, cfg pigeonhole.Config) *kitexrpc.Handler {
	tb.Helper()
	store, err := sqlite.Open(context.Background(), tb.TempDir(), sqlstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return kitexrpc.NewHandler(pigeonhole.NewService(store, cfg), slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil)
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

func TestBatchBounds(t *testing.T) {
	ctx := context.Background()
	t.Run("SendBatchOverTheBytesIsRefusedWhole", func(t *testing.T) {
		h := newHandlerWith(t, pigeonhole.Config{MaxTextBytes: 4 << 20})
		big := strings.Repeat("x", 3<<20)
		items := make([]*rpc.SendRequest, 3) // 9 MiB
		for i := range items {
			items[i] = &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: big}}
		}
		resp, err := h.SendBatch(ctx, &rpc.SendBatchRequest{Items: items})
		if err != nil || resp.Code != pigeonhole.CodeTooLarge.Number() || resp.Items != nil {
			t.Fatalf("got code %d %q, %v", resp.Code, resp.Msg, err)
		}
		if p, _ := h.Pull(ctx, &rpc.PullRequest{Chat: "a:b"}); len(p.Messages) != 0 {
			t.Fatalf("a refused batch stored %d messages", len(p.Messages))
		}
	})
	t.Run("PullBatchSharesTheBytes", func(t *testing.T) {
		h := newHandler(t)
		text := strings.Repeat("y", 64_000)
		for range 100 {
			if resp, _ := h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: text}}); resp.Code != 0 {
				t.Fatalf("send: %s", resp.Msg)
			}
		}
		reverse := true
		for _, n := range []int{1, 2, 16, rpc.MaxBatch} {
			items := make([]*rpc.PullRequest, n)
			for i := range items {
				items[i] = &rpc.PullRequest{Chat: "a:b", Limit: 100, Reverse: &reverse}
			}
			resp, err := h.PullBatch(ctx, &rpc.PullBatchRequest{Items: items})
			if err != nil || resp.Code != 0 || len(resp.Items) != n {
				t.Fatalf("%d items: got code %d %q, %v", n, resp.Code, resp.Msg, err)
			}
			total := 0
			for i, item := range resp.Items {
				if item.Code != 0 || len(item.Messages) == 0 || !item.GetHasMore() {
					t.Fatalf("%d items: item %d: code %d %q, %d messages", n, i, item.Code, item.Msg, len(item.Messages))
				}
				for _, m := range item.Messages {
					total += len(m.Text)
				}
			}
			t.Logf("%d items: %d bytes of text", n, total)
			if total > rpc.MaxBatchBytes {
				t.Fatalf("%d items: the answer holds %d bytes of text, over %d", n, total, rpc.MaxBatchBytes)
			}
		}
	})
	t.Run("PullBatchItemsPastTheBytesAreRetryable", func(t *testing.T) {
		h := newHandlerWith(t, pigeonhole.Config{MaxTextBytes: 1 << 20}) // 8 pages of one largest message fill a batch
		items := make([]*rpc.PullRequest, 10)
		for i := range items {
			items[i] = &rpc.PullRequest{Chat: "a:b"}
		}
		resp, err := h.PullBatch(ctx, &rpc.PullBatchRequest{Items: items})
		if err != nil || resp.Code != 0 || len(resp.Items) != 10 {
			t.Fatalf("got %+v, %v", resp, err)
		}
		for i, item := range resp.Items {
			want := int32(0)
			if i >= rpc.MaxBatchBytes/(1<<20) {
				want = pigeonhole.CodeUnavailable.Number()
			}
			if item.Code != want {
				t.Fatalf("item %d: code %d %q, want %d", i, item.Code, item.Msg, want)
			}
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

func TestHandlerWaitingPull(t *testing.T) {
	store, err := sqlite.Open(context.Background(), t.TempDir(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := notify.New(store, notify.Config{})
	t.Cleanup(func() {
		n.Stop()
		store.Close()
	})
	h := kitexrpc.NewHandler(pigeonhole.NewService(store, pigeonhole.Config{Notifier: n}), slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil)
	ctx := context.Background()
	t.Run("WaitMsWaitsForTheNextMessage", func(t *testing.T) {
		wait := int32(30_000)
		got := make(chan *rpc.PullResponse, 1)
		go func() {
			resp, _ := h.Pull(ctx, &rpc.PullRequest{Chat: "a:b", WaitMs: &wait})
			got <- resp
		}()
		for n.Waiting() == 0 {
			time.Sleep(time.Millisecond)
		}
		h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "a:b", Sender: "a", Text: "awaited"}})
		resp := <-got
		if resp.Code != 0 || len(resp.Messages) != 1 || resp.Messages[0].Text != "awaited" {
			t.Fatalf("got %+v", resp)
		}
	})
	t.Run("NegativeWaitMsIsInvalid", func(t *testing.T) {
		wait := int32(-1)
		resp, err := h.Pull(ctx, &rpc.PullRequest{Chat: "a:b", WaitMs: &wait})
		if err != nil || resp.Code != pigeonhole.CodeInvalidArgument.Number() {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
	t.Run("InboxWaitMsWaitsForActivity", func(t *testing.T) {
		first, _ := h.Inbox(ctx, &rpc.InboxRequest{Member: "c"})
		wait := int32(30_000)
		got := make(chan *rpc.InboxResponse, 1)
		go func() {
			resp, _ := h.Inbox(ctx, &rpc.InboxRequest{Member: "c", Cursor: first.NextCursor, WaitMs: &wait})
			got <- resp
		}()
		for n.Waiting() == 0 {
			time.Sleep(time.Millisecond)
		}
		h.Send(ctx, &rpc.SendRequest{Message: &rpc.Message{Chat: "c:d", Sender: "d", Text: "new chat"}})
		resp := <-got
		if resp.Code != 0 || len(resp.Chats) != 1 || resp.Chats[0].Chat != "c:d" {
			t.Fatalf("got %+v", resp)
		}
		wait = -1
		if resp, err := h.Inbox(ctx, &rpc.InboxRequest{Member: "c", Cursor: first.NextCursor, WaitMs: &wait}); err != nil || resp.Code != pigeonhole.CodeInvalidArgument.Number() {
			t.Fatalf("negative wait: got %+v, %v", resp, err)
		}
	})
}
