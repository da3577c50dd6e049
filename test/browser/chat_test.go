package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// delivery is how soon a message sent in one browser must show in another
// that has the chat open (long-poll), measured from the sender's
// acknowledgement. Generous for a loaded 2-core machine running -race
// binaries; delivery itself takes milliseconds.
const delivery = time.Second

// startSystem starts an rpc-server on a fresh embedded store and a gateway
// in front of it, with extra gateway flags.
func startSystem(t *testing.T, rpcArgs, gatewayArgs []string) *harness.Gateway {
	t.Helper()
	rpc := harness.StartRPCServer(t, harness.RPCOptions{ExtraArgs: rpcArgs})
	return harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}, ExtraArgs: gatewayArgs})
}

// apiCall calls the gateway's JSON API directly (to seed and to check) and
// decodes a 200 answer into out.
func apiCall(t *testing.T, gw *harness.Gateway, method, path, token string, body, out any) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, gw.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
}

type message struct {
	Sender   string `json:"sender"`
	Text     string `json:"text"`
	SendTime int64  `json:"send_time"`
}

// history reads a whole chat forward through the API.
func history(t *testing.T, gw *harness.Gateway, chat, token string) []message {
	t.Helper()
	var all []message
	cursor := int64(0)
	for {
		var page struct {
			Messages   []message `json:"messages"`
			HasMore    bool      `json:"has_more"`
			NextCursor int64     `json:"next_cursor"`
		}
		q := url.Values{"chat": {chat}, "cursor": {fmt.Sprint(cursor)}, "limit": {"100"}}
		apiCall(t, gw, "GET", "/api/pull?"+q.Encode(), token, nil, &page)
		all = append(all, page.Messages...)
		if !page.HasMore {
			return all
		}
		cursor = page.NextCursor
	}
}

func TestTwoPeopleChat(t *testing.T) {
	gw := startSystem(t, nil, nil)
	b := startBrowser(t)
	a1 := b.open(t, "a1", gw.URL+"/")
	a2 := b.open(t, "a2", gw.URL+"/")
	a1.signIn("a1")
	a2.signIn("a2")

	t.Run("MessageArrivesWithUnreadBadge", func(t *testing.T) {
		a1.openDirect("a2")
		a1.send("hello from a1")
		a1.waitUntil(10*time.Second, "the send to be stored", hasMessage("hello from a1"))
		a2.waitUntil(10*time.Second, "an unread badge", badge("a1:a2")+` === '1'`)
		a2.screenshot("inbox-desktop", 1280, 800)
		a2.screenshot("inbox-phone", 390, 844)
	})

	t.Run("OpeningTheChatClearsTheBadge", func(t *testing.T) {
		a2.openFromInbox("a1:a2")
		a2.waitUntil(delivery, "the message", hasMessage("hello from a1"))
		a2.waitUntil(5*time.Second, "the badge to clear", badge("a1:a2")+` === ''`)
		var inbox struct {
			Chats []struct {
				Chat   string `json:"chat"`
				Unread int    `json:"unread"`
			} `json:"chats"`
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			apiCall(t, gw, "GET", "/api/inbox?member=a2", "", nil, &inbox)
			if len(inbox.Chats) == 1 && inbox.Chats[0].Unread == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a2's inbox after reading: %+v, want a1:a2 with 0 unread", inbox.Chats)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("EachSeesTheOtherLive", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			from, to := a1, a2
			if i%2 == 1 {
				from, to = a2, a1
			}
			text := fmt.Sprintf("live %d from %s", i, from.name)
			from.send(text)
			from.waitUntil(10*time.Second, "the send to be stored", hasMessage(text))
			to.waitUntil(delivery, "the other's message without reloading", hasMessage(text))
		}
		a1.screenshot("chat-desktop", 1280, 800)
		a1.screenshot("chat-phone", 390, 844)
	})

	t.Run("MessageTextIsShownLiterally", func(t *testing.T) {
		const xss = `<img src=x onerror=alert(1)><script>alert(2)</script>`
		a1.send(xss)
		a2.waitUntil(5*time.Second, "the literal text", hasMessage(xss))
		if n := eval[int](a2, `document.querySelectorAll('#message-list img, #message-list script').length`); n != 0 {
			t.Errorf("the message became %d elements", n)
		}
		time.Sleep(200 * time.Millisecond) // an onerror would have fired by now
		a1.noAlerts()
		a2.noAlerts()
	})

	t.Run("EverythingStoredOnceInOrder", func(t *testing.T) {
		got := history(t, gw, "a1:a2", "")
		want := []string{"hello from a1", "live 0 from a1", "live 1 from a2", "live 2 from a1",
			`<img src=x onerror=alert(1)><script>alert(2)</script>`}
		if len(got) != len(want) {
			t.Fatalf("stored %d messages, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i].Text != want[i] {
				t.Errorf("message %d: got %q, want %q", i, got[i].Text, want[i])
			}
		}
		shown := a2.messageTexts()
		if fmt.Sprint(shown) != fmt.Sprint(want) {
			t.Errorf("a2 shows %q, want %q", shown, want)
		}
	})
}

