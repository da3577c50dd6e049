package load

import (
	"fmt"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/histogram"
)

// AnomalyKind names a way in which what a follower saw breaks the contract
// that a reader following next_cursor sees every message exactly once and
// in send_time order.
type AnomalyKind string

// The anomalies a Verifier reports.
const (
	// AnomalyDuplicate is a message seen a second time.
	AnomalyDuplicate AnomalyKind = "duplicate"
	// AnomalyMissing is an acknowledged message never seen: a gap.
	AnomalyMissing AnomalyKind = "missing"
	// AnomalyReorder is a message seen after one that must follow it: a
	// later send_time, or a later message of the same sender (a sender
	// sends its next message only after the previous one was
	// acknowledged, so its messages' send times increase).
	AnomalyReorder AnomalyKind = "reorder"
	// AnomalyMismatch is a message seen with another send_time than its
	// send was acknowledged with.
	AnomalyMismatch AnomalyKind = "mismatch"
	// AnomalyForeign is a message in the chat that the run did not send.
	AnomalyForeign AnomalyKind = "foreign"
)

// Anomaly is one breach of the contract seen by one follower.
type Anomaly struct {
	Kind     AnomalyKind `json:"kind"`
	Follower int         `json:"follower"`
	Sender   int         `json:"sender"`
	Seq      int64       `json:"seq"`
	Detail   string      `json:"detail"`
}

func (a Anomaly) String() string {
	return fmt.Sprintf("%s: follower %d, sender %d message %d: %s", a.Kind, a.Follower, a.Sender, a.Seq, a.Detail)
}

// Delivery is one message as a follower received it. Sender and Seq come
// from the message's text, which the sending worker wrote.
type Delivery struct {
	Sender   int
	Seq      int64 // from 1, per sender
	SendTime int64
	At       time.Time // when the follower received the page
}

// Ack is one send that the server acknowledged with 200.
type Ack struct {
	Sender   int
	Seq      int64
	SendTime int64     // 0 when the server's answer does not carry it
	At       time.Time // when the answer arrived
}

// Verifier checks what one follower saw of one chat, message by message,
// against the sends acknowledged in that chat. It is not safe for
// concurrent use.
type Verifier struct {
	follower  int
	last      int64 // send_time of the latest message seen
	senders   map[int]*senderTrack
	distinct  int64 // messages seen, each counted once
	anomalies []Anomaly
}

// senderTrack is what a Verifier saw of one sender's messages.
type senderTrack struct {
	seen   []sighting // by Seq-1
	maxSeq int64
}

// sighting is when a message was first seen, with which send_time; the zero
// value means not seen.
type sighting struct {
	at       time.Time
	sendTime int64
}

// NewVerifier returns a Verifier for follower.
func NewVerifier(follower int) *Verifier {
	return &Verifier{follower: follower, senders: make(map[int]*senderTrack)}
}

// Observe checks the next message in the follower's stream.
func (v *Verifier) Observe(d Delivery) {
	if d.Seq < 1 || d.Sender < 0 {
		v.report(AnomalyForeign, d.Sender, d.Seq, "not a message of this run's senders")
		return
	}
	t := v.senders[d.Sender]
	if t == nil {
		t = &senderTrack{}
		v.senders[d.Sender] = t
	}
	for int64(len(t.seen)) < d.Seq {
		t.seen = append(t.seen, sighting{})
	}
	if !t.seen[d.Seq-1].at.IsZero() {
		v.report(AnomalyDuplicate, d.Sender, d.Seq, fmt.Sprintf("seen again, send_time %d", d.SendTime))
		return
	}
	t.seen[d.Seq-1] = sighting{at: d.At, sendTime: d.SendTime}
	v.distinct++
	switch {
	case d.SendTime <= v.last:
		v.report(AnomalyReorder, d.Sender, d.Seq, fmt.Sprintf("send_time %d after send_time %d", d.SendTime, v.last))
	case d.Seq < t.maxSeq:
		v.report(AnomalyReorder, d.Sender, d.Seq, fmt.Sprintf("after message %d of the same sender", t.maxSeq))
	}
	v.last = max(v.last, d.SendTime)
	t.maxSeq = max(t.maxSeq, d.Seq)
}

// ObserveForeign reports a message whose text no sender of the run wrote.
func (v *Verifier) ObserveForeign(text string) {
	v.report(AnomalyForeign, -1, 0, fmt.Sprintf("text %.40q", text))
}

// sighting returns when and how the follower saw a sender's message; its
// at is zero when it has not.
func (v *Verifier) sighting(sender int, seq int64) sighting {
	t := v.senders[sender]
	if t == nil || seq < 1 || seq > int64(len(t.seen)) {
		return sighting{}
	}
	return t.seen[seq-1]
}

// Seen returns how many distinct messages of the run's senders the
// follower has seen, acknowledged or not.
func (v *Verifier) Seen() int64 { return v.distinct }

// Missing returns how many of acks the follower has not seen yet.
func (v *Verifier) Missing(acks []Ack) int {
	n := 0
	for _, a := range acks {
		if v.sighting(a.Sender, a.Seq).at.IsZero() {
			n++
		}
	}
	return n
}

// Finish checks that every one of acks was seen, with the send_time it was
// acknowledged with (when the server said), and records in delivery the time from each
// acknowledgement acknowledged at or after measureFrom to the follower
// seeing the message (0 when it was seen before the acknowledgement
// arrived). It returns every anomaly found and how many acknowledged
// messages were delivered; Finish must be called once, after the stream.
func (v *Verifier) Finish(acks []Ack, measureFrom time.Time, delivery *histogram.Histogram) (anomalies []Anomaly, delivered int64) {
	for _, a := range acks {
		s := v.sighting(a.Sender, a.Seq)
		switch {
		case s.at.IsZero():
			v.report(AnomalyMissing, a.Sender, a.Seq, fmt.Sprintf("acknowledged with send_time %d, never seen", a.SendTime))
			continue
		case a.SendTime != 0 && s.sendTime != a.SendTime:
			v.report(AnomalyMismatch, a.Sender, a.Seq, fmt.Sprintf("seen with send_time %d, acknowledged with %d", s.sendTime, a.SendTime))
		}
		delivered++
		if !a.At.Before(measureFrom) {
			delivery.Record(max(int64(s.at.Sub(a.At)), 0))
		}
	}
	return v.anomalies, delivered
}

func (v *Verifier) report(kind AnomalyKind, sender int, seq int64, detail string) {
	v.anomalies = append(v.anomalies, Anomaly{Kind: kind, Follower: v.follower, Sender: sender, Seq: seq, Detail: detail})
}
