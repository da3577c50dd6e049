package storetest

import (
	"slices"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// testStoredMemberIDs checks the rule for new member ids against what is
// stored already: a chat stored under an id that is no longer canonical
// (a decomposed "José", as an older service took it) stays readable and
// takes sends under that very id, while a new chat under a non-canonical
// id is refused, so no new look-alike of a chat can be made.
func testStoredMemberIDs(t *testing.T, opener Opener) {
	const composed, decomposed = "Jos\u00e9", "Jose\u0301"
	store := opener(t, nil)
	t.Cleanup(func() { store.Close() })
	svc := pigeonhole.NewService(store, pigeonhole.Config{})
	c := ctx(t)

	legacy, err := pigeonhole.ParseChatID(decomposed + ":bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(c, pigeonhole.Message{Chat: legacy, Sender: "bob", Text: "stored before"}); err != nil {
		t.Fatal(err)
	}
	send(t, svc, decomposed+":bob", decomposed, "sent since")
	p := pull(t, svc, pigeonhole.PullRequest{Chat: "bob:" + decomposed})
	if got, want := texts(p.Messages), []string{"stored before", "sent since"}; !slices.Equal(got, want) {
		t.Fatalf("the stored chat: got %q, want %q", got, want)
	}

	_, err = svc.Send(c, pigeonhole.SendRequest{Chat: "Zoe\u0301:bob", Sender: "bob", Text: "x"})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
	_, err = svc.Send(c, pigeonhole.SendRequest{Chat: "a\u3164:bob", Sender: "bob", Text: "x"})
	wantCode(t, err, pigeonhole.CodeInvalidArgument)
	if p := pull(t, svc, pigeonhole.PullRequest{Chat: "Zoe\u0301:bob"}); len(p.Messages) != 0 {
		t.Fatalf("a refused send stored %d messages", len(p.Messages))
	}
	send(t, svc, composed+":bob", composed, "composed")
	if p := pull(t, svc, pigeonhole.PullRequest{Chat: composed + ":bob"}); len(p.Messages) != 1 {
		t.Fatalf("the composed chat holds %d messages, want its own 1", len(p.Messages))
	}
}
