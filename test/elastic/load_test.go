package elastic_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// load is the traffic of the elastic test: senders and one follower per
// chat, spread over every gateway, counting every request and failure.
type load struct {
	gateways []*harness.Gateway
	chats    []string
	client   *http.Client
	quit     chan struct{}
	senders  sync.WaitGroup
	follow   sync.WaitGroup
	caughtUp chan struct{} // closed when followers should stop at the final count

	requests atomic.Int64
	mu       sync.Mutex
	failures []string
	acked    map[string][]ackedMessage // by chat
	seen     map[string][]pulledMessage
	expected map[string]int // final count per chat, set when senders stop
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
	}
	for c := 0; c < chats; c++ {
		l.chats = append(l.chats, fmt.Sprintf("amy%d:bob%d", c, c))
	}
	for s := 0; s < senders; s++ {
		l.senders.Add(1)
		go l.send(s)
	}
	for f, chat := range l.chats {
		l.follow.Add(1)
		go l.tail(f, chat)
	}
	return l
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

// tail follows one chat with next_cursor, alternating gateways, until the
// senders have stopped and it has seen the final count.
func (l *load) tail(id int, chat string) {
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
		if err := l.do(http.MethodGet, gw.URL+"/api/pull?"+q.Encode(), nil, &page); err != nil {
			l.fail("pull %s at %d: %v", chat, cursor, err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		l.mu.Lock()
		l.seen[chat] = append(l.seen[chat], page.Messages...)
		done := l.expected != nil && len(l.seen[chat]) >= l.expected[chat]
		l.mu.Unlock()
		cursor = page.NextCursor
		if done {
			return
		}
		if !page.HasMore {
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
	}
	return fmt.Sprintf("%d client requests (%d acknowledged sends over %d chats), %d failed", l.requests.Load(), sends, len(l.chats), len(l.failures))
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
