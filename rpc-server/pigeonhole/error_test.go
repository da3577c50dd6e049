package pigeonhole_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// TestCodeNumbersAreStable pins the wire numbers: changing one breaks
// every deployed gateway and client.
func TestCodeNumbersAreStable(t *testing.T) {
	want := map[pigeonhole.Code]int32{
		pigeonhole.CodeInvalidArgument: 1, pigeonhole.CodeTooLarge: 2, pigeonhole.CodeNotFound: 3,
		pigeonhole.CodeConflict: 4, pigeonhole.CodeUnauthenticated: 5, pigeonhole.CodePermissionDenied: 6,
		pigeonhole.CodeRateLimited: 7, pigeonhole.CodeUnavailable: 8, pigeonhole.CodeDeadlineExceeded: 9,
		pigeonhole.CodeInternal: 10,
	}
	for code, n := range want {
		if got := code.Number(); got != n {
			t.Fatalf("%s.Number(): got %d, want %d", code, got, n)
		}
		if got := pigeonhole.CodeFromNumber(n); got != code {
			t.Fatalf("CodeFromNumber(%d): got %s, want %s", n, got, code)
		}
	}
	if got := pigeonhole.CodeFromNumber(99); got != pigeonhole.CodeInternal {
		t.Fatalf("unknown number: got %s, want internal", got)
	}
	if got := pigeonhole.Code("made_up").Number(); got != 10 {
		t.Fatalf("unknown code: got %d, want internal's 10", got)
	}
}

func TestErrorHidesCauses(t *testing.T) {
	driver := errors.New("Error 1045: Access denied for user 'root'@'10.0.0.1'")
	wrapped := fmt.Errorf("append: %w", pigeonhole.Wrap(pigeonhole.CodeUnavailable, driver, "the message store is unavailable"))
	if got, want := pigeonhole.ErrorCode(wrapped), pigeonhole.CodeUnavailable; got != want {
		t.Fatalf("code: got %s, want %s", got, want)
	}
	if got, want := pigeonhole.ErrorMessage(wrapped), "the message store is unavailable"; got != want {
		t.Fatalf("message: got %q, want %q", got, want)
	}
	if !errors.Is(wrapped, driver) {
		t.Fatalf("cause lost for logs")
	}
	if got, want := pigeonhole.ErrorMessage(driver), "internal error"; got != want {
		t.Fatalf("plain error shown to client: got %q, want %q", got, want)
	}
	if got := pigeonhole.ErrorCode(driver); got != pigeonhole.CodeInternal {
		t.Fatalf("plain error code: got %s, want internal", got)
	}
	if pigeonhole.ErrorCode(nil) != "" || pigeonhole.ErrorMessage(nil) != "" {
		t.Fatalf("nil error has a code or message")
	}
}

func TestNextSendTime(t *testing.T) {
	now := time.UnixMicro(5_000)
	for _, tc := range []struct{ prev, want int64 }{{0, 5_000}, {4_999, 5_000}, {5_000, 5_001}, {9_000, 9_001}} {
		if got := pigeonhole.NextSendTime(now, tc.prev); got != tc.want {
			t.Fatalf("NextSendTime(5000µs, %d): got %d, want %d", tc.prev, got, tc.want)
		}
	}
}
