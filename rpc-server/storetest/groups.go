package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func createGroup(t *testing.T, svc *pigeonhole.Service, actor, title string, members ...string) pigeonhole.Group {
	t.Helper()
	g, err := svc.CreateGroup(ctx(t), pigeonhole.CreateGroupRequest{Actor: actor, Title: title, Members: members})
	if err != nil {
		t.Fatalf("create group %q: %v", title, err)
	}
	return g
}

func testGroupLifecycle(t *testing.T, opener Opener) {
	svc := open(t, opener, nil)
	other := open(t, opener, nil)
	before := time.Now().UnixMicro()
	g := createGroup(t, svc, "own", "team", "b", "a", "b")
	chat := g.Chat.String()
	if !g.Chat.IsGroup() || strings.Contains(chat, ":") {
		t.Fatalf("group id %q is not a group id", chat)
	}
	if !slices.Equal(g.Members, []string{"a", "b", "own"}) || g.Owner != "own" || g.Title != "team" || g.CreatedAt < before {
		t.Fatalf("created %+v", g)
	}
	t.Run("ReadFromAnotherInstance", func(t *testing.T) {
		got, err := other.Group(ctx(t), pigeonhole.GroupRequest{Chat: chat, Actor: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Members, g.Members) || got.Title != "team" || got.Owner != "own" || got.CreatedAt != g.CreatedAt {
			t.Fatalf("got %+v, want %+v", got, g)
		}
		_, err = other.Group(ctx(t), pigeonhole.GroupRequest{Chat: chat, Actor: "stranger"})
		wantCode(t, err, pigeonhole.CodePermissionDenied)
	})
	t.Run("SendAndPullAsOnTwoMemberChats", func(t *testing.T) {
		m1 := send(t, svc, chat, "a", "one")
		m2 := send(t, other, chat, "b", "two")
		if m1.Chat != g.Chat || m2.SendTime <= m1.SendTime {
			t.Fatalf("sends: %+v then %+v", m1, m2)
		}
		again, err := svc.Send(ctx(t), pigeonhole.SendRequest{Chat: chat, Sender: "a", Text: "k", ClientMsgID: "k1"})
		if err != nil {
			t.Fatal(err)
		}
		if retry, err := other.Send(ctx(t), pigeonhole.SendRequest{Chat: chat, Sender: "a", Text: "k", ClientMsgID: "k1"}); err != nil || retry != again {
			t.Fatalf("retry: %+v, %v; want %+v", retry, err, again)
		}
		if got := texts(pullAll(t, other, chat, 0, 2, false)); !slices.Equal(got, []string{"one", "two", "k"}) {
			t.Fatalf("pulled %v", got)
		}
		if got := texts(pullAll(t, svc, chat, 0, 2, true)); !slices.Equal(got, []string{"k", "two", "one"}) {
			t.Fatalf("pulled in reverse %v", got)
		}
	})
	t.Run("OutsidersAreRefused", func(t *testing.T) {
		_, err := svc.Send(ctx(t), pigeonhole.SendRequest{Chat: chat, Sender: "stranger", Text: "let me in"})
		wantCode(t, err, pigeonhole.CodePermissionDenied)
		unknown, _ := pigeonhole.NewGroupID(strings.NewReader(strings.Repeat("z", 16)))
		_, err = svc.Send(ctx(t), pigeonhole.SendRequest{Chat: unknown.String(), Sender: "a", Text: "hello?"})
		wantCode(t, err, pigeonhole.CodeNotFound)
		_, err = svc.Group(ctx(t), pigeonhole.GroupRequest{Chat: unknown.String()})
		wantCode(t, err, pigeonhole.CodeNotFound)
		_, err = svc.ChangeMembers(ctx(t), pigeonhole.ChangeMembersRequest{Chat: unknown.String(), Actor: "a", Add: []string{"c"}})
		wantCode(t, err, pigeonhole.CodeNotFound)
		if got := texts(pullAll(t, svc, chat, 0, 10, false)); slices.Contains(got, "let me in") {
			t.Fatalf("a refused message was stored: %v", got)
		}
	})
	t.Run("MembershipRules", func(t *testing.T) {
		change := func(actor string, add, remove []string) (pigeonhole.Group, error) {
			return other.ChangeMembers(ctx(t), pigeonhole.ChangeMembersRequest{Chat: chat, Actor: actor, Add: add, Remove: remove})
		}
		if got, err := change("a", []string{"c"}, nil); err != nil || !slices.Equal(got.Members, []string{"a", "b", "c", "own"}) {
			t.Fatalf("member adds c: %+v, %v", got, err)
		}
		send(t, svc, chat, "c", "c is in")
		_, err := change("a", nil, []string{"b"})
		wantCode(t, err, pigeonhole.CodePermissionDenied)
		_, err = change("stranger", []string{"stranger"}, nil)
		wantCode(t, err, pigeonhole.CodePermissionDenied)
		_, err = change("a", []string{"d"}, []string{"d"})
		wantCode(t, err, pigeonhole.CodeConflict)
		if got, err := change("c", nil, []string{"c"}); err != nil || got.HasMember("c") {
			t.Fatalf("c leaves: %+v, %v", got, err)
		}
		_, err = svc.Send(ctx(t), pigeonhole.SendRequest{Chat: chat, Sender: "c", Text: "c is out"})
		wantCode(t, err, pigeonhole.CodePermissionDenied)
		if got, err := change("own", nil, []string{"b"}); err != nil || !slices.Equal(got.Members, []string{"a", "own"}) {
			t.Fatalf("owner removes b: %+v, %v", got, err)
		}
		_, err = change("own", nil, []string{"a", "own"})
		wantCode(t, err, pigeonhole.CodeConflict)
		if got, err := svc.Group(ctx(t), pigeonhole.GroupRequest{Chat: chat}); err != nil || !slices.Equal(got.Members, []string{"a", "own"}) {
			t.Fatalf("after the refused changes: %+v, %v", got, err)
		}
	})
}

func testGroupLimits(t *testing.T, opener Opener) {
	const max = 5
	svc := openWith(t, opener, nil, pigeonhole.Config{MaxGroupMembers: max})
	members := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("m%d", i)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		req  pigeonhole.CreateGroupRequest
		want pigeonhole.Code
	}{
		{"TooManyMembers", pigeonhole.CreateGroupRequest{Members: members(max + 1)}, pigeonhole.CodeTooLarge},
		{"ActorMakesTooMany", pigeonhole.CreateGroupRequest{Actor: "own", Members: members(max)}, pigeonhole.CodeTooLarge},
		{"TitleTooLong", pigeonhole.CreateGroupRequest{Members: members(1), Title: strings.Repeat("t", pigeonhole.MaxTitleBytes+1)}, pigeonhole.CodeTooLarge},
		{"TitleNotUTF8", pigeonhole.CreateGroupRequest{Members: members(1), Title: "\xff"}, pigeonhole.CodeInvalidArgument},
		{"NoMembers", pigeonhole.CreateGroupRequest{Title: "empty"}, pigeonhole.CodeInvalidArgument},
		{"BadMemberID", pigeonhole.CreateGroupRequest{Members: []string{"a b"}}, pigeonhole.CodeInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.CreateGroup(ctx(t), tc.req)
			wantCode(t, err, tc.want)
		})
	}
	t.Run("AtTheLimits", func(t *testing.T) {
		g := createGroup(t, svc, "", strings.Repeat("é", pigeonhole.MaxTitleBytes/2), members(max)...)
		if len(g.Members) != max || g.Owner != "" {
			t.Fatalf("created %+v", g)
		}
		_, err := svc.ChangeMembers(ctx(t), pigeonhole.ChangeMembersRequest{Chat: g.Chat.String(), Actor: "m0", Add: []string{"one-more"}})
		wantCode(t, err, pigeonhole.CodeTooLarge)
		if owned := createGroup(t, svc, "m0", "", members(max)...); owned.Owner != "m0" || len(owned.Members) != max {
			t.Fatalf("an actor among the members counts once: %+v", owned)
		}
		_, err = svc.ChangeMembers(ctx(t), pigeonhole.ChangeMembersRequest{Chat: g.Chat.String(), Actor: "m0", Remove: []string{"m1"}})
		wantCode(t, err, pigeonhole.CodePermissionDenied) // no owner: each may only leave
	})
	t.Run("TwoMemberChatsHaveFixedMembers", func(t *testing.T) {
		_, err := svc.ChangeMembers(ctx(t), pigeonhole.ChangeMembersRequest{Chat: "a:b", Actor: "a", Add: []string{"c"}})
		wantCode(t, err, pigeonhole.CodeInvalidArgument)
		g, err := svc.Group(ctx(t), pigeonhole.GroupRequest{Chat: "b:a", Actor: "a"})
		if err != nil || !slices.Equal(g.Members, []string{"a", "b"}) || g.Chat.String() != "a:b" {
			t.Fatalf("two-member chat: %+v, %v", g, err)
		}
	})
}

