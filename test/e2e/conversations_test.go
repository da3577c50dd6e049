package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// chat is the body of the chat endpoints.
type chat struct {
	Chat      string   `json:"chat"`
	Title     string   `json:"title"`
	Owner     string   `json:"owner"`
	Members   []string `json:"members"`
	CreatedAt int64    `json:"created_at"`
}

// inboxPage is a successful inbox's body.
type inboxPage struct {
	Chats []struct {
		Chat        string   `json:"chat"`
		Title       string   `json:"title"`
		Members     []string `json:"members"`
		LastMessage *struct {
			Sender   string `json:"sender"`
			SendTime int64  `json:"send_time"`
			Text     string `json:"text"`
		} `json:"last_message"`
		Unread       int   `json:"unread"`
		UnreadCapped bool  `json:"unread_capped"`
		ReadUpTo     int64 `json:"read_up_to"`
	} `json:"chats"`
	HasMore    bool   `json:"has_more"`
	NextCursor string `json:"next_cursor"`
}

func (a *api) inbox(t *testing.T, member, cursor string, limit string) inboxPage {
	t.Helper()
	q := url.Values{"member": {member}, "limit": {limit}, "cursor": {cursor}}
	var p inboxPage
	a.do(t, http.MethodGet, "/api/inbox?"+q.Encode(), "").decode(t, http.StatusOK, &p)
	return p
}

// TestConversations drives groups, inboxes and read markers through the
// gateway and the RPC, on both stores.
func TestConversations(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, sys *system) {
		var team chat
		sys.api.postJSON(t, "/api/chats", map[string]any{"members": []string{"c1", "c2"}, "title": "team", "member": "boss"}).
			decode(t, http.StatusOK, &team)
		if strings.Contains(team.Chat, ":") || team.Owner != "boss" || !slices.Equal(team.Members, []string{"boss", "c1", "c2"}) {
			t.Fatalf("created %+v", team)
		}
		direct := sys.api.send(t, "c2:c1", "direct hello", "c2")
		group := sys.api.send(t, team.Chat, "group hello", "c2")
		if group.Chat != team.Chat {
			t.Fatalf("sent to %q, want %q", group.Chat, team.Chat)
		}
		if p := sys.api.pullQuery(t, team.Chat, 0, 10, false); len(p.Messages) != 1 || p.Messages[0].Text != "group hello" || p.Messages[0].Chat != team.Chat {
			t.Fatalf("pulled %+v", p)
		}

		p := sys.api.inbox(t, "c1", "", "1")
		if len(p.Chats) != 1 || !p.HasMore || p.Chats[0].Chat != team.Chat || p.Chats[0].Unread != 1 || p.Chats[0].Title != "team" {
			t.Fatalf("first page of c1's inbox: %+v", p)
		}
		next := sys.api.inbox(t, "c1", p.NextCursor, "1")
		if len(next.Chats) != 1 || next.HasMore || next.Chats[0].Chat != "c1:c2" || next.Chats[0].LastMessage.SendTime != direct.SendTime {
			t.Fatalf("second page of c1's inbox: %+v", next)
		}

		var read struct {
			ReadUpTo     int64 `json:"read_up_to"`
			Unread       int   `json:"unread"`
			UnreadCapped bool  `json:"unread_capped"`
		}
		sys.api.postJSON(t, "/api/read", map[string]any{"chat": team.Chat, "member": "c1", "send_time": group.SendTime}).
			decode(t, http.StatusOK, &read)
		if read.ReadUpTo != group.SendTime || read.Unread != 0 {
			t.Fatalf("read %+v", read)
		}

		var changed chat
		sys.api.postJSON(t, "/api/chats/"+team.Chat+"/members", map[string]any{"remove": []string{"c2"}, "member": "boss"}).
			decode(t, http.StatusOK, &changed)
		if !slices.Equal(changed.Members, []string{"boss", "c1"}) {
			t.Fatalf("after removing c2: %+v", changed)
		}
		sys.api.postJSON(t, "/api/send", map[string]string{"chat": team.Chat, "text": "still here?", "sender": "c2"}).
			wantError(t, http.StatusForbidden, "permission_denied")
		sys.api.postJSON(t, "/api/chats/"+team.Chat+"/members", map[string]any{"remove": []string{"c1"}, "member": "c2"}).
			wantError(t, http.StatusForbidden, "permission_denied")
		sys.api.do(t, http.MethodGet, "/api/chats/"+team.Chat+"?member=c2", "").wantError(t, http.StatusForbidden, "permission_denied")
		sys.api.do(t, http.MethodGet, "/api/chats/gaaaaaaaaaaaaaaaaaaaaaaaaaa", "").wantError(t, http.StatusNotFound, "not_found")
		sys.api.postJSON(t, "/api/chats", map[string]any{"members": []string{"x"}, "title": strings.Repeat("t", 300)}).
			wantError(t, http.StatusRequestEntityTooLarge, "too_large")
		sys.api.do(t, http.MethodGet, "/api/inbox?member=c1&cursor=forged", "").wantError(t, http.StatusBadRequest, "invalid_argument")

		var got chat
		sys.api.do(t, http.MethodGet, "/api/chats/"+team.Chat+"?member=c1", "").decode(t, http.StatusOK, &got)
		if got.Chat != team.Chat || got.CreatedAt != team.CreatedAt || !slices.Equal(got.Members, []string{"boss", "c1"}) {
			t.Fatalf("chat %+v", got)
		}
	})
}
