package pigeonhole_test

import (
	"context"
	"sync"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// memStore is a store in memory, enough for the access rules: the core's
// tests may import no store of ours (the real ones run the conformance
// suite), so this is the one stand-in for them here.
type memStore struct {
	pigeonhole.Store // nil: what the rules never ask for panics
	mu               sync.Mutex
	msgs             []pigeonhole.Message
}

func (m *memStore) Append(_ context.Context, msg pigeonhole.Message) (pigeonhole.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg.SendTime = int64(len(m.msgs) + 1)
	m.msgs = append(m.msgs, msg)
	return msg, nil
}

func (m *memStore) Range(_ context.Context, q pigeonhole.Range) ([]pigeonhole.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []pigeonhole.Message
	for _, msg := range m.msgs {
		if msg.Chat == q.Chat && msg.SendTime >= q.From && len(out) < q.Limit {
			out = append(out, msg)
		}
	}
	return out, nil
}

func (m *memStore) Heads(context.Context, int64, int) ([]pigeonhole.ChatHead, error) {
	return nil, nil
}

func (m *memStore) Ping(context.Context) error { return nil }
func (m *memStore) Close() error               { return nil }

// mustService is a service with the limits of cfg over an empty store.
func mustService(tb testing.TB, cfg pigeonhole.Config) *pigeonhole.Service {
	tb.Helper()
	return pigeonhole.NewService(&memStore{}, cfg)
}

func as(member string) context.Context {
	return pigeonhole.WithCaller(context.Background(), pigeonhole.Caller{Member: member})
}

// groupMembership answers from a fixed list, as a store-backed membership
// would.
type groupMembership map[string][]string

func (g groupMembership) IsMember(_ context.Context, chat pigeonhole.ChatID, member string) (bool, error) {
	for _, m := range g[chat.String()] {
		if m == member {
			return true, nil
		}
	}
	return false, nil
}

func TestCallerRules(t *testing.T) {
	svc := mustService(t, pigeonhole.Config{RequireCaller: true})
	t.Run("OmittedSenderIsTheCaller", func(t *testing.T) {
		m, err := svc.Send(as("a1"), pigeonhole.SendRequest{Chat: "a2:a1", Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := m.Sender, "a1"; got != want {
			t.Fatalf("sender: got %q, want %q", got, want)
		}
	})
	t.Run("SameSenderIsAccepted", func(t *testing.T) {
		if _, err := svc.Send(as("a1"), pigeonhole.SendRequest{Chat: "a1:a2", Sender: "a1", Text: "hi"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("OtherSenderIsDenied", func(t *testing.T) {
		_, err := svc.Send(as("a1"), pigeonhole.SendRequest{Chat: "a1:a2", Sender: "a2", Text: "spoofed"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodePermissionDenied; got != want {
			t.Fatalf("got %q (%v), want %q", got, err, want)
		}
	})
	t.Run("CallerOutsideTheChatCannotSend", func(t *testing.T) {
		_, err := svc.Send(as("a3"), pigeonhole.SendRequest{Chat: "a1:a2", Text: "hi"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeInvalidArgument; got != want {
			t.Fatalf("got %q (%v), want %q", got, err, want)
		}
	})
	t.Run("MemberPulls", func(t *testing.T) {
		page, err := svc.Pull(as("a2"), pigeonhole.PullRequest{Chat: "a1:a2"})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(page.Messages), 2; got != want {
			t.Fatalf("messages: got %d, want %d", got, want)
		}
	})
	t.Run("ForeignChatPullIsDenied", func(t *testing.T) {
		_, err := svc.Pull(as("a3"), pigeonhole.PullRequest{Chat: "a1:a2"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodePermissionDenied; got != want {
			t.Fatalf("got %q (%v), want %q", got, err, want)
		}
	})
	t.Run("NoCallerIsUnauthenticated", func(t *testing.T) {
		_, err := svc.Send(context.Background(), pigeonhole.SendRequest{Chat: "a1:a2", Sender: "a1", Text: "hi"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeUnauthenticated; got != want {
			t.Fatalf("send: got %q (%v), want %q", got, err, want)
		}
		_, err = svc.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a1:a2"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeUnauthenticated; got != want {
			t.Fatalf("pull: got %q (%v), want %q", got, err, want)
		}
	})
}

func TestNoCallerWithoutAuthentication(t *testing.T) {
	svc := mustService(t, pigeonhole.Config{})
	if _, err := svc.Send(context.Background(), pigeonhole.SendRequest{Chat: "a1:a2", Sender: "a2", Text: "hi"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if _, err := svc.Pull(context.Background(), pigeonhole.PullRequest{Chat: "a1:a2"}); err != nil {
		t.Fatalf("pull: %v", err)
	}
	t.Run("OmittedSenderStaysInvalid", func(t *testing.T) {
		_, err := svc.Send(context.Background(), pigeonhole.SendRequest{Chat: "a1:a2", Text: "hi"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeInvalidArgument; got != want {
			t.Fatalf("got %q (%v), want %q", got, err, want)
		}
	})
	t.Run("ACallerIsStillBound", func(t *testing.T) {
		_, err := svc.Pull(as("a3"), pigeonhole.PullRequest{Chat: "a1:a2"})
		if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodePermissionDenied; got != want {
			t.Fatalf("got %q (%v), want %q", got, err, want)
		}
	})
}

func TestMembershipIsAsked(t *testing.T) {
	// The chat "a1:a2" is used with a membership that lets a3 in and keeps
	// a2 out, to show that the rule asks the hook rather than the id.
	svc := mustService(t, pigeonhole.Config{RequireCaller: true, Membership: groupMembership{"a1:a2": {"a1", "a3"}}})
	if _, err := svc.Pull(as("a3"), pigeonhole.PullRequest{Chat: "a1:a2"}); err != nil {
		t.Fatalf("a3, a member by the hook: %v", err)
	}
	_, err := svc.Pull(as("a2"), pigeonhole.PullRequest{Chat: "a1:a2"})
	if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodePermissionDenied; got != want {
		t.Fatalf("a2, not a member by the hook: got %q (%v), want %q", got, err, want)
	}
}
