package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// testFinalPages checks Page.Final, the promise a gateway's page cache
// relies on, while two instances take sends: every page marked final
// during the sends is, after them, exactly what the same request gets from
// either instance. The requests probe both sides of the rule: pages
// bounded by a message already seen (final) and pages reaching past the
// newest one, forward tails and reverse pages from a cursor between
// messages (never final, and they do change).
func testFinalPages(t *testing.T, opener Opener) {
	const chat, writers, perWriter = "f1:f2", 4, 40
	svcs := []*pigeonhole.Service{open(t, opener, nil), open(t, opener, nil)}
	sendN(t, svcs[0], chat, 3)
	c := ctx(t)

	type seenPage struct {
		req  pigeonhole.PullRequest
		page pigeonhole.Page
	}
	var final, growing []seenPage
	// record pulls, through svc, the newest messages and pages around
	// each of them, keeping each answer under its request.
	record := func(svc *pigeonhole.Service) {
		newest := pull(t, svc, pigeonhole.PullRequest{Chat: chat, Reverse: true, Limit: 3})
		growing = append(growing, seenPage{pigeonhole.PullRequest{Chat: chat, Reverse: true, Limit: 3}, newest})
		for _, m := range newest.Messages {
			for _, req := range []pigeonhole.PullRequest{
				{Chat: chat, Cursor: m.SendTime, Limit: 1},
				{Chat: chat, Cursor: m.SendTime, Limit: 4},
				{Chat: chat, Cursor: m.SendTime + 1, Limit: 2},
				{Chat: chat, Cursor: m.SendTime, Limit: 2, Reverse: true},
				// 100 ms ahead: messages sent meanwhile fall inside.
				{Chat: chat, Cursor: m.SendTime + 100_000, Limit: 2, Reverse: true},
			} {
				if p := pull(t, svc, req); p.Final {
					final = append(final, seenPage{req, p})
				} else {
					growing = append(growing, seenPage{req, p})
				}
			}
		}
	}
	// One round before the sends, however fast they turn out to be, and
	// more while they run.
	record(svcs[0])

	var wg sync.WaitGroup
	var running atomic.Int32
	errs := make(chan error, writers)
	running.Store(writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			for i := range perWriter {
				req := pigeonhole.SendRequest{Chat: chat, Sender: "f1", Text: fmt.Sprintf("w%d-%02d", w, i)}
				if _, err := svcs[w%2].Send(c, req); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		}()
	}
	for round := 1; running.Load() > 0; round++ {
		record(svcs[round%2])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	if len(final) == 0 {
		t.Fatal("no page was marked final")
	}
	for _, s := range final {
		for i, svc := range svcs {
			if got := pull(t, svc, s.req); !reflect.DeepEqual(got, s.page) {
				t.Fatalf("final page of %+v changed on instance %d:\nthen %+v\nnow  %+v", s.req, i, s.page, got)
			}
		}
	}
	changed := 0
	for _, s := range growing {
		if got := pull(t, svcs[0], s.req); !reflect.DeepEqual(got, s.page) {
			changed++
		}
	}
	if changed == 0 {
		t.Fatalf("none of %d pages not marked final changed after the sends", len(growing))
	}
}
