package load

import (
	"slices"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/histogram"
)

// stream is a follower's view built by a test: messages of two senders,
// interleaved, with send times increasing in stream order unless a test
// changes them.
type stream struct {
	deliveries []Delivery
	acks       []Ack
}

// newStream returns n messages alternating between senders 0 and 1, all
// acknowledged 1ms before they are seen.
func newStream(n int) *stream {
	base := time.Unix(1_700_000_000, 0)
	s := &stream{}
	next := map[int]int64{}
	for i := range n {
		sender := i % 2
		next[sender]++
		at := base.Add(time.Duration(i) * 10 * time.Millisecond)
		sendTime := int64(1_000 + 10*i)
		s.deliveries = append(s.deliveries, Delivery{Sender: sender, Seq: next[sender], SendTime: sendTime, At: at})
		s.acks = append(s.acks, Ack{Sender: sender, Seq: next[sender], SendTime: sendTime, At: at.Add(-time.Millisecond)})
	}
	return s
}

// verify feeds the stream to a Verifier and returns the anomalies.
func (s *stream) verify(t *testing.T) ([]Anomaly, int64, *histogram.Histogram) {
	t.Helper()
	v := NewVerifier(3)
	for _, d := range s.deliveries {
		v.Observe(d)
	}
	delivery := histogram.New()
	anomalies, delivered := v.Finish(s.acks, time.Time{}, delivery)
	return anomalies, delivered, delivery
}

// wantOne fails unless anomalies is exactly one anomaly of kind for the
// given message.
func wantOne(t *testing.T, anomalies []Anomaly, kind AnomalyKind, sender int, seq int64) {
	t.Helper()
	if len(anomalies) != 1 {
		t.Fatalf("got %d anomalies %v, want one %s", len(anomalies), anomalies, kind)
	}
	a := anomalies[0]
	if a.Kind != kind || a.Sender != sender || a.Seq != seq || a.Follower != 3 {
		t.Fatalf("got %v, want %s of sender %d message %d seen by follower 3", a, kind, sender, seq)
	}
}

func TestVerifier(t *testing.T) {
	t.Run("CorrectStreamPasses", func(t *testing.T) {
		s := newStream(10)
		anomalies, delivered, delivery := s.verify(t)
		if len(anomalies) != 0 {
			t.Fatalf("got anomalies %v, want none", anomalies)
		}
		if got, want := delivered, int64(10); got != want {
			t.Fatalf("delivered: got %d, want %d", got, want)
		}
		if got, want := delivery.Count(), uint64(10); got != want {
			t.Fatalf("delivery latencies: got %d, want %d", got, want)
		}
		if got, want := delivery.Max(), int64(time.Millisecond); got != want {
			t.Fatalf("delivery latency: got %v, want %v", time.Duration(got), time.Duration(want))
		}
	})

	t.Run("DuplicateIsCaught", func(t *testing.T) {
		s := newStream(10)
		// Message 5 (sender 0's third) delivered again right after itself,
		// as a cursor that did not move past it would.
		s.deliveries = slices.Insert(s.deliveries, 5, s.deliveries[4])
		anomalies, _, _ := s.verify(t)
		wantOne(t, anomalies, AnomalyDuplicate, 0, 3)
	})

	t.Run("GapIsCaught", func(t *testing.T) {
		s := newStream(10)
		// Sender 1's third message is acknowledged but never delivered.
		s.deliveries = slices.Delete(s.deliveries, 5, 6)
		anomalies, delivered, _ := s.verify(t)
		wantOne(t, anomalies, AnomalyMissing, 1, 3)
		if got, want := delivered, int64(9); got != want {
			t.Fatalf("delivered: got %d, want %d", got, want)
		}
	})

	t.Run("ReorderIsCaught", func(t *testing.T) {
		s := newStream(10)
		// Sender 0's second message arrives after its third (and after a
		// message of sender 1), with its own, smaller send_time: committed
		// behind a cursor the follower had already passed.
		late := s.deliveries[2]
		s.deliveries = slices.Insert(slices.Delete(s.deliveries, 2, 3), 4, late)
		anomalies, _, _ := s.verify(t)
		wantOne(t, anomalies, AnomalyReorder, 0, 2)
	})

	t.Run("SameSenderOutOfOrderIsCaughtEvenWithRisingSendTimes", func(t *testing.T) {
		s := newStream(10)
		// The server gave sender 1's fourth message a smaller send_time
		// than its third, though the third was acknowledged first, and
		// delivered them in send_time order.
		s.deliveries[5].Seq, s.deliveries[7].Seq = 4, 3
		s.acks[5].SendTime, s.acks[7].SendTime = s.acks[7].SendTime, s.acks[5].SendTime
		anomalies, _, _ := s.verify(t)
		wantOne(t, anomalies, AnomalyReorder, 1, 3)
	})

	t.Run("SendTimeMismatchIsCaught", func(t *testing.T) {
		s := newStream(4)
		s.acks[1].SendTime++
		anomalies, _, _ := s.verify(t)
		wantOne(t, anomalies, AnomalyMismatch, 1, 1)
	})

	t.Run("UnacknowledgedMessageIsNoGap", func(t *testing.T) {
		s := newStream(10)
		// A send whose answer was lost: stored, so seen, but not acked.
		s.acks = slices.Delete(s.acks, 4, 5)
		anomalies, delivered, _ := s.verify(t)
		if len(anomalies) != 0 {
			t.Fatalf("got anomalies %v, want none", anomalies)
		}
		if got, want := delivered, int64(9); got != want {
			t.Fatalf("delivered: got %d, want %d", got, want)
		}
	})
}

func TestParseNumbered(t *testing.T) {
	if sender, seq, ok := parseNumbered("x1", "x1 7 42 padding padding"); !ok || sender != 7 || seq != 42 {
		t.Fatalf("got %d %d %v, want 7 42 true", sender, seq, ok)
	}
	for _, text := range []string{"x2 7 42 pad", "x1 seven 42", "hello", ""} {
		if _, _, ok := parseNumbered("x1", text); ok {
			t.Errorf("parseNumbered(%q) ok, want not", text)
		}
	}
}
