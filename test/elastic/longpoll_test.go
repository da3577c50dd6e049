package elastic_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// tailPage is a pull's answer.
type tailPage struct {
	Messages   []pulledMessage `json:"messages"`
	HasMore    bool            `json:"has_more"`
	NextCursor int64           `json:"next_cursor"`
}

// longPoll is one pull of chat from cursor waiting up to waitMs, through
// gw; any answer but 200 is an error.
func longPoll(client *http.Client, gw *harness.Gateway, chat string, cursor int64, waitMs int) (tailPage, error) {
	q := url.Values{"chat": {chat}, "cursor": {fmt.Sprint(cursor)}, "wait_ms": {fmt.Sprint(waitMs)}}
	resp, err := client.Get(gw.URL + "/api/pull?" + q.Encode())
	if err != nil {
		return tailPage{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return tailPage{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return tailPage{}, fmt.Errorf("%s: %s", resp.Status, b)
	}
	var p tailPage
	return p, json.Unmarshal(b, &p)
}

// sendVia sends text to chat through gw and returns its send time.
func sendVia(t *testing.T, client *http.Client, gw *harness.Gateway, chat, sender, text string) int64 {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"chat": chat, "sender": sender, "text": text})
	resp, err := client.Post(gw.URL+"/api/send", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		SendTime int64 `json:"send_time"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("send: %s, %v", resp.Status, err)
	}
	return out.SendTime
}

// inboxPoll is one inbox call of member from cursor waiting up to waitMs,
// through gw: the chats listed and the next cursor.
func inboxPoll(client *http.Client, gw *harness.Gateway, member, cursor string, waitMs int) ([]string, string, error) {
	q := url.Values{"member": {member}, "cursor": {cursor}, "wait_ms": {fmt.Sprint(waitMs)}}
	resp, err := client.Get(gw.URL + "/api/inbox?" + q.Encode())
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	var p struct {
		Chats []struct {
			Chat string `json:"chat"`
		} `json:"chats"`
		HasMore    bool   `json:"has_more"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, "", err
	}
	if p.HasMore {
		return nil, "", fmt.Errorf("inbox of %s has more than a page", member)
	}
	chats := make([]string, len(p.Chats))
	for i, c := range p.Chats {
		chats[i] = c.Chat
	}
	return chats, p.NextCursor, nil
}

