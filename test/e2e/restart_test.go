package e2e

import (
	"fmt"
	"slices"
	"testing"
)

// TestRestart checks that messages outlive the rpc-server process, whether
// it is stopped gracefully or killed, and that send times keep increasing
// across its lives.
func TestRestart(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, sys *system) {
		const chat = "r1:r2"
		sendSome := func(t *testing.T, n int, prefix string) {
			t.Helper()
			for i := range n {
				sys.api.send(t, chat, fmt.Sprintf("%s %d", prefix, i), "r1")
			}
		}
		all := func(t *testing.T) []message {
			t.Helper()
			p := sys.api.pullQuery(t, chat, 0, 100, false)
			if p.HasMore {
				t.Fatal("more than 100 messages in the test chat")
			}
			return p.Messages
		}
		sendAfter := func(t *testing.T, before []message) {
			t.Helper()
			s := sys.api.send(t, chat, "after", "r2")
			if last := before[len(before)-1].SendTime; s.SendTime <= last {
				t.Fatalf("send_time after the restart %d, want more than the last one before, %d", s.SendTime, last)
			}
		}

		t.Run("GracefulRestartKeepsMessagesAndSendTimes", func(t *testing.T) {
			sendSome(t, 5, "before stop")
			before := all(t)
			sys.rpc.Restart() // fails unless the server exits 0 on SIGTERM
			if after := all(t); !slices.Equal(after, before) {
				t.Fatalf("after the restart the chat holds\n%v\nwant\n%v", after, before)
			}
			sendAfter(t, before)
		})

		t.Run("CrashKeepsAcknowledgedMessages", func(t *testing.T) {
			sendSome(t, 5, "before kill")
			before := all(t)
			sys.rpc.Kill()
			sys.rpc.Start()
			if after := all(t); !slices.Equal(after, before) {
				t.Fatalf("after SIGKILL and a start the chat holds\n%v\nwant\n%v", after, before)
			}
			sendAfter(t, before)
		})
	})
}
