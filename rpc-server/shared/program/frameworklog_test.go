package program_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/program"
)

// startLogger returns the logger Settings.Start makes at level, writing
// to the returned buffer.
func startLogger(t *testing.T, level string) (*bytes.Buffer, program.FrameworkLog) {
	t.Helper()
	var s program.Settings
	fs := envflag.New("test", func(string) string { return "" }, io.Discard)
	s.Define(fs)
	if err := fs.Parse([]string{"--log-level", level, "--memory-limit-mib", "0"}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return &out, program.NewFrameworkLog(s.Start(func(string) string { return "" }, &out), "kitex")
}

// records decodes every line of out as a JSON object.
func records(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(out.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line is not JSON: %q: %v", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestFrameworkLog(t *testing.T) {
	t.Run("LinesAreJSONWithLevelAndLogger", func(t *testing.T) {
		out, log := startLogger(t, "info")
		log.Infof("KITEX: server listen at addr=%s", "[::]:8888")
		log.Notice("circuit ", "open")
		log.CtxWarnf(context.Background(), "retry %d", 2)
		log.Error("failed")
		recs := records(t, out)
		want := []struct{ level, msg string }{
			{"INFO", "KITEX: server listen at addr=[::]:8888"},
			{"NOTICE", "circuit open"},
			{"WARN", "retry 2"},
			{"ERROR", "failed"},
		}
		if len(recs) != len(want) {
			t.Fatalf("got %d records, want %d:\n%s", len(recs), len(want), out)
		}
		for i, w := range want {
			if recs[i]["level"] != w.level || recs[i]["msg"] != w.msg || recs[i]["logger"] != "kitex" {
				t.Errorf("record %d: got %v, want level %s, msg %q, logger kitex", i, recs[i], w.level, w.msg)
			}
		}
	})
	t.Run("LogLevelFiltersFrameworkLines", func(t *testing.T) {
		out, log := startLogger(t, "warn")
		log.Trace("t")
		log.Debugf("d %d", 1)
		log.Info("i")
		log.CtxNoticef(context.Background(), "n")
		log.Warn("w")
		recs := records(t, out)
		if len(recs) != 1 || recs[0]["msg"] != "w" {
			t.Fatalf("at --log-level warn got %v, want only the warning", recs)
		}
	})
	t.Run("TraceShownAtItsOwnLevel", func(t *testing.T) {
		out, log := startLogger(t, "debug-4")
		log.Tracef("t %s", "x")
		if recs := records(t, out); len(recs) != 1 || recs[0]["level"] != "TRACE" {
			t.Fatalf("got %v, want one TRACE record", recs)
		}
	})
}

func TestDurationsAreLoggedAsDurations(t *testing.T) {
	var out bytes.Buffer
	log := (program.Settings{}).Start(func(string) string { return "" }, &out)
	log.Info("starting", "exit_wait", 5*time.Second, "drain", 1500*time.Millisecond)
	recs := records(t, &out)
	if got, want := recs[0]["exit_wait"], "5s"; got != want {
		t.Errorf("exit_wait: got %v, want %q", got, want)
	}
	if got, want := recs[0]["drain"], "1.5s"; got != want {
		t.Errorf("drain: got %v, want %q", got, want)
	}
}
