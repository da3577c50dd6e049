package gateway_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/pigeonhole-im/pigeonhole/http-server/gateway"
	"github.com/pigeonhole-im/pigeonhole/http-server/pb"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// chatBody is the JSON of a chat, as clients read it.
type chatBody struct {
	Chat      string   `json:"chat"`
	Title     string   `json:"title"`
	Owner     string   `json:"owner"`
	Members   []string `json:"members"`
	CreatedAt int64    `json:"created_at"`
}

type inboxBody struct {
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

type readBody struct {
	ReadUpTo     int64 `json:"read_up_to"`
	Unread       int   `json:"unread"`
	UnreadCapped bool  `json:"unread_capped"`
}

// decodeOK checks a 200 JSON answer and decodes it strictly into v.
func decodeOK(t *testing.T, status int, body []byte, v any) {
	t.Helper()
	if status != 200 {
		t.Fatalf("status %d, want 200 (%s)", status, body)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
}

func TestConversationEndpoints(t *testing.T) {
	store := mustOpenStore(t)
	e := newEngine(t, pigeonhole.NewService(store, pigeonhole.Config{MaxGroupMembers: 4}), gateway.Config{})
	w := perform(e, "POST", "/api/chats", `{"members":["a1","a2","a3"],"title":"team","member":"own"}`)
	var chat chatBody
	decodeOK(t, w.Code, w.Body.Bytes(), &chat)
	if strings.Contains(chat.Chat, ":") || chat.Title != "team" || chat.Owner != "own" ||
		!slices.Equal(chat.Members, []string{"a1", "a2", "a3", "own"}) || chat.CreatedAt <= 0 {
		t.Fatalf("created %+v", chat)
	}
	path := "/api/chats/" + chat.Chat
	t.Run("GetChat", func(t *testing.T) {
		var got chatBody
		w := perform(e, "GET", path+"?member=a1", "")
		decodeOK(t, w.Code, w.Body.Bytes(), &got)
		if got.Chat != chat.Chat || !slices.Equal(got.Members, chat.Members) {
			t.Fatalf("got %+v", got)
		}
		assertError(t, perform(e, "GET", path+"?member=stranger", ""), 403, "permission_denied")
		assertError(t, perform(e, "GET", "/api/chats/gaaaaaaaaaaaaaaaaaaaaaaaaaa", ""), 404, "not_found")
		assertError(t, perform(e, "GET", "/api/chats/bad", ""), 400, "invalid_argument")
	})
	t.Run("SendIntoTheGroup", func(t *testing.T) {
		w := perform(e, "POST", "/api/send", `{"chat":"`+chat.Chat+`","sender":"a2","text":"hello team"}`)
		var sent struct {
			SendTime int64  `json:"send_time"`
			Chat     string `json:"chat"`
		}
		decodeOK(t, w.Code, w.Body.Bytes(), &sent)
		if sent.Chat != chat.Chat {
			t.Fatalf("sent to %q, want %q", sent.Chat, chat.Chat)
		}
		assertError(t, perform(e, "POST", "/api/send", `{"chat":"`+chat.Chat+`","sender":"intruder","text":"hi"}`), 403, "permission_denied")
	})
	t.Run("Members", func(t *testing.T) {
		members := path + "/members"
		assertError(t, perform(e, "POST", members, `{"add":["b"],"member":"a1"}`), 413, "too_large")
		assertError(t, perform(e, "POST", members, `{"remove":["a2"],"member":"a1"}`), 403, "permission_denied")
		assertError(t, perform(e, "POST", members, `{"add":["x"],"remove":["x"],"member":"own"}`), 409, "conflict")
		assertError(t, perform(e, "POST", members, `{"add":["x"]}`), 400, "invalid_argument")
		assertError(t, perform(e, "POST", members, "add=x", header("Content-Type", "application/x-www-form-urlencoded")), 400, "invalid_argument")
		var got chatBody
		w := perform(e, "POST", members, `{"remove":["a3"],"member":"own"}`)
		decodeOK(t, w.Code, w.Body.Bytes(), &got)
		if !slices.Equal(got.Members, []string{"a1", "a2", "own"}) {
			t.Fatalf("after removing a3: %v", got.Members)
		}
		assertError(t, perform(e, "POST", "/api/chats", `{"members":["a"],"title":"`+strings.Repeat("t", 257)+`"}`), 413, "too_large")
	})
	t.Run("InboxAndRead", func(t *testing.T) {
		var in inboxBody
		w := perform(e, "GET", "/api/inbox?member=a1&limit=5", "")
		decodeOK(t, w.Code, w.Body.Bytes(), &in)
		if len(in.Chats) != 1 || in.HasMore || in.NextCursor == "" {
			t.Fatalf("inbox %+v", in)
		}
		entry := in.Chats[0]
		if entry.Chat != chat.Chat || entry.Title != "team" || entry.Unread != 1 || entry.LastMessage == nil ||
			entry.LastMessage.Text != "hello team" || entry.LastMessage.Sender != "a2" || entry.ReadUpTo != 0 {
			t.Fatalf("entry %+v", entry)
		}
		var read readBody
		w = perform(e, "POST", "/api/read", `{"chat":"`+chat.Chat+`","member":"a1","send_time":`+jsonInt(entry.LastMessage.SendTime)+`}`)
		decodeOK(t, w.Code, w.Body.Bytes(), &read)
		if read.ReadUpTo != entry.LastMessage.SendTime || read.Unread != 0 || read.UnreadCapped {
			t.Fatalf("read %+v", read)
		}
		w = perform(e, "POST", "/api/read", "chat="+url.QueryEscape(chat.Chat)+"&member=a1&send_time=1", header("Content-Type", "application/x-www-form-urlencoded"))
		decodeOK(t, w.Code, w.Body.Bytes(), &read)
		if read.ReadUpTo != entry.LastMessage.SendTime {
			t.Fatalf("a late marker moved it back: %+v", read)
		}
		w = perform(e, "GET", "/api/inbox?member=a1&cursor="+url.QueryEscape(in.NextCursor), "")
		decodeOK(t, w.Code, w.Body.Bytes(), &in)
		if len(in.Chats) != 0 {
			t.Fatalf("nothing is newer, yet %+v", in)
		}
		assertError(t, perform(e, "POST", "/api/read", `{"chat":"`+chat.Chat+`","member":"stranger","send_time":1}`), 403, "permission_denied")
		assertError(t, perform(e, "GET", "/api/inbox?member=a1&cursor=forged", ""), 400, "invalid_argument")
		assertError(t, perform(e, "GET", "/api/inbox?member=a1&limit=x", ""), 400, "invalid_argument")
		assertError(t, perform(e, "GET", "/api/inbox", ""), 400, "invalid_argument")
	})
	t.Run("GroupWithoutMessagesHasNullLastMessage", func(t *testing.T) {
		perform(e, "POST", "/api/chats", `{"members":["quiet"]}`)
		w := perform(e, "GET", "/api/inbox?member=quiet", "")
		if !strings.Contains(w.Body.String(), `"last_message":null`) {
			t.Fatalf("inbox %s", w.Body.String())
		}
	})
	t.Run("Protobuf", func(t *testing.T) {
		in, _ := proto.Marshal(&pb.CreateChatRequest{Members: []string{"p1", "p2"}, Title: "pb"})
		w := perform(e, "POST", "/api/chats", string(in), header("Content-Type", "application/x-protobuf"), header("Accept", "application/x-protobuf"))
		var created pb.Chat
		if err := proto.Unmarshal(w.Body.Bytes(), &created); err != nil || w.Code != 200 || created.Title != "pb" || len(created.Members) != 2 {
			t.Fatalf("create over protobuf: %d %+v %v", w.Code, &created, err)
		}
		perform(e, "POST", "/api/send", `{"chat":"`+created.Chat+`","sender":"p2","text":"x"}`)
		w = perform(e, "GET", "/api/inbox?member=p1", "", header("Accept", "application/x-protobuf"))
		var page pb.InboxResponse
		if err := proto.Unmarshal(w.Body.Bytes(), &page); err != nil || len(page.Chats) != 1 || page.Chats[0].Unread != 1 || page.Chats[0].LastMessage.GetText() != "x" {
			t.Fatalf("inbox over protobuf: %+v %v", &page, err)
		}
		req, _ := proto.Marshal(&pb.ReadRequest{Chat: created.Chat, Member: "p1", SendTime: page.Chats[0].LastMessage.SendTime})
		w = perform(e, "POST", "/api/read", string(req), header("Content-Type", "application/x-protobuf"), header("Accept", "application/x-protobuf"))
		var read pb.ReadResponse
		if err := proto.Unmarshal(w.Body.Bytes(), &read); err != nil || read.ReadUpTo != page.Chats[0].LastMessage.SendTime {
			t.Fatalf("read over protobuf: %+v %v", &read, err)
		}
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
