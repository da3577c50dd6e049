package gateway_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
)

// TestConversationsWithAuthentication holds groups, inboxes and read
// markers to the caller: the token names the acting member, and nobody
// acts as, or reads as, someone else.
func TestConversationsWithAuthentication(t *testing.T) {
	e := newAuthEngine(t, gateway.Config{})
	a1 := header("Authorization", bearer(mustToken(t, "a1", time.Hour)))
	a2 := header("Authorization", bearer(mustToken(t, "a2", time.Hour)))
	x9 := header("Authorization", bearer(mustToken(t, "x9", time.Hour)))
	asJSON := header("Content-Type", "application/json")

	var group chatBody
	t.Run("CreatorIsAddedAsOwner", func(t *testing.T) {
		w := perform(e, "POST", "/api/chats", `{"members":["a2"],"title":"team"}`, asJSON, a1)
		decodeOK(t, w.Code, w.Body.Bytes(), &group)
		if got, want := group.Owner, "a1"; got != want {
			t.Errorf("owner: got %q, want %q", got, want)
		}
		if !slices.Contains(group.Members, "a1") || !slices.Contains(group.Members, "a2") {
			t.Errorf("members: got %v, want a1 and a2", group.Members)
		}
	})
	t.Run("CreatingAsSomeoneElseIsDenied", func(t *testing.T) {
		w := perform(e, "POST", "/api/chats", `{"members":["a2"],"member":"a2"}`, asJSON, a1)
		assertError(t, w, 403, "permission_denied")
	})
	t.Run("EveryEndpointNeedsAToken", func(t *testing.T) {
		for _, req := range [][3]string{
			{"POST", "/api/chats", `{"members":["a2"]}`},
			{"GET", "/api/chats/" + group.Chat, ""},
			{"POST", "/api/chats/" + group.Chat + "/members", `{"add":["a3"]}`},
			{"GET", "/api/inbox", ""},
			{"POST", "/api/read", `{"chat":"a1:a2","send_time":1}`},
		} {
			assertError(t, perform(e, req[0], req[1], req[2], asJSON), 401, "unauthenticated")
		}
	})
	t.Run("InboxIsTheCallers", func(t *testing.T) {
		w := perform(e, "GET", "/api/inbox", "", a2)
		var inbox inboxBody
		decodeOK(t, w.Code, w.Body.Bytes(), &inbox)
		if len(inbox.Chats) != 1 || inbox.Chats[0].Chat != group.Chat {
			t.Errorf("a2's inbox: got %+v, want the group", inbox.Chats)
		}
		assertError(t, perform(e, "GET", "/api/inbox?member=a1", "", a2), 403, "permission_denied")
	})
	t.Run("OutsidersCannotSeeOrChangeTheGroup", func(t *testing.T) {
		assertError(t, perform(e, "GET", "/api/chats/"+group.Chat, "", x9), 403, "permission_denied")
		assertError(t, perform(e, "POST", "/api/chats/"+group.Chat+"/members", `{"add":["x9"]}`, asJSON, x9), 403, "permission_denied")
		assertError(t, perform(e, "POST", "/api/chats/"+group.Chat+"/members", `{"remove":["a2"],"member":"a1"}`, asJSON, x9), 403, "permission_denied")
		assertError(t, perform(e, "GET", "/api/pull?chat="+group.Chat, "", x9), 403, "permission_denied")
	})
	t.Run("MembersReadAndChange", func(t *testing.T) {
		w := perform(e, "GET", "/api/chats/"+group.Chat, "", a2)
		var got chatBody
		decodeOK(t, w.Code, w.Body.Bytes(), &got)
		w = perform(e, "POST", "/api/chats/"+group.Chat+"/members", `{"add":["a3"]}`, asJSON, a2)
		decodeOK(t, w.Code, w.Body.Bytes(), &got)
		if !slices.Contains(got.Members, "a3") {
			t.Errorf("after a2 added a3: members %v", got.Members)
		}
	})
	t.Run("MarkersAreTheCallers", func(t *testing.T) {
		w := perform(e, "POST", "/api/send", `{"chat":"a1:a2","text":"hi"}`, asJSON, a1)
		if w.Code != 200 {
			t.Fatalf("send: %d %s", w.Code, w.Body.String())
		}
		assertError(t, perform(e, "POST", "/api/read", `{"chat":"a1:a2","member":"a1","send_time":1}`, asJSON, a2), 403, "permission_denied")
		w = perform(e, "POST", "/api/read", `{"chat":"a1:a2","send_time":9007199254740991}`, asJSON, a2)
		var st readBody
		decodeOK(t, w.Code, w.Body.Bytes(), &st)
		if st.Unread != 0 {
			t.Errorf("a2's unread after reading everything: got %d, want 0", st.Unread)
		}
		assertError(t, perform(e, "POST", "/api/read", `{"chat":"a1:a2","send_time":1}`, asJSON, x9), 400, "invalid_argument")
	})
}
