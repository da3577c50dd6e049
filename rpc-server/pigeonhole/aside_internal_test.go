package pigeonhole

import (
	"errors"
	"testing"
)

func TestAsideReturnsWhatItsFunctionReturns(t *testing.T) {
	want := errors.New("store down")
	got, err := aside(func() (int, error) { return 42, want })
	if got != 42 || err != want {
		t.Fatalf("aside: got %d, %v; want 42, %v", got, err, want)
	}
}

// A panic in a read made aside must reach the caller's goroutine, where
// the RPC server recovers it, rather than end the process.
func TestAsideRaisesAPanicInTheCaller(t *testing.T) {
	defer func() {
		if p := recover(); p != "broken read" {
			t.Fatalf("recovered %v, want the read's panic", p)
		}
	}()
	aside(func() (int, error) { panic("broken read") })
	t.Fatal("aside returned after its function panicked")
}
