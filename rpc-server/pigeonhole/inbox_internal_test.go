package pigeonhole

import (
	"encoding/base64"
	"testing"
)

func TestInboxCursor(t *testing.T) {
	t.Run("RoundTrip", func(t *testing.T) {
		for _, c := range []inboxCursor{
			{After: 0, Ceiling: 0},
			{After: 5, Ceiling: 9},
			{After: 5, Ceiling: 9, Before: &InboxPosition{Activity: 7, Chat: "a:b"}},
		} {
			got, err := decodeInboxCursor(c.encode())
			if err != nil {
				t.Fatalf("decode(encode(%+v)): %v", c, err)
			}
			if got.After != c.After || got.Ceiling != c.Ceiling || (got.Before == nil) != (c.Before == nil) || c.Before != nil && *got.Before != *c.Before {
				t.Fatalf("got %+v, want %+v", got, c)
			}
		}
	})
	t.Run("RefusesForgeries", func(t *testing.T) {
		for _, raw := range []string{"", "2 0 0", "1 0", "1 -1 0", "1 5 4", "1 0 9 0 a:b", "1 0 9 7 bad", "1 0 9 7 a:b x"} {
			s := b64(raw)
			if raw == "" {
				s = "!!" // not base64
			}
			if _, err := decodeInboxCursor(s); ErrorCode(err) != CodeInvalidArgument {
				t.Fatalf("cursor %q: %v, want invalid_argument", raw, err)
			}
		}
	})
}

func TestNewInboxPage(t *testing.T) {
	entry := func(act int64, chat string) InboxEntry {
		c, _ := ParseChatID(chat)
		return InboxEntry{Chat: c, Activity: act}
	}
	rows := []InboxEntry{entry(30, "a:c"), entry(20, "a:b"), entry(10, "a:d")}
	first := newInboxPage(rows, inboxCursor{}, 2)
	if !first.HasMore || len(first.Chats) != 2 {
		t.Fatalf("first page: %d chats, has_more %v", len(first.Chats), first.HasMore)
	}
	next, _ := decodeInboxCursor(first.NextCursor)
	if next.Ceiling != 30 || next.After != 0 || next.Before == nil || *next.Before != (InboxPosition{20, "a:b"}) {
		t.Fatalf("next cursor %+v, want below (20, a:b) with ceiling 30", next)
	}
	last := newInboxPage(rows[2:], next, 2)
	if last.HasMore {
		t.Fatal("last page has more")
	}
	newer, _ := decodeInboxCursor(last.NextCursor)
	if newer.After != 30 || newer.Before != nil {
		t.Fatalf("cursor after the last page %+v, want newer than 30", newer)
	}
	empty := newInboxPage(nil, newer, 2)
	if again, _ := decodeInboxCursor(empty.NextCursor); again.After != 30 {
		t.Fatalf("an empty page moved the cursor: %+v", again)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
