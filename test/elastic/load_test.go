package elastic_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// load is the traffic of the elastic test: senders and two followers per
// chat (one polling, one long-polling with wait_ms), spread over every
// gateway, counting every request and failure.
type load struct {
	gateways []*harness.Gateway
	chats    []string
	client   *http.Client
	quit     chan struct{}
	senders  sync.WaitGroup
	follow   sync.WaitGroup
	readers  sync.WaitGroup
	caughtUp chan struct{} // closed when followers should stop at the final count

	requests atomic.Int64
	mu       sync.Mutex
	failures []string
	acked    map[string][]ackedMessage  // by chat
	seen     map[string][]pulledMessage // by the polling followers
	waited   map[string][]pulledMessage // by the long-polling followers
	expected map[string]int             // final count per chat, set when senders stop
	passes   map[string][]readPass
}

// readPass is one read of a whole chat from its beginning by a reader.
type readPass struct {
	ackedBefore int     // acknowledged sends of the chat when the pass began
	times       []int64 // the send times it read, in order
}

type ackedMessage struct {
	text     string
	sendTime int64
}

type pulledMessage struct {
	Chat     string `json:"chat"`
	Text     string `json:"text"`
	Sender   string `json:"sender"`
	SendTime int64  `json:"send_time"`
}

func startLoad(t *testing.T, gateways []*harness.Gateway, chats, senders int) *load {
	l := &load{
		gateways: gateways,
		client:   &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		quit:     make(chan struct{}),
		caughtUp: make(chan struct{}),
		acked:    map[string][]ackedMessage{},
		seen:     map[string][]pulledMessage{},
		waited:   map[string][]pulledMessage{},
		passes:   map[string][]readPass{},
	}
	for c := 0; c < chats; c++ {
		l.chats = append(l.chats, fmt.Sprintf("amy%d:bob%d", c, c))
	}
	for s := 0; s < senders; s++ {
		l.senders.Add(1)
		go l.send(s)
	}
	for f, chat := range l.chats {
		l.follow.Add(2)
		go l.tail(f, chat, l.seen, 0)
		go l.tail(f, chat, l.waited, longPollMs)
		l.readers.Add(1)
		go l.read(f, chat)
	}
	return l
}

