package program_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

func TestLocalUnlessGiven(t *testing.T) {
	for _, tc := range []struct {
		addr  string
		given bool
		want  string
	}{
		{":8888", false, "127.0.0.1:8888"},
		{":8888", true, ":8888"},
		{"10.0.0.1:8888", false, "10.0.0.1:8888"},
	} {
		if got := program.LocalUnlessGiven(tc.addr, tc.given); got != tc.want {
			t.Fatalf("LocalUnlessGiven(%q, %v): got %q, want %q", tc.addr, tc.given, got, tc.want)
		}
	}
}

func TestWarnIfOpen(t *testing.T) {
	for addr, warn := range map[string]bool{
		":8080": true, "0.0.0.0:8080": true, "[::]:8080": true, "10.1.2.3:8080": true,
		"127.0.0.1:8080": false, "[::1]:8080": false, "localhost:8080": false,
	} {
		var buf bytes.Buffer
		program.WarnIfOpen(slog.New(slog.NewTextHandler(&buf, nil)), "http", addr)
		if got := buf.Len() > 0; got != warn {
			t.Fatalf("%s: warned %v, want %v", addr, got, warn)
		}
	}
}