// createGroupVia creates a group of members through gw and returns its id.
func createGroupVia(t *testing.T, client *http.Client, gw *harness.Gateway, members ...string) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"members": members})
	resp, err := client.Post(gw.URL+"/api/chats", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		Chat string `json:"chat"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create group: %s, %v", resp.Status, err)
	}
	return out.Chat
}

// untilWaiting returns once gw holds n waiting pulls (or inbox calls).
func untilWaiting(t *testing.T, gw *harness.Gateway, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got := scrapeSum(t, gw.MetricsURL, "pigeonhole_waiting_pulls")
		if int(got) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %v waiting pulls, want %d", gw.URL, got, n)
		}
	}
}

type polled struct {
	page tailPage
	err  error
	at   time.Time
}

// longPollAsync runs longPoll in the background.
func longPollAsync(client *http.Client, gw *harness.Gateway, chat string, cursor int64, waitMs int) <-chan polled {
	out := make(chan polled, 1)
	go func() {
		p, err := longPoll(client, gw, chat, cursor, waitMs)
		out <- polled{p, err, time.Now()}
	}()
	return out
}

// TestLongPoll runs two replicas on one MariaDB and gateways that find
// them in etcd: a follower long-polling through one gateway is woken by
// sends through the other, whichever replicas serve them; the cap on
// waiting pulls answers the excess at once; an inbox long-polled through
// one gateway is woken by activity through the other; a gateway or a replica that
// is told to stop answers its waiting pulls at once, with their cursor.
func TestLongPoll(t *testing.T) {
	dsn := mysqltest.NewDSN(t)
	etcd := harness.StartEtcd(t)
	replicas := []*replica{startReplica(t, dsn, etcd), startReplica(t, dsn, etcd)}
	var gateways []*harness.Gateway
	for range 2 {
		gateways = append(gateways, harness.StartGateway(t, harness.GatewayOptions{
			Services:  []string{"127.0.0.1:1"}, // unused: --etcd wins
			ExtraArgs: []string{"--etcd", etcd, "--max-waiters", "2"},
		}))
	}
	client := &http.Client{Timeout: 40 * time.Second}

	t.Run("FollowerSeesSendsThroughTheOtherGateway", func(t *testing.T) {
		const chat, n = "amy:bob", 30
		var cursor int64
		var sent []int64
		var delays []time.Duration
		for i := range n {
			got := longPollAsync(client, gateways[0], chat, cursor, 20_000)
			untilWaiting(t, gateways[0], 1)
			start := time.Now()
			sent = append(sent, sendVia(t, client, gateways[1], chat, "bob", fmt.Sprint(i)))
			p := <-got
			if p.err != nil {
				t.Fatalf("long poll %d: %v", i, p.err)
			}
			if len(p.page.Messages) != 1 || p.page.Messages[0].Text != fmt.Sprint(i) {
				t.Fatalf("long poll %d: got %+v, want the message %d (an empty page means no wake)", i, p.page.Messages, i)
			}
			delays = append(delays, p.at.Sub(start))
			cursor = p.page.NextCursor
		}
		slices.Sort(delays)
		t.Logf("send through one gateway to delivery through the other, %d messages: median %v, max %v", n, delays[n/2], delays[n-1])
		if got, want := cursor, sent[n-1]+1; got != want {
			t.Fatalf("final cursor %d, want %d", got, want)
		}
	})

	t.Run("InboxFollowerSeesActivityThroughTheOtherGateway", func(t *testing.T) {
		// A group made before the wait: a waiting inbox watches the groups
		// among its member's newest chats. The two-member chat is new:
		// its id names the member.
		team := createGroupVia(t, client, gateways[1], "boss", "ivy", "jon")
		_, cursor, err := inboxPoll(client, gateways[0], "ivy", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, step := range []struct{ chat, sender string }{{"ivy:kim", "kim"}, {team, "jon"}, {"ivy:kim", "kim"}, {team, "boss"}} {
			got := make(chan error, 1)
			var chats []string
			go func() {
				var err error
				chats, cursor, err = inboxPoll(client, gateways[0], "ivy", cursor, 20_000)
				got <- err
			}()
			untilWaiting(t, gateways[0], 1)
			sendVia(t, client, gateways[1], step.chat, step.sender, fmt.Sprint(i))
			if err := <-got; err != nil {
				t.Fatalf("inbox long poll %d: %v", i, err)
			}
			if !slices.Equal(chats, []string{step.chat}) {
				t.Fatalf("inbox long poll %d: got chats %q, want [%s] (none means no wake)", i, chats, step.chat)
			}
		}
		// Nothing new: the wait ends with the same cursor.
		chats, next, err := inboxPoll(client, gateways[0], "ivy", cursor, 300)
		if err != nil || len(chats) != 0 || next != cursor {
			t.Fatalf("quiet inbox long poll: got %q, %q, %v; want none and cursor %q", chats, next, err, cursor)
		}
	})

	t.Run("WaitOutlastsTheServersReadAndWriteTimeouts", func(t *testing.T) {
		// The gateway's per-read and per-write timeouts (10 s) and the
		// RPC timeout (3 s) must not cut a wait that is longer.
		const waitMs = 12_000
		start := time.Now()
		p, err := longPoll(client, gateways[0], "quiet:chat", 7, waitMs)
		if err != nil || len(p.Messages) != 0 || p.NextCursor != 7 {
			t.Fatalf("quiet long poll: got %+v, %v; want the empty page at cursor 7", p, err)
		}
		if took := time.Since(start); took < waitMs*time.Millisecond {
			t.Fatalf("quiet long poll answered after %v, before its wait_ms", took)
		}
	})

	t.Run("ExcessOverMaxWaitersIsAPlainPoll", func(t *testing.T) {
		held := []<-chan polled{
			longPollAsync(client, gateways[0], "cap:one", 0, 30_000),
			longPollAsync(client, gateways[0], "cap:two", 0, 30_000),
		}
		untilWaiting(t, gateways[0], 2)
		start := time.Now()
		p, err := longPoll(client, gateways[0], "cap:three", 0, 30_000)
		if err != nil || len(p.Messages) != 0 || p.NextCursor != 0 {
			t.Fatalf("pull past --max-waiters: got %+v, %v; want the empty page at once", p, err)
		}
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("pull past --max-waiters took %v: it waited", took)
		}
		sendVia(t, client, gateways[1], "cap:one", "one", "release")
		sendVia(t, client, gateways[1], "cap:two", "two", "release")
		for _, h := range held {
			if p := <-h; p.err != nil || len(p.page.Messages) != 1 {
				t.Fatalf("held pull: got %+v, %v; want the release message", p.page, p.err)
			}
		}
	})

	t.Run("StoppingGatewayAnswersItsWaiters", func(t *testing.T) {
		gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{"127.0.0.1:1"}, ExtraArgs: []string{"--etcd", etcd}})
		cursor := sendVia(t, client, gw, "gw:stop", "gw", "before") + 1
		var held []<-chan polled
		for range 3 {
			held = append(held, longPollAsync(client, gw, "gw:stop", cursor, 30_000))
		}
		untilWaiting(t, gw, 3)
		start := time.Now()
		gw.Stop() // fails the test unless it exits 0
		for _, h := range held {
			p := <-h
			if p.err != nil || len(p.page.Messages) != 0 || p.page.NextCursor != cursor {
				t.Fatalf("waiting pull on a stopping gateway: got %+v, %v; want the empty page at cursor %d", p.page, p.err, cursor)
			}
			if took := p.at.Sub(start); took > 4*time.Second {
				t.Fatalf("waiting pull answered %v after SIGTERM: it was held to the end of the drain", took)
			}
		}
	})

	t.Run("StoppingReplicaAnswersItsWaitersInsideItsDrain", func(t *testing.T) {
		// A gateway that calls replica 0 only, so that every pull waits there.
		gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{replicas[0].Addr}})
		cursor := sendVia(t, client, gw, "rep:stop", "rep", "before") + 1
		var held []<-chan polled
		for range 2 {
			held = append(held, longPollAsync(client, gw, "rep:stop", cursor, 30_000))
		}
		untilWaiting(t, gw, 2)
		start := time.Now()
		replicas[0].Stop() // fails the test unless it drains and exits 0
		for _, h := range held {
			p := <-h
			if p.err != nil || len(p.page.Messages) != 0 || p.page.NextCursor != cursor {
				t.Fatalf("waiting pull on a stopping replica: got %+v, %v; want the empty page at cursor %d", p.page, p.err, cursor)
			}
			// The replica drains for 6 s (--drain) before it stops
			// accepting: the answer must not wait for that.
			if took := p.at.Sub(start); took > 4*time.Second {
				t.Fatalf("waiting pull answered %v after SIGTERM: not inside the drain", took)
			}
		}
	})
}
