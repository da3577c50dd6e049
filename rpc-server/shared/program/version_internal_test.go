package program

import (
	"runtime/debug"
	"testing"
)

func TestVersionOf(t *testing.T) {
	main := debug.Module{Path: "github.com/pigeonhole-im/pigeonhole/rpc-server", Version: "(devel)"}
	t.Run("FromVCS", func(t *testing.T) {
		info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: main, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"},
		}}
		got := versionOf("rpc-server", info)
		want := "rpc-server github.com/pigeonhole-im/pigeonhole/rpc-server (devel) revision 0123abcd+modified 2026-01-02T03:04:05Z go1.26.8"
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
	t.Run("WithoutVCS", func(t *testing.T) {
		got := versionOf("http-server", &debug.BuildInfo{GoVersion: "go1.26.8", Main: main})
		want := "http-server github.com/pigeonhole-im/pigeonhole/rpc-server (devel) revision unknown go1.26.8"
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