// read pages through chat from its beginning again and again until quit,
// with page sizes varying from 1 to 20 and gateways alternating, as
// people scrolling a chat's history do. Most of its pages come from the
// replicas' range caches (history already read) while the tail keeps
// growing, so stop checks that every pass read a prefix of the chat's
// final history holding every message acknowledged before the pass began.
func (l *load) read(id int, chat string) {
	defer l.readers.Done()
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	for i := 0; ; {
		select {
		case <-l.quit:
			return
		default:
		}
		l.mu.Lock()
		pass := readPass{ackedBefore: len(l.acked[chat])}
		l.mu.Unlock()
		for cursor := int64(0); ; i++ {
			var page struct {
				Messages   []pulledMessage `json:"messages"`
				HasMore    bool            `json:"has_more"`
				NextCursor int64           `json:"next_cursor"`
			}
			q := url.Values{"chat": {chat}, "cursor": {fmt.Sprint(cursor)}, "limit": {fmt.Sprint(1 + rng.IntN(20))}}
			if err := l.do(http.MethodGet, l.gateways[(id+i)%len(l.gateways)].URL+"/api/pull?"+q.Encode(), nil, &page); err != nil {
				l.fail("read %s at %d: %v", chat, cursor, err)
				break
			}
			for _, m := range page.Messages {
				pass.times = append(pass.times, m.SendTime)
			}
			if !page.HasMore {
				l.mu.Lock()
				l.passes[chat] = append(l.passes[chat], pass)
				l.mu.Unlock()
				break
			}
			cursor = page.NextCursor
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 50 {
		l.failures = append(l.failures, fmt.Sprintf(format, args...))
	} else {
		l.failures[49] = "… and more"
	}
}

// send sends numbered messages until quit; even senders give a
// client_msg_id, odd ones leave it to the gateway.
func (l *load) send(id int) {
	defer l.senders.Done()
	chat := l.chats[id%len(l.chats)]
	sender := []string{"amy", "bob"}[id%2] + chat[3:len(chat)/2]
	for seq := 0; ; seq++ {
		select {
		case <-l.quit:
			return
		default:
		}
		text := fmt.Sprintf("w%d-%d", id, seq)
		body := map[string]string{"chat": chat, "text": text, "sender": sender}
		if id%2 == 0 {
			body["client_msg_id"] = text
		}
		b, _ := json.Marshal(body)
		gw := l.gateways[(id+seq)%len(l.gateways)]
		var resp struct {
			SendTime int64 `json:"send_time"`
		}
		if err := l.do(http.MethodPost, gw.URL+"/api/send", b, &resp); err != nil {
			l.fail("send %s to %s: %v", text, chat, err)
			continue
		}
		l.mu.Lock()
		l.acked[chat] = append(l.acked[chat], ackedMessage{text: text, sendTime: resp.SendTime})
		l.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
}

// longPollMs is the wait_ms of the long-polling followers.
const longPollMs = 2000

// tail follows one chat with next_cursor, alternating gateways, until the
// senders have stopped and it has seen the final count, recording what it
// sees in seen[chat]. With waitMs, every pull waits for new messages (a
// long poll); without, a follower that is caught up sleeps between pulls.
func (l *load) tail(id int, chat string, seen map[string][]pulledMessage, waitMs int) {
	defer l.follow.Done()
	cursor := int64(0)
	for i := 0; ; i++ {
		gw := l.gateways[(id+i)%len(l.gateways)]
		var page struct {
			Messages   []pulledMessage `json:"messages"`
			HasMore    bool            `json:"has_more"`
			NextCursor int64           `json:"next_cursor"`
		}
		q := url.Values{"chat": {chat}, "cursor": {fmt.Sprint(cursor)}, "limit": {"50"}}
		if waitMs > 0 {
			q.Set("wait_ms", fmt.Sprint(waitMs))
		}
		if err := l.do(http.MethodGet, gw.URL+"/api/pull?"+q.Encode(), nil, &page); err != nil {
			l.fail("pull %s at %d (wait_ms %d): %v", chat, cursor, waitMs, err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		l.mu.Lock()
		seen[chat] = append(seen[chat], page.Messages...)
		done := l.expected != nil && len(seen[chat]) >= l.expected[chat]
		l.mu.Unlock()
		cursor = page.NextCursor
		if done {
			return
		}
		if !page.HasMore && waitMs == 0 {
			select {
			case <-l.caughtUp:
				time.Sleep(10 * time.Millisecond)
			case <-time.After(30 * time.Millisecond):
			}
		}
	}
}

// do sends one request and decodes a 200 answer into out; anything else is
// an error.
func (l *load) do(method, u string, body []byte, out any) error {
	l.requests.Add(1)
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return json.Unmarshal(b, out)
}

// stop ends the traffic, lets the followers catch up, and checks the
// outcome: no failed request, every acknowledged message stored exactly
// once, every follower saw every message exactly once and in order.
func (l *load) stop(t *testing.T) string {
	t.Helper()
	close(l.quit)
	l.senders.Wait()
	l.readers.Wait()
	l.mu.Lock()
	l.expected = map[string]int{}
	for chat, acked := range l.acked {
		l.expected[chat] = len(acked)
	}
	l.mu.Unlock()
	close(l.caughtUp)
	done := make(chan struct{})
	go func() { l.follow.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("followers did not catch up within 60 s")
	}

	if len(l.failures) > 0 {
		t.Errorf("%d failed client requests, e.g.:\n%s", len(l.failures), fmt.Sprint(l.failures))
	}
	sends := 0
	for _, chat := range l.chats {
		final := l.pullAll(t, chat)
		acked := l.acked[chat]
		sends += len(acked)
		checkStoredOnce(t, chat, acked, final)
		if !slices.Equal(l.seen[chat], final) {
			t.Errorf("chat %s: the follower saw %d messages, the chat holds %d, or in another order", chat, len(l.seen[chat]), len(final))
		}
		if !slices.Equal(l.waited[chat], final) {
			t.Errorf("chat %s: the long-polling follower saw %d messages, the chat holds %d, or in another order", chat, len(l.waited[chat]), len(final))
		}
		checkReads(t, chat, l.passes[chat], acked, final)
	}
	passes := 0
	for _, p := range l.passes {
		passes += len(p)
	}
	return fmt.Sprintf("%d client requests (%d acknowledged sends over %d chats, %d history reads checked), %d failed",
		l.requests.Load(), sends, len(l.chats), passes, len(l.failures))
}

// pullAll reads a whole chat through the first gateway.
func (l *load) pullAll(t *testing.T, chat string) []pulledMessage {
	t.Helper()
	var all []pulledMessage
	for cursor := int64(0); ; {
		var page struct {
			Messages   []pulledMessage `json:"messages"`
			HasMore    bool            `json:"has_more"`
			NextCursor int64           `json:"next_cursor"`
		}
		q := url.Values{"chat": {chat}, "cursor": {fmt.Sprint(cursor)}, "limit": {"100"}}
		if err := l.do(http.MethodGet, l.gateways[0].URL+"/api/pull?"+q.Encode(), nil, &page); err != nil {
			t.Fatalf("final pull of %s: %v", chat, err)
		}
		all = append(all, page.Messages...)
		if !page.HasMore {
			return all
		}
		cursor = page.NextCursor
	}
}

// checkReads checks that each of a reader's passes over chat read a prefix
// of its final history, including every message acknowledged before the
// pass began, and that there were passes to check.
func checkReads(t *testing.T, chat string, passes []readPass, acked []ackedMessage, final []pulledMessage) {
	t.Helper()
	if len(passes) < 10 {
		t.Errorf("chat %s: the reader completed %d passes, want at least 10", chat, len(passes))
	}
	finalTimes := make([]int64, len(final))
	for i, m := range final {
		finalTimes[i] = m.SendTime
	}
	for n, p := range passes {
		if len(p.times) > len(finalTimes) || !slices.Equal(p.times, finalTimes[:len(p.times)]) {
			t.Errorf("chat %s: pass %d read %d messages that are not the start of the chat's history", chat, n, len(p.times))
			continue
		}
		read := make(map[int64]bool, len(p.times))
		for _, st := range p.times {
			read[st] = true
		}
		for _, a := range acked[:p.ackedBefore] {
			if !read[a.sendTime] {
				t.Errorf("chat %s: pass %d missed %q, acknowledged at %d before the pass began", chat, n, a.text, a.sendTime)
				break
			}
		}
	}
}

// checkStoredOnce checks that the chat holds exactly the acknowledged
// messages, each once, at the acknowledged send times, in increasing order.
func checkStoredOnce(t *testing.T, chat string, acked []ackedMessage, stored []pulledMessage) {
	t.Helper()
	byText := make(map[string]int64, len(stored))
	for i, m := range stored {
		if _, dup := byText[m.Text]; dup {
			t.Errorf("chat %s: %q stored twice", chat, m.Text)
		}
		byText[m.Text] = m.SendTime
		if i > 0 && m.SendTime <= stored[i-1].SendTime {
			t.Errorf("chat %s: send_time %d after %d", chat, m.SendTime, stored[i-1].SendTime)
		}
	}
	if len(stored) != len(acked) {
		t.Errorf("chat %s: %d messages stored, %d acknowledged", chat, len(stored), len(acked))
	}
	for _, a := range acked {
		if got, ok := byText[a.text]; !ok || got != a.sendTime {
			t.Errorf("chat %s: acknowledged %q at %d, stored at %d (found %v)", chat, a.text, a.sendTime, got, ok)
		}
	}
}
