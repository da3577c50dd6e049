package sqlstore

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// The scheduling of the group commit, with transactions the test starts
// and ends by hand; the conformance suite runs it on the real engines.
// Each test runs in a synctest bubble: its clock moves only when every
// goroutine of the test is blocked, so "nothing happens within 50 ms" and
// "the second transaction starts once the first has run StallAfter" are
// exact and take no wall-clock time, and synctest.Wait replaces polling.

// heldTx is a transaction the test holds open until it closes release.
type heldTx struct {
	texts   []string
	release chan struct{}
}

// newHeldCommit returns a group commit whose transactions report on the
// returned channel and commit, storing their messages as given, when the
// test releases them.
func newHeldCommit(t *testing.T, opts Options) (*groupCommit, <-chan heldTx) {
	t.Helper()
	started := make(chan heldTx, 16)
	ended := make(chan struct{}) // the test ended: every transaction commits
	g := newGroupCommit(opts.withDefaults(), func(msgs []pigeonhole.Message) []appendResult {
		tx := heldTx{release: make(chan struct{})}
		for _, m := range msgs {
			tx.texts = append(tx.texts, m.Text)
		}
		started <- tx
		select {
		case <-tx.release:
		case <-ended:
		}
		out := make([]appendResult, len(msgs))
		for i, m := range msgs {
			out[i] = appendResult{msg: m}
		}
		return out
	})
	t.Cleanup(func() {
		close(ended)
		g.close()
	})
	return g, started
}

// appendAsync appends text to chat in the background and returns where
// its outcome arrives.
func appendAsync(t *testing.T, g *groupCommit, chat, text string) <-chan error {
	t.Helper()
	id, err := pigeonhole.ParseChatID(chat)
	if err != nil {
		t.Fatal(err)
	}
	sender, _ := id.Members()
	out := make(chan error, 1)
	go func() {
		_, err := g.append(context.Background(), pigeonhole.Message{Chat: id, Sender: sender, Text: text})
		out <- err
	}()
	return out
}

// waitQueued waits until every goroutine of the test is blocked, and
// checks that n appends are then in g's queue.
func waitQueued(t *testing.T, g *groupCommit, n int) {
	t.Helper()
	synctest.Wait()
	if got := len(g.queue); got != n {
		t.Fatalf("%d appends queued, want %d", got, n)
	}
}

func nextTx(t *testing.T, started <-chan heldTx) heldTx {
	t.Helper()
	select {
	case tx := <-started:
		return tx
	case <-time.After(5 * time.Second):
		t.Fatal("no transaction started")
		return heldTx{}
	}
}

func noTx(t *testing.T, started <-chan heldTx, within time.Duration) {
	t.Helper()
	select {
	case tx := <-started:
		t.Fatalf("transaction %v started, want none yet", tx.texts)
	case <-time.After(within):
	}
}

func wantOK(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("append not answered")
	}
}

func TestGroupCommitCoalescesWhileOneRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, started := newHeldCommit(t, Options{Lanes: 2, StallAfter: time.Hour})
		a := appendAsync(t, g, "a:b", "a")
		first := nextTx(t, started)
		b := appendAsync(t, g, "c:d", "b")
		c := appendAsync(t, g, "e:f", "c")
		waitQueued(t, g, 2)
		noTx(t, started, 50*time.Millisecond) // unrelated chats wait: nothing is stalled
		close(first.release)
		wantOK(t, a)
		second := nextTx(t, started)
		slices.Sort(second.texts)
		if !slices.Equal(second.texts, []string{"b", "c"}) {
			t.Fatalf("second transaction %v, want b and c together", second.texts)
		}
		close(second.release)
		wantOK(t, b)
		wantOK(t, c)
	})
}

func TestGroupCommitStalledTransactionHoldsUpOnlyItsChats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const stallAfter = 30 * time.Millisecond
		g, started := newHeldCommit(t, Options{Lanes: 2, StallAfter: stallAfter})
		begun := time.Now()
		a1 := appendAsync(t, g, "a:b", "a1")
		first := nextTx(t, started)
		a2 := appendAsync(t, g, "a:b", "a2")
		waitQueued(t, g, 1)
		c := appendAsync(t, g, "c:d", "c")
		second := nextTx(t, started)
		if waited := time.Since(begun); waited != stallAfter {
			t.Errorf("second transaction started %v after the first, want when it counted as stalled (%v)", waited, stallAfter)
		}
		if !slices.Equal(second.texts, []string{"c"}) {
			t.Fatalf("second transaction %v, want only c: a2's chat is in the running one", second.texts)
		}
		close(second.release)
		wantOK(t, c)
		noTx(t, started, 3*stallAfter) // a2 waits for its chat's transaction
		close(first.release)
		wantOK(t, a1)
		third := nextTx(t, started)
		if !slices.Equal(third.texts, []string{"a2"}) {
			t.Fatalf("third transaction %v, want a2", third.texts)
		}
		close(third.release)
		wantOK(t, a2)
	})
}

// TestGroupCommitLeftoversWaitUnlessStalled: appends a batch left over
// (cut at MaxBatch) wait for the running transaction as queued ones do; a
// second transaction starts only once the newest has stalled.
func TestGroupCommitLeftoversWaitUnlessStalled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, started := newHeldCommit(t, Options{Lanes: 2, StallAfter: time.Hour, MaxBatch: 1})
		first := appendAsync(t, g, "a:b", "first")
		tx := nextTx(t, started)
		y := appendAsync(t, g, "c:d", "y")
		waitQueued(t, g, 1)
		z := appendAsync(t, g, "e:f", "z")
		waitQueued(t, g, 2)
		close(tx.release)
		wantOK(t, first)
		second := nextTx(t, started)
		if !slices.Equal(second.texts, []string{"y"}) {
			t.Fatalf("second transaction %v, want y alone (MaxBatch 1)", second.texts)
		}
		noTx(t, started, time.Minute) // z waits: y's transaction has not stalled
		close(second.release)
		wantOK(t, y)
		wantTxs(t, started, []<-chan error{z}, []string{"z"})
	})
}

