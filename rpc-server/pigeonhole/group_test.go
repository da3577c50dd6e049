package pigeonhole_test

import (
	"bytes"
	"crypto/rand"
	"slices"
	"strings"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

func TestGroupID(t *testing.T) {
	t.Run("NewParsesAsGroup", func(t *testing.T) {
		seen := map[string]bool{}
		for range 100 {
			id, err := pigeonhole.NewGroupID(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			s := id.String()
			if strings.Contains(s, ":") || !id.IsGroup() || seen[s] {
				t.Fatalf("group id %q: has ':', is not a group, or repeats", s)
			}
			seen[s] = true
			again, err := pigeonhole.ParseChatID(s)
			if err != nil || again != id {
				t.Fatalf("ParseChatID(%q) = %v, %v; want %v", s, again, err, id)
			}
		}
	})
	t.Run("NeverATwoMemberChat", func(t *testing.T) {
		c, _ := pigeonhole.ParseChatID("a1:a2")
		if c.IsGroup() {
			t.Fatal("a1:a2 is a group")
		}
		id, _ := pigeonhole.NewGroupID(bytes.NewReader(make([]byte, 16)))
		if id.HasMember("g") || id.HasMember(id.String()) {
			t.Fatal("a group id's HasMember is true; its members are in the store")
		}
	})
	t.Run("InvalidGroupIDs", func(t *testing.T) {
		zero, _ := pigeonhole.NewGroupID(bytes.NewReader(make([]byte, 16)))
		s := zero.String()
		for _, in := range []string{"g", "gaaaa", "G" + s[1:], "h" + s[1:], s + "a", strings.ToUpper(s), s[:26] + "b", s[:26] + "1"} {
			if _, err := pigeonhole.ParseChatID(in); pigeonhole.ErrorCode(err) != pigeonhole.CodeInvalidArgument {
				t.Fatalf("ParseChatID(%q): %v, want invalid_argument", in, err)
			}
		}
	})
	t.Run("ShortRandomIsInternal", func(t *testing.T) {
		_, err := pigeonhole.NewGroupID(bytes.NewReader(make([]byte, 3)))
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeInternal; got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func TestMemberChangeApply(t *testing.T) {
	chat, _ := pigeonhole.NewGroupID(rand.Reader)
	g := pigeonhole.Group{Chat: chat, Owner: "own", Members: []string{"a", "b", "own"}}
	for _, tc := range []struct {
		name        string
		change      pigeonhole.MemberChange
		wantCode    pigeonhole.Code
		wantMembers []string
		wantOwner   string
	}{
		{"MemberAdds", pigeonhole.MemberChange{Actor: "a", Add: []string{"c"}}, "", []string{"a", "b", "c", "own"}, "own"},
		{"AddingAMemberAgainIsANoOp", pigeonhole.MemberChange{Actor: "a", Add: []string{"b"}}, "", []string{"a", "b", "own"}, "own"},
		{"OwnerRemovesAnyone", pigeonhole.MemberChange{Actor: "own", Remove: []string{"a", "b"}}, "", []string{"own"}, "own"},
		{"AnyoneRemovesThemselves", pigeonhole.MemberChange{Actor: "b", Remove: []string{"b"}}, "", []string{"a", "own"}, "own"},
		{"OwnerLeaving", pigeonhole.MemberChange{Actor: "own", Remove: []string{"own"}}, "", []string{"a", "b"}, ""},
		{"MemberRemovesOther", pigeonhole.MemberChange{Actor: "a", Remove: []string{"b"}}, pigeonhole.CodePermissionDenied, nil, ""},
		{"OutsiderAdds", pigeonhole.MemberChange{Actor: "x", Add: []string{"x"}}, pigeonhole.CodePermissionDenied, nil, ""},
		{"LastMemberLeaving", pigeonhole.MemberChange{Actor: "own", Remove: []string{"a", "b", "own"}}, pigeonhole.CodeConflict, nil, ""},
		{"OverTheLimit", pigeonhole.MemberChange{Actor: "a", Add: []string{"c"}, MaxMembers: 3}, pigeonhole.CodeTooLarge, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.change.MaxMembers == 0 {
				tc.change.MaxMembers = 10
			}
			got, err := tc.change.Apply(g)
			if code := pigeonhole.ErrorCode(err); code != tc.wantCode {
				t.Fatalf("code: got %q (%v), want %q", code, err, tc.wantCode)
			}
			if err != nil {
				return
			}
			if !slices.Equal(got.Members, tc.wantMembers) || got.Owner != tc.wantOwner {
				t.Fatalf("got members %v owner %q, want %v owner %q", got.Members, got.Owner, tc.wantMembers, tc.wantOwner)
			}
		})
	}
	if !slices.Equal(g.Members, []string{"a", "b", "own"}) {
		t.Fatalf("Apply changed its input: %v", g.Members)
	}
}

func TestPreview(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"short", 5},
		{strings.Repeat("x", 200), 200},
		{strings.Repeat("x", 201), 200},
		{strings.Repeat("x", 199) + "é", 199},  // é is 2 bytes: it would end at 201
		{strings.Repeat("x", 198) + "😀x", 198}, // 4 bytes from 198
	} {
		got := pigeonhole.Preview(tc.in)
		if len(got) != tc.want || !strings.HasPrefix(tc.in, got) {
			t.Fatalf("Preview of %d bytes: got %d bytes, want %d", len(tc.in), len(got), tc.want)
		}
	}
}

func TestUnreadCount(t *testing.T) {
	for _, tc := range []struct {
		in, want int
		capped   bool
	}{{0, 0, false}, {999, 999, false}, {1000, 999, true}} {
		if n, capped := pigeonhole.UnreadCount(tc.in); n != tc.want || capped != tc.capped {
			t.Fatalf("UnreadCount(%d) = %d, %v; want %d, %v", tc.in, n, capped, tc.want, tc.capped)
		}
	}
}