// testRemovalRacingSends has a member send without pause on one instance
// while the owner removes them on another. Every acknowledged send must be
// stored before the removal: before the owner's first message after it.
func testRemovalRacingSends(t *testing.T, opener Opener) {
	a, b := open(t, opener, nil), open(t, opener, nil)
	for round := range 5 {
		g := createGroup(t, a, "own", fmt.Sprintf("race %d", round), "x")
		chat := g.Chat.String()
		var acked []pigeonhole.Message
		var refused int
		var wg sync.WaitGroup
		stop := make(chan struct{})
		c := ctx(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				m, err := a.Send(c, pigeonhole.SendRequest{Chat: chat, Sender: "x", Text: fmt.Sprintf("x%d", i)})
				switch pigeonhole.ErrorCode(err) {
				case "":
					acked = append(acked, m)
				case pigeonhole.CodePermissionDenied:
					refused++
					select {
					case <-stop:
						return
					default:
					}
				default:
					t.Errorf("send: %v", err)
					return
				}
			}
		}()
		time.Sleep(time.Duration(round) * 3 * time.Millisecond)
		if _, err := b.ChangeMembers(ctx(t), pigeonhole.ChangeMembersRequest{Chat: chat, Actor: "own", Remove: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
		after := send(t, b, chat, "own", "after the removal")
		close(stop)
		wg.Wait()
		if refused == 0 {
			t.Fatal("no send was refused after the removal")
		}
		stored := pullAll(t, b, chat, 0, 100, false)
		if got, want := len(stored), len(acked)+1; got != want {
			t.Fatalf("stored %d messages, want the %d acknowledged and the owner's", got, want)
		}
		for i, m := range acked {
			if m.SendTime >= after.SendTime || stored[i] != m {
				t.Fatalf("acknowledged %+v is not stored before the removal (owner's message at %d)", m, after.SendTime)
			}
		}
	}
}
