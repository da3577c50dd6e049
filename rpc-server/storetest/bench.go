package storetest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Benchmark measures a store through the service: appends one at a time,
// appends from many goroutines over many chats (where the group commit
// shares each transaction), pulls of a 10-message page from a chat of
// 1,000 messages, appends into a group of 1,000 members, and inbox pages
// of 20 of a member of 200 chats. Every append carries a client_msg_id, as the gateway's
// do, so it pays for the idempotency lookup.
func Benchmark(b *testing.B, newDB NewDatabase) {
	b.Run("AppendSerial", func(b *testing.B) {
		svc := open(b, newDB(b), nil)
		c := ctx(b)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "benchmark message text", ClientMsgID: fmt.Sprintf("serial-%d", i)}
			if _, err := svc.Send(c, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendParallel", func(b *testing.B) {
		svc := open(b, newDB(b), nil)
		c := ctx(b)
		var next atomic.Int64
		b.SetParallelism(32) // many concurrent senders, as a busy gateway has
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			chat := fmt.Sprintf("u%d:v", next.Add(1))
			sender, _, _ := strings.Cut(chat, ":")
			for i := 0; pb.Next(); i++ {
				req := pigeonhole.SendRequest{Chat: chat, Sender: sender, Text: "benchmark message text", ClientMsgID: fmt.Sprintf("parallel-%d", i)}
				if _, err := svc.Send(c, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("PullPage", func(b *testing.B) {
		svc := open(b, newDB(b), nil)
		c := ctx(b)
		var first int64
		for i := 0; i < 1000; i++ {
			m, err := svc.Send(c, pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: fmt.Sprintf("message %d", i)})
			if err != nil {
				b.Fatal(err)
			}
			if i == 500 {
				first = m.SendTime
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, err := svc.Pull(c, pigeonhole.PullRequest{Chat: "a:b", Cursor: first, Limit: 10})
				if err != nil || len(p.Messages) != 10 {
					b.Errorf("pull: %d messages, %v", len(p.Messages), err)
					return
				}
			}
		})
	})
	// The pulls a chat client makes most: the newest page when a chat
	// opens, and tail polls with next_cursor that find nothing new, over
	// 100 chats of 20 messages from many goroutines.
	b.Run("PullNewest", func(b *testing.B) {
		benchmarkChats(b, newDB, func(chat string, _ int64) pigeonhole.PullRequest {
			return pigeonhole.PullRequest{Chat: chat, Reverse: true, Limit: 10}
		}, 10)
	})
	b.Run("PollEmptyTail", func(b *testing.B) {
		benchmarkChats(b, newDB, func(chat string, next int64) pigeonhole.PullRequest {
			return pigeonhole.PullRequest{Chat: chat, Cursor: next, Limit: 10}
		}, 0)
	})
	b.Run("AppendGroup1000", func(b *testing.B) {
		svc := open(b, newDB(b), nil)
		c := ctx(b)
		members := make([]string, 1000)
		for i := range members {
			members[i] = fmt.Sprintf("m%04d", i)
		}
		g, err := svc.CreateGroup(c, pigeonhole.CreateGroupRequest{Members: members})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			req := pigeonhole.SendRequest{Chat: g.Chat.String(), Sender: members[i%len(members)], Text: "benchmark message text", ClientMsgID: fmt.Sprintf("group-%d", i)}
			if _, err := svc.Send(c, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("InboxPage", func(b *testing.B) {
		svc := open(b, newDB(b), nil)
		c := ctx(b)
		for i := 0; i < 200; i++ {
			partner := fmt.Sprintf("p%03d", i)
			if _, err := svc.Send(c, pigeonhole.SendRequest{Chat: "reader:" + partner, Sender: partner, Text: "benchmark message text"}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p, err := svc.Inbox(c, pigeonhole.InboxRequest{Member: "reader", Limit: 20})
				if err != nil || len(p.Chats) != 20 {
					b.Errorf("inbox: %d chats, %v", len(p.Chats), err)
					return
				}
			}
		})
	})
}

// benchmarkChats fills 100 chats with 20 messages each and pulls, from
// many goroutines, the page pull asks for of one chat after another (next
// is the chat's tail cursor), each of which must hold want messages.
func benchmarkChats(b *testing.B, newDB NewDatabase, pull func(chat string, next int64) pigeonhole.PullRequest, want int) {
	const chats, messages = 100, 20
	svc := open(b, newDB(b), nil)
	c := ctx(b)
	next := make([]int64, chats)
	for i := range chats {
		chat := fmt.Sprintf("n%d:m%d", i, i)
		for j := range messages {
			m, err := svc.Send(c, pigeonhole.SendRequest{Chat: chat, Sender: fmt.Sprintf("n%d", i), Text: fmt.Sprintf("message %d", j)})
			if err != nil {
				b.Fatal(err)
			}
			next[i] = m.SendTime + 1
		}
	}
	var worker atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for i := int(worker.Add(1)); pb.Next(); i++ {
			chat := i % chats
			p, err := svc.Pull(c, pull(fmt.Sprintf("n%d:m%d", chat, chat), next[chat]))
			if err != nil || len(p.Messages) != want {
				b.Errorf("pull: %d messages, want %d; %v", len(p.Messages), want, err)
				return
			}
		}
	})
}
