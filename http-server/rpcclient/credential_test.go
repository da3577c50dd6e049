package rpcclient_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/http-server/rpcclient"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
)

type credentialKey struct{}

// testTokens returns a verifier of HS256 tokens, as rpc-server --auth jwt
// runs it, and a function that mints a token of member for it.
func testTokens(t *testing.T) (*jwtauth.Verifier, func(member string) string) {
	t.Helper()
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := jwtauth.New(jwtauth.Config{Secret: secret, Subject: pigeonhole.ValidateMemberID})
	if err != nil {
		t.Fatal(err)
	}
	return v, func(member string) string {
		tok, err := jwtauth.SignHS256(secret, jwtauth.Claims{Subject: member, TTL: time.Hour}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

// TestClientForwardsCredentials checks that every call carries its own
// caller's token to the service, alone or in a batch with other callers'.
func TestClientForwardsCredentials(t *testing.T) {
	v, token := testTokens(t)
	as := func(member string) context.Context {
		ctx := pigeonhole.WithCaller(context.Background(), pigeonhole.Caller{Member: member})
		return context.WithValue(ctx, credentialKey{}, token(member))
	}
	for _, maxBatch := range []int{1, 64} {
		t.Run(fmt.Sprintf("MaxBatch=%d", maxBatch), func(t *testing.T) {
			svc := startServiceWith(t, v)
			c, err := rpcclient.New(rpcclient.Config{
				Addrs: []string{svc.addr}, Timeout: 2 * time.Second, MaxBatch: maxBatch,
				Credential: func(ctx context.Context) string { tok, _ := ctx.Value(credentialKey{}).(string); return tok },
			})
			if err != nil {
				t.Fatal(err)
			}
			// Concurrent callers, so that batches mix them.
			errs := make(chan error, 40)
			for i := range 40 {
				member := fmt.Sprintf("m%d", i%4)
				go func() {
					m, err := c.Send(as(member), pigeonhole.SendRequest{Chat: member + ":z", Text: "hi"})
					if err == nil && m.Sender != member {
						err = fmt.Errorf("sender: got %q, want %q", m.Sender, member)
					}
					errs <- err
				}()
			}
			for range 40 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			page, err := c.Pull(as("z"), pigeonhole.PullRequest{Chat: "m1:z"})
			if err != nil || len(page.Messages) != 10 || page.Messages[0].Sender != "m1" {
				t.Fatalf("pull: got %+v, %v", page, err)
			}
			_, err = c.Pull(as("m2"), pigeonhole.PullRequest{Chat: "m1:z"})
			if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodePermissionDenied; got != want {
				t.Fatalf("foreign pull: got %q (%v), want %q", got, err, want)
			}
			_, err = c.Send(context.Background(), pigeonhole.SendRequest{Chat: "m1:z", Sender: "m1", Text: "no token"})
			if got, want := pigeonhole.ErrorCode(err), pigeonhole.CodeUnauthenticated; got != want {
				t.Fatalf("send without a token: got %q (%v), want %q", got, err, want)
			}
		})
	}
}

// TestRetriedBatchKeepsEachItemsCredential leaves an abandoned item out of
// a retried batch: the remaining item must still carry its own caller's
// credential, not its neighbour's.
func TestRetriedBatchKeepsEachItemsCredential(t *testing.T) {
	v, token := testTokens(t)
	gone, giveUp := context.WithCancel(context.Background())
	var attempts atomic.Int32
	svc := startServiceWith(t, v, sendBatchWatch(func(_ context.Context, req *rpc.SendBatchRequest) error {
		if attempts.Add(1) == 1 {
			giveUp()
			return errors.New("the replica is lost mid-call")
		}
		if got, want := len(req.Credentials), len(req.Items); got != want {
			t.Errorf("the retry carries %d credentials for %d items", got, want)
		}
		return nil
	}))
	c := newClient(t, 16, svc.addr)
	key := func(k string) *string { return &k }
	errs := rpcclient.SendBatchWithCredentials(c, []context.Context{gone, context.Background()}, []*rpc.SendRequest{
		{Message: &rpc.Message{Chat: "a1:a2", Sender: "a1", Text: "abandoned", ClientMsgId: key("k1")}},
		{Message: &rpc.Message{Chat: "a1:a2", Sender: "a2", Text: "awaited", ClientMsgId: key("k2")}},
	}, []string{token("a1"), token("a2")})
	if errs[1] != nil {
		t.Fatalf("the awaited item, sent as a2 with a2's token: %v", errs[1])
	}
}