// queueWhileOneRuns queues texts to chat, in order, while a transaction of
// another chat runs, then lets that one commit; it returns the queued
// appends' outcomes.
func queueWhileOneRuns(t *testing.T, g *groupCommit, started <-chan heldTx, chat string, texts ...string) []<-chan error {
	t.Helper()
	first := appendAsync(t, g, "first:one", "first")
	tx := nextTx(t, started)
	var outcomes []<-chan error
	for i, text := range texts {
		outcomes = append(outcomes, appendAsync(t, g, chat, text))
		waitQueued(t, g, i+1)
	}
	close(tx.release)
	wantOK(t, first)
	return outcomes
}

// wantTxs checks the texts of the next transactions, lets each commit and
// waits for outcomes.
func wantTxs(t *testing.T, started <-chan heldTx, outcomes []<-chan error, want ...[]string) {
	t.Helper()
	for _, texts := range want {
		tx := nextTx(t, started)
		if !slices.Equal(tx.texts, texts) {
			t.Fatalf("transaction %v, want %v", tx.texts, texts)
		}
		close(tx.release)
	}
	for _, o := range outcomes {
		wantOK(t, o)
	}
}

func TestGroupCommitKeepsAChatInQueueOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, started := newHeldCommit(t, Options{Lanes: 2, StallAfter: time.Hour})
		texts := []string{"1", "2", "3", "4", "5"}
		outcomes := queueWhileOneRuns(t, g, started, "a:b", texts...)
		wantTxs(t, started, outcomes, texts)
	})
}

func TestGroupCommitBoundsBatchBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, started := newHeldCommit(t, Options{Lanes: 1, MaxBatchBytes: 10})
		outcomes := queueWhileOneRuns(t, g, started, "c:d", "xxxxxx", "yyyy", "zzzzzzzzzzzz")
		// 6+4 bytes fit in 10; the 12-byte text goes alone.
		wantTxs(t, started, outcomes, []string{"xxxxxx", "yyyy"}, []string{"zzzzzzzzzzzz"})
	})
}

func TestGroupCommitShedsPastQueueDepth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, started := newHeldCommit(t, Options{Lanes: 1, QueueDepth: 2})
		first := appendAsync(t, g, "a:b", "first")
		tx := nextTx(t, started)
		queued := []<-chan error{appendAsync(t, g, "c:d", "q1"), appendAsync(t, g, "e:f", "q2")}
		waitQueued(t, g, 2)
		shed := appendAsync(t, g, "g:h", "shed")
		select {
		case err := <-shed:
			if pigeonhole.ErrorCode(err) != pigeonhole.CodeUnavailable {
				t.Fatalf("append past the queue: %v, want unavailable", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("append past the queue was not shed")
		}
		close(tx.release)
		wantOK(t, first)
		tx = nextTx(t, started)
		close(tx.release)
		for _, o := range queued {
			wantOK(t, o)
		}
	})
}

// TestGroupCommitQueueDepthCountsPendingAppends: appends the dispatcher
// has read from the queue but no transaction has taken (here, past
// MaxBatch) wait as much as those still queued, and count toward
// QueueDepth alike.
func TestGroupCommitQueueDepthCountsPendingAppends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, started := newHeldCommit(t, Options{Lanes: 1, QueueDepth: 2, MaxBatch: 1})
		first := appendAsync(t, g, "a:b", "first")
		tx := nextTx(t, started)
		queued := []<-chan error{appendAsync(t, g, "c:d", "q1")}
		waitQueued(t, g, 1)
		queued = append(queued, appendAsync(t, g, "e:f", "q2"))
		waitQueued(t, g, 2)
		close(tx.release)
		wantOK(t, first)
		tx = nextTx(t, started) // q1 alone: q2 is pending
		queued = append(queued, appendAsync(t, g, "g:h", "q3"))
		waitQueued(t, g, 1)
		select {
		case err := <-appendAsync(t, g, "i:j", "shed"):
			if pigeonhole.ErrorCode(err) != pigeonhole.CodeUnavailable {
				t.Fatalf("append while q2 and q3 wait (QueueDepth 2): %v, want unavailable", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("append while q2 and q3 wait (QueueDepth 2) was not shed")
		}
		close(tx.release)
		wantTxs(t, started, queued, []string{"q2"}, []string{"q3"})
	})
}

func TestGroupCommitCloseAnswersEveryAppend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, started := newHeldCommit(t, Options{Lanes: 1})
		running := appendAsync(t, g, "a:b", "running")
		tx := nextTx(t, started)
		waiting := appendAsync(t, g, "c:d", "waiting")
		waitQueued(t, g, 1)
		closed := make(chan struct{})
		go func() {
			g.close()
			close(closed)
		}()
		select {
		case <-closed:
			t.Fatal("close returned while a transaction was running")
		case <-time.After(30 * time.Millisecond):
		}
		close(tx.release)
		// The running transaction commits, and its append is told so.
		wantOK(t, running)
		<-closed
		if err := <-waiting; err != errClosed {
			t.Fatalf("append no transaction took: %v, want errClosed", err)
		}
		if err := <-appendAsync(t, g, "e:f", "late"); err != errClosed {
			t.Fatalf("append after close: %v, want errClosed", err)
		}
	})
}