func TestScrollBackThroughHistory(t *testing.T) {
	gw := startSystem(t, nil, nil)
	const n = 250
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("history %03d", i)
		sender := []string{"a1", "a3"}[i%2]
		apiCall(t, gw, "POST", "/api/send", "", map[string]string{"chat": "a1:a3", "sender": sender, "text": want[i]}, nil)
	}
	b := startBrowser(t)
	a1 := b.open(t, "a1", gw.URL+"/")
	a1.signIn("a1")
	a1.openDirect("a3")
	for i := 0; ; i++ {
		if eval[string](a1, `document.getElementById('history-state').textContent`) == "Beginning of the chat" {
			break
		}
		if i > 50 {
			t.Fatalf("still not at the beginning after %d scrolls; shown %d", i, len(a1.messageTexts()))
		}
		before := len(a1.messageTexts())
		eval[int](a1, `document.getElementById('messages').scrollTop = 0`)
		a1.waitUntil(10*time.Second, "an older page", fmt.Sprintf(
			`document.querySelectorAll('#message-list li').length > %d || document.getElementById('history-state').textContent === 'Beginning of the chat'`, before))
	}
	got := a1.messageTexts()
	if len(got) != n {
		t.Fatalf("shown %d messages, want %d", len(got), n)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d: got %q, want %q (each exactly once, in order)", i, got[i], want[i])
		}
	}
}

func TestGroupOfThree(t *testing.T) {
	gw := startSystem(t, nil, nil)
	b := startBrowser(t)
	a1 := b.open(t, "a1", gw.URL+"/")
	a2 := b.open(t, "a2", gw.URL+"/")
	a3 := b.open(t, "a3", gw.URL+"/")
	a1.signIn("a1")
	a2.signIn("a2")
	a3.signIn("a3")

	eval[bool](a1, `document.getElementById('new-group-box').open = true`)
	a1.setValue("group-title", "team")
	a1.setValue("group-members", "a2, a3")
	a1.submit("new-group")
	a1.waitUntil(10*time.Second, "the group to open", `document.getElementById('chat-title').textContent === 'team'`)
	chat := eval[string](a1, `document.querySelector('#inbox button[aria-current="true"]').dataset.chat`)

	a3.waitUntil(10*time.Second, "the group in a3's inbox", `[...document.querySelectorAll('#inbox .name')].some(e => e.textContent === 'team')`)
	a3.openFromInbox(chat)
	a3.send("hi team")
	a3.waitUntil(10*time.Second, "the send to be stored", hasMessage("hi team"))
	a1.waitUntil(delivery, "a3's message in the open group", hasMessage("hi team"))
	a2.waitUntil(10*time.Second, "an unread badge on the group", badge(chat)+` === '1'`)

	// Members: a1 sees all three; a2 leaves, and the group no longer lets it post.
	eval[bool](a1, `document.getElementById('members-toggle').click() || true`)
	a1.waitUntil(5*time.Second, "the member list", `document.querySelectorAll('#members li').length === 3`)
	a2.openFromInbox(chat)
	eval[bool](a2, `document.getElementById('members-toggle').click() || true`)
	eval[bool](a2, `document.getElementById('leave').click() || true`)
	a2.waitUntil(5*time.Second, "the group to close", `document.getElementById('chat-pane').hidden`)
	eval[bool](a1, `document.getElementById('members-toggle').click() || true`) // close
	eval[bool](a1, `document.getElementById('members-toggle').click() || true`) // and reopen: fresh list
	a1.waitUntil(5*time.Second, "two members left", `document.querySelectorAll('#members li').length === 2`)
}

