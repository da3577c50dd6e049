package kitexrpc_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/transmeta"
	"github.com/cloudwego/kitex/transport"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitex_gen/rpc/imservice"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/kitexrpc"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/jwtauth"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlite"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/sqlstore"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func mustToken(tb testing.TB, secret []byte, member string) string {
	tb.Helper()
	tok, err := jwtauth.SignHS256(secret, jwtauth.Claims{Subject: member, TTL: time.Hour}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// serveWithAuth runs a service with authentication, as rpc-server --auth
// jwt does, on a free loopback port, and returns its address.
func serveWithAuth(t *testing.T) string {
	t.Helper()
	store, err := sqlite.Open(context.Background(), t.TempDir(), sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := jwtauth.New(jwtauth.Config{Secret: testSecret, Subject: pigeonhole.ValidateMemberID})
	if err != nil {
		t.Fatal(err)
	}
	svc := pigeonhole.NewService(store, pigeonhole.Config{RequireCaller: true})
	h := kitexrpc.NewHandler(svc, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, v)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kitexrpc.Serve(ctx, h, kitexrpc.ServerConfig{Addr: addr, ExitWait: time.Second}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		store.Close()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s", addr)
		}
	}
	return addr
}

// rawClient is a plain Kitex client on the RPC port: what an intruder who
// reaches it could run. TTHeader carries a credential; Framed is what
// clients built from the original IDL speak.
func rawClient(t *testing.T, addr string, proto transport.Protocol) imservice.Client {
	t.Helper()
	opts := []client.Option{client.WithHostPorts(addr), client.WithTransportProtocol(proto), client.WithRPCTimeout(3 * time.Second)}
	if proto == transport.TTHeader {
		opts = append(opts, client.WithMetaHandler(transmeta.ClientTTHeaderHandler))
	}
	c, err := imservice.NewClient(rpc.ServiceName, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(tb testing.TB, what string, got int32, want pigeonhole.Code) {
	tb.Helper()
	if got != want.Number() {
		tb.Fatalf("%s: got code %d (%s), want %s", what, got, pigeonhole.CodeFromNumber(got), want)
	}
}

func sendReq(chat, sender, text string) *rpc.SendRequest {
	return &rpc.SendRequest{Message: &rpc.Message{Chat: chat, Sender: sender, Text: text}}
}

func TestRawClientsOnTheRPCPort(t *testing.T) {
	addr := serveWithAuth(t)
	ctx := context.Background()
	framed, header := rawClient(t, addr, transport.Framed), rawClient(t, addr, transport.TTHeader)
	a1 := kitexrpc.WithCredential(ctx, mustToken(t, testSecret, "a1"))
	forged := kitexrpc.WithCredential(ctx, mustToken(t, []byte("a secret the intruder made up!!!"), "a2"))

	t.Run("OriginalIDLClientWithoutCredentialIsRefused", func(t *testing.T) {
		resp, err := framed.Send(ctx, sendReq("a1:a2", "a1", "hi"))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "send", resp.Code, pigeonhole.CodeUnauthenticated)
		pull, err := framed.Pull(ctx, &rpc.PullRequest{Chat: "a1:a2"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "pull", pull.Code, pigeonhole.CodeUnauthenticated)
	})
	t.Run("PingNeedsNoCredential", func(t *testing.T) {
		resp, err := framed.Ping(ctx, &rpc.PingRequest{})
		if err != nil || resp.Code != 0 {
			t.Fatalf("got %+v, %v", resp, err)
		}
	})
	t.Run("ForgedIdentityIsRefused", func(t *testing.T) {
		resp, err := header.Send(forged, sendReq("a1:a2", "a2", "forged"))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "send", resp.Code, pigeonhole.CodeUnauthenticated)
		pull, err := header.Pull(forged, &rpc.PullRequest{Chat: "a1:a2"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "pull", pull.Code, pigeonhole.CodeUnauthenticated)
	})
	t.Run("ValidCredentialIsServed", func(t *testing.T) {
		resp, err := header.Send(a1, sendReq("a1:a2", "", "hi"))
		if err != nil || resp.Code != 0 {
			t.Fatalf("got %+v, %v", resp, err)
		}
		pull, err := header.Pull(a1, &rpc.PullRequest{Chat: "a2:a1"})
		if err != nil || pull.Code != 0 || len(pull.Messages) != 1 || pull.Messages[0].Sender != "a1" {
			t.Fatalf("got %+v, %v", pull, err)
		}
	})
	t.Run("SpoofedSenderIsDenied", func(t *testing.T) {
		resp, err := header.Send(a1, sendReq("a1:a2", "a2", "as a2"))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "send", resp.Code, pigeonhole.CodePermissionDenied)
	})
	t.Run("ForeignChatPullIsDenied", func(t *testing.T) {
		pull, err := header.Pull(a1, &rpc.PullRequest{Chat: "a2:a3"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "pull", pull.Code, pigeonhole.CodePermissionDenied)
	})
	t.Run("ConversationsNeedACredential", func(t *testing.T) {
		inbox, err := header.Inbox(ctx, &rpc.InboxRequest{Member: "a1"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "inbox", inbox.Code, pigeonhole.CodeUnauthenticated)
		group, err := header.CreateGroup(forged, &rpc.CreateGroupRequest{Members: []string{"a2"}})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "create group", group.Code, pigeonhole.CodeUnauthenticated)
		read, err := framed.MarkRead(ctx, &rpc.MarkReadRequest{Chat: "a1:a2", Member: "a1", SendTime: 1})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "mark read", read.Code, pigeonhole.CodeUnauthenticated)
	})
	t.Run("ForeignInboxIsDenied", func(t *testing.T) {
		inbox, err := header.Inbox(a1, &rpc.InboxRequest{Member: "a2"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, "inbox", inbox.Code, pigeonhole.CodePermissionDenied)
		own, err := header.Inbox(a1, &rpc.InboxRequest{Member: "a1"})
		if err != nil || own.Code != 0 {
			t.Fatalf("own inbox: got %+v, %v", own, err)
		}
	})
	t.Run("BatchItemsNeedTheirOwnCredential", func(t *testing.T) {
		// The batch RPC carries a1's credential, but items are judged by
		// theirs: none, forged, a1's own.
		resp, err := header.SendBatch(a1, &rpc.SendBatchRequest{
			Items: []*rpc.SendRequest{sendReq("a1:a2", "a1", "no credential"), sendReq("a2:a3", "a2", "forged"), sendReq("a1:a2", "a1", "ok")},
			Credentials: []string{
				"",
				mustToken(t, []byte("a secret the intruder made up!!!"), "a2"),
				mustToken(t, testSecret, "a1"),
			},
		})
		if err != nil || resp.Code != 0 || len(resp.Items) != 3 {
			t.Fatalf("got %+v, %v", resp, err)
		}
		wantCode(t, "item without credential", resp.Items[0].Code, pigeonhole.CodeUnauthenticated)
		wantCode(t, "item with forged credential", resp.Items[1].Code, pigeonhole.CodeUnauthenticated)
		if resp.Items[2].Code != 0 {
			t.Fatalf("item with a1's credential: got %+v", resp.Items[2])
		}
		pulls, err := framed.PullBatch(ctx, &rpc.PullBatchRequest{
			Items:       []*rpc.PullRequest{{Chat: "a1:a2"}, {Chat: "a2:a3"}},
			Credentials: []string{mustToken(t, testSecret, "a1"), mustToken(t, testSecret, "a1")},
		})
		if err != nil || pulls.Code != 0 || len(pulls.Items) != 2 {
			t.Fatalf("got %+v, %v", pulls, err)
		}
		if pulls.Items[0].Code != 0 {
			t.Fatalf("a1 pulls a1:a2: got %+v", pulls.Items[0])
		}
		wantCode(t, "a1 pulls a2:a3", pulls.Items[1].Code, pigeonhole.CodePermissionDenied)
	})
}
