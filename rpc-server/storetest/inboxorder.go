package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// memberChats gives member m a mix of two-member chats and groups, n in
// all, and returns their ids.
func memberChats(t *testing.T, svc *pigeonhole.Service, m string, n int) []string {
	t.Helper()
	chats := make([]string, n)
	for i := range chats {
		if i%3 == 2 {
			chats[i] = createGroup(t, svc, m, fmt.Sprintf("g%d", i), fmt.Sprintf("p%d", i), "q").Chat.String()
		} else {
			chats[i] = fmt.Sprintf("%s:p%d", m, i)
		}
	}
	return chats
}

// wantInboxOrder checks that member's whole inbox lists chats in order of
// their newest message, newest first, each with it as last message.
func wantInboxOrder(t *testing.T, svc *pigeonhole.Service, member string, chats []string) {
	t.Helper()
	got, _ := inboxPass(t, svc, member, "", 7)
	if len(got) != len(chats) {
		t.Fatalf("inbox has %d chats, want %d", len(got), len(chats))
	}
	for i, e := range got {
		p := pull(t, svc, pigeonhole.PullRequest{Chat: e.Chat.String(), Reverse: true, Limit: 1})
		if len(p.Messages) == 1 {
			newest := p.Messages[0]
			if e.Last.SendTime != newest.SendTime || e.Last.Text != newest.Text || e.Last.Sender != newest.Sender || e.Activity != newest.SendTime {
				t.Fatalf("entry %s: last %+v activity %d, want the newest message %+v", e.Chat, e.Last, e.Activity, newest)
			}
		}
		if i > 0 && (got[i-1].Activity < e.Activity || got[i-1].Activity == e.Activity && got[i-1].Chat.String() < e.Chat.String()) {
			t.Fatalf("inbox out of order at %d: %s@%d then %s@%d", i, got[i-1].Chat, got[i-1].Activity, e.Chat, e.Activity)
		}
	}
}

func testInboxOrderUnderConcurrentSends(t *testing.T, opener Opener) {
	svcs := []*pigeonhole.Service{open(t, opener, nil), open(t, opener, nil)}
	chats := memberChats(t, svcs[0], "m", 12)
	c := ctx(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				chat := chats[(w*7+i*5)%len(chats)]
				sender := "m"
				if i%2 == 0 {
					sender = "q"
					if !chatIsGroup(chat) {
						sender = "p" + chat[len("m:p"):]
					}
				}
				if _, err := svcs[w%2].Send(c, pigeonhole.SendRequest{Chat: chat, Sender: sender, Text: fmt.Sprintf("w%d-%d", w, i)}); err != nil {
					t.Errorf("send to %s: %v", chat, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, svc := range svcs {
		wantInboxOrder(t, svc, "m", chats)
	}
}

func chatIsGroup(chat string) bool {
	c, err := pigeonhole.ParseChatID(chat)
	return err == nil && c.IsGroup()
}

// testInboxPagingWhileActive pages an inbox while messages arrive between
// pages, to chats already listed and chats not yet listed. The guarantee:
// a pass (paging from "" until has_more is false) lists no chat twice and
// every chat without new activity during it exactly once; the chats with
// new activity that it missed are what the next pass, from the last page's
// next_cursor, lists: exactly the chats with activity newer than the
// first pass's start.
func testInboxPagingWhileActive(t *testing.T, opener Opener) {
	svc, other := open(t, opener, nil), open(t, opener, nil)
	chats := memberChats(t, svc, "m", 25)
	for _, chat := range chats {
		send(t, svc, chat, "m", "hello "+chat)
	}
	var listed []pigeonhole.InboxEntry
	touched := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		// Pages alternate between two instances: the cursor is the whole
		// state of a pass.
		p := inbox(t, []*pigeonhole.Service{svc, other}[page%2], "m", cursor, 4)
		listed = append(listed, p.Chats...)
		// One chat already listed and one not yet listed move to the top.
		if len(listed) > 0 {
			seen := listed[len(listed)/2].Chat.String()
			send(t, other, seen, "m", "again")
			touched[seen] = true
		}
		for _, chat := range chats {
			if !slices.Contains(chatIDs(listed), chat) && !touched[chat] {
				send(t, svc, chat, "m", "jumps ahead")
				touched[chat] = true
				break
			}
		}
		cursor = p.NextCursor
		if !p.HasMore {
			break
		}
	}
	ids := chatIDs(listed)
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			t.Fatalf("%s listed twice in one pass: %v", id, ids)
		}
	}
	for _, chat := range chats {
		if !touched[chat] && !slices.Contains(ids, chat) {
			t.Fatalf("%s, untouched, was not listed: %v", chat, ids)
		}
	}
	next, _ := inboxPass(t, svc, "m", cursor, 4)
	for _, chat := range chats {
		if touched[chat] != slices.Contains(chatIDs(next), chat) {
			t.Fatalf("the next pass lists %v; want exactly the chats with new activity %v", chatIDs(next), touched)
		}
		if !slices.Contains(ids, chat) && !slices.Contains(chatIDs(next), chat) {
			t.Fatalf("%s is in neither pass", chat)
		}
	}
	if _, cursor := inboxPass(t, svc, "m", cursor, 4); len(inbox(t, svc, "m", cursor, 4).Chats) != 0 {
		t.Fatal("a pass after a quiet time is not empty")
	}
}
