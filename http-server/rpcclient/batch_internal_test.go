package rpcclient

import "testing"

func TestBatchNeverCarriesMoreThanItsBounds(t *testing.T) {
	b := &batcher[int, int]{max: 4, cost: func(n int) int { return n }, maxCost: 10}
	for _, tc := range []struct {
		name  string
		queue []int
		want  int
	}{
		{"Empty", nil, 0},
		{"ByCount", []int{1, 1, 1, 1, 1, 1}, 4},
		{"ByCost", []int{4, 4, 4, 1}, 2},
		{"ExactlyTheCost", []int{5, 5, 1}, 2},
		{"ALoneItemOverTheCostStillGoes", []int{50, 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.queue = nil
			for _, in := range tc.queue {
				b.queue = append(b.queue, &pending[int, int]{in: in})
			}
			if got := b.next(); got != tc.want {
				t.Fatalf("next batch: got %d items, want %d", got, tc.want)
			}
		})
	}
}
