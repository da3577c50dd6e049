package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func testTightLoop(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	const n = 1000
	prev := int64(0)
	for i := 0; i < n; i++ {
		m := send(t, svc, "a1:a2", "a1", "x")
		if m.SendTime <= prev {
			t.Fatalf("append %d: send_time %d not after %d", i, m.SendTime, prev)
		}
		prev = m.SendTime
	}
	if got := len(pullAll(t, svc, "a1:a2", 0, 100, false)); got != n {
		t.Fatalf("stored %d messages, want %d", got, n)
	}
}

// steppingClock returns base, then one second earlier on every call, for
// the first back calls; then base plus an hour.
func steppingClock(base time.Time, back int) func() time.Time {
	var calls atomic.Int64
	return func() time.Time {
		c := int(calls.Add(1)) - 1
		if c < back {
			return base.Add(-time.Duration(c) * time.Second)
		}
		return base.Add(time.Hour)
	}
}

func testClockBackwards(t *testing.T, opener Opener) {
	base := time.UnixMicro(1_700_000_000_000_000)
	svc := open(t, opener, steppingClock(base, 10))
	var sent []pigeonhole.Message
	for i := 0; i < 12; i++ {
		sent = append(sent, send(t, svc, "a1:a2", "a1", fmt.Sprintf("m%03d", i)))
	}
	if got, want := sent[0].SendTime, base.UnixMicro(); got != want {
		t.Fatalf("first send_time: got %d, want the clock's %d", got, want)
	}
	for i := 1; i < 10; i++ {
		if got, want := sent[i].SendTime, sent[i-1].SendTime+1; got != want {
			t.Fatalf("send %d while the clock goes back: got %d, want %d", i, got, want)
		}
	}
	if got, want := sent[10].SendTime, base.Add(time.Hour).UnixMicro(); got != want {
		t.Fatalf("send after the clock recovers: got %d, want %d", got, want)
	}
	// A second replica whose clock is an hour behind still appends after
	// the newest message.
	late := open(t, opener, func() time.Time { return base })
	m := send(t, late, "a1:a2", "a2", "late")
	if want := sent[11].SendTime + 1; m.SendTime != want {
		t.Fatalf("send from a lagging replica: got %d, want %d", m.SendTime, want)
	}
	if got := texts(pullAll(t, svc, "a1:a2", 0, 5, false)); len(got) != 13 || got[12] != "late" {
		t.Fatalf("final order: got %v", got)
	}
}

// testConcurrent runs 16 writers and 2 followers on one chat, spread over
// the given number of store instances, and checks that each follower saw
// exactly the final sequence and each writer's messages in its own order.
func testConcurrent(t *testing.T, opener Opener, instances int) {
	const writers, perWriter, followers = 16, 25, 2
	svcs := make([]*pigeonhole.Service, instances)
	for i := range svcs {
		svcs[i] = open(t, opener, nil)
	}
	c := ctx(t)
	var wg sync.WaitGroup
	acked := make([][]int64, writers)
	errs := make(chan error, writers+followers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := svcs[w%instances]
			sender := []string{"u1", "u2"}[w%2]
			for i := 0; i < perWriter; i++ {
				m, err := svc.Send(c, pigeonhole.SendRequest{Chat: "u1:u2", Sender: sender, Text: fmt.Sprintf("w%02d-%03d", w, i)})
				if err != nil {
					errs <- fmt.Errorf("writer %d send %d: %w", w, i, err)
					return
				}
				acked[w] = append(acked[w], m.SendTime)
			}
		}()
	}
	seen := make([][]pigeonhole.Message, followers)
	var fwg sync.WaitGroup
	for f := 0; f < followers; f++ {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			svc := svcs[f%instances]
			var err error
			if seen[f], err = follow(c, svc, "u2:u1", 7, writers*perWriter); err != nil {
				errs <- fmt.Errorf("follower %d: %w", f, err)
			}
		}()
	}
	wg.Wait()
	fwg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	final := pullAll(t, svcs[0], "u1:u2", 0, 100, false)
	if got, want := len(final), writers*perWriter; got != want {
		t.Fatalf("stored %d messages, want %d", got, want)
	}
	for i := 1; i < len(final); i++ {
		if final[i].SendTime <= final[i-1].SendTime {
			t.Fatalf("final sequence not strictly increasing at %d: %d then %d", i, final[i-1].SendTime, final[i].SendTime)
		}
	}
	for f, got := range seen {
		if len(got) != len(final) {
			t.Fatalf("follower %d saw %d messages, want %d", f, len(got), len(final))
		}
		for i := range got {
			if got[i].SendTime != final[i].SendTime || got[i].Text != final[i].Text {
				t.Fatalf("follower %d message %d: got %q@%d, want %q@%d", f, i, got[i].Text, got[i].SendTime, final[i].Text, final[i].SendTime)
			}
		}
	}
	position := make(map[string]int, len(final))
	for i, m := range final {
		position[m.Text] = i
	}
	for w := 0; w < writers; w++ {
		for i := 1; i < perWriter; i++ {
			a, b := fmt.Sprintf("w%02d-%03d", w, i-1), fmt.Sprintf("w%02d-%03d", w, i)
			if position[a] >= position[b] {
				t.Fatalf("writer %d: %s stored after %s", w, a, b)
			}
			if acked[w][i] <= acked[w][i-1] {
				t.Fatalf("writer %d: acknowledged send_time %d not after %d", w, acked[w][i], acked[w][i-1])
			}
		}
	}
}

// follow tails chat on svc from the beginning with pages of limit, until
// it has seen want messages or 45 s have passed, and returns what it saw.
func follow(c context.Context, svc *pigeonhole.Service, chat string, limit int32, want int) ([]pigeonhole.Message, error) {
	var seen []pigeonhole.Message
	cursor := int64(0)
	for deadline := time.Now().Add(45 * time.Second); len(seen) < want && time.Now().Before(deadline); {
		p, err := svc.Pull(c, pigeonhole.PullRequest{Chat: chat, Cursor: cursor, Limit: limit})
		if err != nil {
			return seen, err
		}
		seen = append(seen, p.Messages...)
		cursor = p.NextCursor
	}
	return seen, nil
}
