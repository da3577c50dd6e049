package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func testIdempotency(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	c := ctx(t)
	req := pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "hi", ClientMsgID: "k1"}
	first, err := svc.Send(c, req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Send(c, pigeonhole.SendRequest{Chat: "b:a", Sender: "a", Text: "hi", ClientMsgID: "k1"})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if again.SendTime != first.SendTime {
		t.Fatalf("retry: got send_time %d, want the first's %d", again.SendTime, first.SendTime)
	}
	_, err = svc.Send(c, pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "changed", ClientMsgID: "k1"})
	wantCode(t, err, pigeonhole.CodeConflict)
	other, err := svc.Send(c, pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: "hi", ClientMsgID: "k1"})
	if err != nil || other.SendTime == first.SendTime {
		t.Fatalf("same key from the other member: got %+v, %v; want a new message", other, err)
	}
	elsewhere, err := svc.Send(c, pigeonhole.SendRequest{Chat: "a:c", Sender: "a", Text: "hi", ClientMsgID: "k1"})
	if err != nil || elsewhere.Chat.String() != "a:c" {
		t.Fatalf("same key in another chat: got %+v, %v; want a new message", elsewhere, err)
	}
	send(t, svc, "a:b", "a", "no key")
	send(t, svc, "a:b", "a", "no key")
	got := texts(pullAll(t, svc, "a:b", 0, 10, false))
	if want := []string{"hi", "hi", "no key", "no key"}; !slices.Equal(got, want) {
		t.Fatalf("stored: got %v, want %v", got, want)
	}
	_, err = svc.Send(c, pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "x", ClientMsgID: strings.Repeat("k", 65)})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
}

// testConcurrentRetries sends one keyed message from many goroutines on two
// instances at once: every send gets the same send_time and one is stored.
func testConcurrentRetries(t *testing.T, opener Opener) {
	svcs := []*pigeonhole.Service{open(t, opener, nil), open(t, opener, nil)}
	c := ctx(t)
	const senders = 24
	times := make([]int64, senders)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for i := 0; i < senders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := svcs[i%2].Send(c, pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: "once", ClientMsgID: "retry-1"})
			times[i], errs[i] = m.SendTime, err
		}()
	}
	wg.Wait()
	for i := range times {
		if errs[i] != nil {
			t.Fatalf("sender %d: %v", i, errs[i])
		}
		if times[i] != times[0] {
			t.Fatalf("sender %d got send_time %d, sender 0 got %d", i, times[i], times[0])
		}
	}
	if got := pullAll(t, svcs[0], "a:b", 0, 10, false); len(got) != 1 {
		t.Fatalf("stored %d messages, want 1", len(got))
	}
}

func testTextLimits(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	c := ctx(t)
	max := pigeonhole.DefaultMaxTextBytes
	biggest := strings.Repeat("😀", max/4) // 4-byte runes, exactly the limit
	texts := []string{
		biggest,
		"héllo 世界 مرحبا 👋🏽 עברית",
		"line one\nline two\ttabbed \u200b zero-width",
		"nul \x00 inside",
	}
	for _, text := range texts {
		m, err := svc.Send(c, pigeonhole.SendRequest{Chat: "李雷:عليّ", Sender: "عليّ", Text: text})
		if err != nil {
			t.Fatalf("send %d bytes: %v", len(text), err)
		}
		p := pull(t, svc, pigeonhole.PullRequest{Chat: "عليّ:李雷", Cursor: m.SendTime, Limit: 1})
		if len(p.Messages) != 1 || p.Messages[0].Text != text || p.Messages[0].Sender != "عليّ" {
			t.Fatalf("round trip of %d bytes failed", len(text))
		}
	}
	_, err := svc.Send(c, pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: biggest + "x"})
	wantCode(t, err, pigeonhole.CodeTooLarge)
	_, err = svc.Send(c, pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "bad \xff utf-8"})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
}

func testReopen(t *testing.T, opener Opener) {
	first := opener(t, nil)
	svc := pigeonhole.NewService(first, pigeonhole.Config{})
	var sent []pigeonhole.Message
	for i := 0; i < 10; i++ {
		m, err := svc.Send(ctx(t), pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: fmt.Sprintf("m%d", i), ClientMsgID: fmt.Sprintf("k%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	again := open(t, opener, nil)
	got := pullAll(t, again, "a:b", 0, 3, false)
	if !slices.Equal(texts(got), texts(sent)) {
		t.Fatalf("after reopen: got %v, want %v", texts(got), texts(sent))
	}
	retry, err := again.Send(ctx(t), pigeonhole.SendRequest{Chat: "a:b", Sender: "b", Text: "m3", ClientMsgID: "k3"})
	if err != nil || retry.SendTime != sent[3].SendTime {
		t.Fatalf("retry after reopen: got %+v, %v; want send_time %d", retry, err, sent[3].SendTime)
	}
	if m := send(t, again, "a:b", "a", "later"); m.SendTime <= sent[9].SendTime {
		t.Fatalf("send after reopen: send_time %d not after %d", m.SendTime, sent[9].SendTime)
	}
}

func testClosedStoreIsUnavailable(t *testing.T, opener Opener) {
	store := opener(t, nil)
	svc := pigeonhole.NewService(store, pigeonhole.Config{})
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	_, err := svc.Send(ctx(t), pigeonhole.SendRequest{Chat: "a:b", Sender: "a", Text: "x"})
	wantCode(t, err, pigeonhole.CodeUnavailable)
	_, err = svc.Pull(ctx(t), pigeonhole.PullRequest{Chat: "a:b"})
	wantCode(t, err, pigeonhole.CodeUnavailable)
	wantCode(t, svc.Ready(ctx(t)), pigeonhole.CodeUnavailable)
}