func TestRateLimitShownAndRecovered(t *testing.T) {
	gw := startSystem(t, nil, []string{"--send-rate", "1", "--send-burst", "1"})
	b := startBrowser(t)
	a1 := b.open(t, "a1", gw.URL+"/")
	a1.signIn("a1")
	a1.openDirect("a2")
	texts := []string{"one", "two", "three"}
	for _, text := range texts {
		a1.send(text)
	}
	a1.waitUntil(10*time.Second, "the rate-limit notice", `document.getElementById('status').textContent.startsWith('Too many requests')`)
	a1.waitUntil(15*time.Second, "every message to be stored", hasMessage("three")+` && `+hasMessage("two")+` && `+hasMessage("one"))
	a1.waitUntil(5*time.Second, "the notice to clear", `document.getElementById('status').hidden`)
	got := history(t, gw, "a1:a2", "")
	if len(got) != len(texts) {
		t.Fatalf("stored %d messages, want %d (each exactly once): %+v", len(got), len(texts), got)
	}
}

func TestWithAuthentication(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "jwt-secret")
	if err := os.WriteFile(secret, []byte("a development secret of 32 bytes+\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	auth := []string{"--auth", "jwt", "--jwt-secret-file", secret}
	gw := startSystem(t, auth, append([]string{"--dev-login"}, auth...))
	b := startBrowser(t)
	a1 := b.open(t, "a1", gw.URL+"/")
	a2 := b.open(t, "a2", gw.URL+"/")

	// a1 uses the development sign-in; a2 pastes a token from the token command.
	a1.waitUntil(10*time.Second, "the development sign-in", `!document.getElementById('signin-dev').hidden`)
	a1.setValue("dev-member", "a1")
	a1.submit("signin-dev")
	a1.waitUntil(10*time.Second, "the inbox", `!document.getElementById('app').hidden`)
	out, err := exec.Command(harness.MustBuild(t).HTTPServer, "token", "--sub", "a2", "--jwt-secret-file", secret).Output()
	if err != nil {
		t.Fatalf("http-server token: %v", err)
	}
	a2.signInWithToken(strings.TrimSpace(string(out)))
	if got := eval[string](a2, `sessionStorage.getItem('pigeonhole.token') ?? ''`); got == "" || strings.Contains(eval[string](a2, `location.href`), got) {
		t.Errorf("the token must live in sessionStorage, never in the URL")
	}

	a1.openDirect("a2")
	a1.send("signed hello")
	a1.waitUntil(10*time.Second, "the send to be stored", hasMessage("signed hello"))
	a2.waitUntil(10*time.Second, "an unread badge", badge("a1:a2")+` === '1'`)
	a2.openFromInbox("a1:a2")
	a2.waitUntil(delivery, "the message", hasMessage("signed hello"))
	a2.send("signed reply")
	a1.waitUntil(delivery, "the reply", hasMessage("signed reply"))

	// A token the servers refuse sends the person back to sign in, in words.
	eval[bool](a2, `sessionStorage.setItem('pigeonhole.token', 'x.eyJzdWIiOiJhMiJ9.y'), true`)
	a2.do(chromedp.Reload())
	a2.waitUntil(10*time.Second, "the sign-in form again", `!document.getElementById('signin').hidden &&
		document.getElementById('status').textContent.startsWith('Please sign in again')`)
}
