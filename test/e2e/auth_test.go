package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudwego/kitex/transport"

	"github.com/pigeonhole-im/pigeonhole/test/harness"
)

// authArgs are the flags of both servers with authentication on and the
// HS256 secret in a fresh file.
func authArgs(t *testing.T) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwt-secret")
	if err := os.WriteFile(path, []byte("e2e-secret-0123456789abcdef-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--auth", "jwt", "--jwt-secret-file", path}
}

// token runs `http-server token`, as the README shows, and returns the
// token it prints.
func token(t *testing.T, args []string, sub string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), harness.MustBuild(t).HTTPServer, append([]string{"token", "--sub", sub, "--ttl", "10m"}, args[2:]...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("http-server token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestAuthentication runs both servers with --auth jwt on each store and
// checks the rules from outside: the gateway's answers, and the service's
// own refusal of an RPC client without a credential.
func TestAuthentication(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			args := authArgs(t)
			opts := s.options(t)
			opts.ExtraArgs = append(opts.ExtraArgs, args...)
			rpc := harness.StartRPCServer(t, opts)
			gw := harness.StartGateway(t, harness.GatewayOptions{Services: []string{rpc.Addr}, ExtraArgs: args})
			a := newAPI(t, gw.URL)
			a1 := "Bearer " + token(t, args, "a1")
			a2 := "Bearer " + token(t, args, "a2")

			if resp := a.do(t, http.MethodGet, "/ping", ""); resp.status != http.StatusOK {
				t.Fatalf("/ping: got %d", resp.status)
			}
			resp := a.postJSON(t, "/api/send", map[string]string{"chat": "a1:a2", "text": "hi", "sender": "a1"})
			resp.wantError(t, http.StatusUnauthorized, "unauthenticated")
			if got, want := resp.header.Get("WWW-Authenticate"), "Bearer"; got != want {
				t.Fatalf("WWW-Authenticate: got %q, want %q", got, want)
			}
			a.postJSON(t, "/api/send", map[string]string{"chat": "a1:a2", "text": "hi"}, "Authorization", a1).decode(t, http.StatusOK, &sent{})
			a.postJSON(t, "/api/send", map[string]string{"chat": "a1:a2", "text": "as a1", "sender": "a1"}, "Authorization", a2).
				wantError(t, http.StatusForbidden, "permission_denied")
			var p page
			a.do(t, http.MethodGet, "/api/pull?chat=a2:a1", "", "Authorization", a2).decode(t, http.StatusOK, &p)
			if len(p.Messages) != 1 || p.Messages[0].Sender != "a1" || p.Messages[0].Text != "hi" {
				t.Fatalf("pull: got %+v", p.Messages)
			}
			a.do(t, http.MethodGet, "/api/pull?chat=a2:a3", "", "Authorization", a1).wantError(t, http.StatusForbidden, "permission_denied")

			// An RPC client on the service's port, without a credential.
			call := originalClient(t, rpc.Addr, transport.Framed)
			out := call(t, "Pull", map[string]any{"Chat": "a1:a2", "Cursor": int64(0), "Limit": int32(10), "Reverse": false})
			if got, want := out["Code"], int32(5); got != want {
				t.Fatalf("RPC pull without a credential: Code %v (%q), want %d (unauthenticated)", got, out["Msg"], want)
			}
		})
	}
}
