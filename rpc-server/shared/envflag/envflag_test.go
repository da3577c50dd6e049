package envflag_test

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/shared/envflag"
)

type settings struct {
	addr  string
	n     int
	wait  time.Duration
	list  []string
	level slog.Level
}

func parse(env map[string]string, args ...string) (settings, error) {
	var s settings
	set := envflag.New("test", func(k string) string { return env[k] }, io.Discard)
	set.String(&s.addr, "addr", "T_ADDR", ":1", "")
	set.Int(&s.n, "n", "T_N", 7, "")
	set.Duration(&s.wait, "wait", "T_WAIT", time.Second, "")
	set.List(&s.list, "list", "T_LIST", "a,b", "")
	set.Text(&s.level, "level", "T_LEVEL", "info", "")
	return s, set.Parse(args)
}

func TestPrecedence(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		s, err := parse(nil)
		if err != nil || s.addr != ":1" || s.n != 7 || s.wait != time.Second || !slices.Equal(s.list, []string{"a", "b"}) || s.level != slog.LevelInfo {
			t.Fatalf("got %+v, %v", s, err)
		}
	})
	t.Run("EnvironmentOverridesDefaults", func(t *testing.T) {
		s, err := parse(map[string]string{"T_ADDR": ":2", "T_N": "9", "T_WAIT": "5ms", "T_LIST": " x, ,y ", "T_LEVEL": "warn"})
		if err != nil || s.addr != ":2" || s.n != 9 || s.wait != 5*time.Millisecond || !slices.Equal(s.list, []string{"x", "y"}) || s.level != slog.LevelWarn {
			t.Fatalf("got %+v, %v", s, err)
		}
	})
	t.Run("FlagsOverrideEnvironment", func(t *testing.T) {
		s, err := parse(map[string]string{"T_ADDR": ":2", "T_LIST": "x", "T_LEVEL": "warn"}, "--addr", ":3", "--list", "z", "--level", "debug")
		if err != nil || s.addr != ":3" || !slices.Equal(s.list, []string{"z"}) || s.level != slog.LevelDebug {
			t.Fatalf("got %+v, %v", s, err)
		}
	})
	t.Run("BadValuesAreErrors", func(t *testing.T) {
		for _, env := range []map[string]string{{"T_N": "many"}, {"T_WAIT": "soon"}, {"T_LEVEL": "loud"}} {
			if _, err := parse(env); err == nil {
				t.Fatalf("%v: no error", env)
			}
		}
		if _, err := parse(nil, "stray"); err == nil {
			t.Fatal("a positional argument was accepted")
		}
		if _, err := parse(nil, "--level", "loud"); err == nil {
			t.Fatal("a bad --level was accepted")
		}
	})
}

func TestGiven(t *testing.T) {
	given := func(env map[string]string, args ...string) bool {
		t.Helper()
		var addr string
		set := envflag.New("test", func(k string) string { return env[k] }, io.Discard)
		set.String(&addr, "addr", "T_ADDR", ":1", "")
		if err := set.Parse(args); err != nil {
			t.Fatal(err)
		}
		return set.Given("addr")
	}
	t.Run("DefaultIsNotGiven", func(t *testing.T) {
		if given(nil) {
			t.Fatal("the default counts as given")
		}
	})
	t.Run("FlagIsGiven", func(t *testing.T) {
		if !given(nil, "--addr", ":1") {
			t.Fatal("--addr equal to the default does not count as given")
		}
	})
	t.Run("VariableIsGiven", func(t *testing.T) {
		if !given(map[string]string{"T_ADDR": ":2"}) {
			t.Fatal("$T_ADDR does not count as given")
		}
	})
}
