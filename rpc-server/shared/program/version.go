package program

import (
	"runtime/debug"
	"strings"
)

// Version describes the running binary from the build information the Go
// toolchain stamps into it: the program name, the main module's path and
// version, the VCS revision and time (with "+modified" when the tree had
// uncommitted changes) and the Go version, e.g.
//
//	rpc-server github.com/pigeonhole-im/pigeonhole/rpc-server (devel) revision 0123abcd 2026-01-02T03:04:05Z go1.26.8
func Version(name string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (no build information)"
	}
	return versionOf(name, info)
}

func versionOf(name string, info *debug.BuildInfo) string {
	var revision, modified, when string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		case "vcs.time":
			when = s.Value
		}
	}
	if revision == "" {
		revision = "unknown"
	}
	fields := []string{name, info.Main.Path, info.Main.Version, "revision", revision + modified}
	if when != "" {
		fields = append(fields, when)
	}
	return strings.Join(append(fields, info.GoVersion), " ")
}
