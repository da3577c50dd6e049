package rpcclient

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestBatchContext(t *testing.T) {
	t.Run("EndsAtTheEarliestDeadline", func(t *testing.T) {
		soon := time.Now().Add(time.Second)
		a, cancelA := context.WithDeadline(context.Background(), soon.Add(4*time.Second))
		defer cancelA()
		b, cancelB := context.WithDeadline(context.Background(), soon)
		defer cancelB()
		ctx, cancel := batchContext([]context.Context{context.Background(), a, b})
		defer cancel()
		if got, ok := ctx.Deadline(); !ok || !got.Equal(soon) {
			t.Fatalf("deadline: got %v (%v), want %v", got, ok, soon)
		}
	})
	t.Run("NoDeadlineWhenNoCallerHasOne", func(t *testing.T) {
		ctx, cancel := batchContext([]context.Context{context.Background()})
		defer cancel()
		if d, ok := ctx.Deadline(); ok {
			t.Fatalf("deadline %v; want none", d)
		}
	})
}

func TestLeavingOutItems(t *testing.T) {
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	if keep, all := waiting([]context.Context{live, live}); !all || keep != nil {
		t.Fatalf("all waiting: got %v, %v", keep, all)
	}
	keep, all := waiting([]context.Context{gone, live, gone, live})
	if all || !slices.Equal(keep, []int{1, 3}) {
		t.Fatalf("waiting: got %v, %v; want [1 3], false", keep, all)
	}
	// Request ids may be fewer than items; those kept stay aligned.
	if got := subset([]string{"i0", "i1", "i2"}, keep); !slices.Equal(got, []string{"i1"}) {
		t.Fatalf("subset of ids: got %v", got)
	}
	got := expand([]string{"r1", "r3"}, keep, 4, func() string { return "gone" })
	if want := []string{"gone", "r1", "gone", "r3"}; !slices.Equal(got, want) {
		t.Fatalf("expand: got %v, want %v", got, want)
	}
	if got := expand([]string{"r1"}, keep, 4, func() string { return "gone" }); len(got) != 1 {
		t.Fatalf("a short answer must stay short (and be reported): got %v", got)
	}
}
