package histogram

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// quantiles are the ones the load tool reports, and a few more.
var quantiles = []float64{0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1}

// reference returns the value at quantile q of sorted the way ValueAt
// defines it: the smallest value with at least q of all values at or below.
func reference(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// latencies returns n log-normally distributed values around 2ms in
// nanoseconds, with a tail of rare stalls up to seconds: the shape of HTTP
// latencies.
func latencies(rng *rand.Rand, n int) []int64 {
	values := make([]int64, n)
	for i := range values {
		v := math.Exp(rng.NormFloat64()*0.8) * 2e6
		if rng.IntN(1000) == 0 {
			v *= 100
		}
		values[i] = int64(v)
	}
	return values
}

func TestValueAt(t *testing.T) {
	t.Run("WithinOnePercentOfSortedReference", func(t *testing.T) {
		for seed := range uint64(5) {
			rng := rand.New(rand.NewPCG(seed, 42))
			values := latencies(rng, 20_000+rng.IntN(80_000))
			h := New()
			for _, v := range values {
				h.Record(v)
			}
			slices.Sort(values)
			for _, q := range quantiles {
				got, want := h.ValueAt(q), reference(values, q)
				if diff := math.Abs(float64(got-want)) / float64(want); diff > 0.01 {
					t.Errorf("seed %d q=%v: got %d, want %d (off by %.2f%%)", seed, q, got, want, diff*100)
				}
			}
		}
	})

	t.Run("SmallValuesAreExact", func(t *testing.T) {
		h := New()
		for v := range int64(linearMax) {
			h.Record(v)
		}
		for _, q := range []float64{0.1, 0.5, 0.9} {
			if got, want := h.ValueAt(q), int64(math.Ceil(q*linearMax))-1; got != want {
				t.Errorf("q=%v: got %d, want %d", q, got, want)
			}
		}
	})

	t.Run("EmptyIsZero", func(t *testing.T) {
		h := New()
		if got := h.ValueAt(0.5); got != 0 {
			t.Fatalf("got %d, want 0", got)
		}
		if h.Distribution() != nil {
			t.Fatal("distribution of an empty histogram is not nil")
		}
	})
}

func TestBuckets(t *testing.T) {
	t.Run("RangesTileTheValues", func(t *testing.T) {
		var next int64
		for i := range numBuckets {
			lo, hi := bucketRange(i)
			if lo != next {
				t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
			}
			if got := bucketOf(lo); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", lo, got, i)
			}
			if got := bucketOf(hi); got != i {
				t.Fatalf("bucketOf(%d) = %d, want %d", hi, got, i)
			}
			if width := float64(hi - lo + 1); lo >= linearMax && width/float64(lo) > 1.0/subCount {
				t.Fatalf("bucket %d [%d,%d] is wider than 1/%d of its values", i, lo, hi, subCount)
			}
			next = hi + 1
		}
		if got, want := next-1, int64(Highest); got != want {
			t.Fatalf("top bucket ends at %d, want %d", got, want)
		}
	})
}

func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	values := latencies(rng, 10_000)
	whole, a, b := New(), New(), New()
	for i, v := range values {
		whole.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	a.Merge(New())
	if got, want := a.Count(), whole.Count(); got != want {
		t.Fatalf("count: got %d, want %d", got, want)
	}
	if a.Min() != whole.Min() || a.Max() != whole.Max() {
		t.Fatalf("min/max: got %d/%d, want %d/%d", a.Min(), a.Max(), whole.Min(), whole.Max())
	}
	if math.Abs(a.Mean()-whole.Mean()) > 1e-6*whole.Mean() {
		t.Fatalf("mean: got %v, want %v", a.Mean(), whole.Mean())
	}
	for _, q := range quantiles {
		if got, want := a.ValueAt(q), whole.ValueAt(q); got != want {
			t.Errorf("q=%v: got %d, want %d", q, got, want)
		}
	}
}

func TestMoments(t *testing.T) {
	h := New()
	for _, v := range []int64{2, 4, 4, 4, 5, 5, 7, 9} {
		h.Record(v)
	}
	if got, want := h.Mean(), 5.0; got != want {
		t.Errorf("mean: got %v, want %v", got, want)
	}
	if got, want := h.StdDev(), 2.0; math.Abs(got-want) > 1e-9 {
		t.Errorf("std dev: got %v, want %v", got, want)
	}
	if got, want := h.Min(), int64(2); got != want {
		t.Errorf("min: got %d, want %d", got, want)
	}
	h.Record(Highest * 4)
	if got, want := h.Max(), int64(Highest*4); got != want {
		t.Errorf("max beyond Highest: got %d, want %d", got, want)
	}
}

func TestDistribution(t *testing.T) {
	h := New()
	for v := range int64(1000) {
		h.Record(v * 1000)
	}
	points := h.Distribution()
	if len(points) < 2 {
		t.Fatalf("got %d points, want many", len(points))
	}
	for i := 1; i < len(points); i++ {
		if points[i].Quantile <= points[i-1].Quantile || points[i].Value < points[i-1].Value {
			t.Fatalf("point %d %+v does not follow %+v", i, points[i], points[i-1])
		}
	}
	last := points[len(points)-1]
	if got, want := last.Value, h.Max(); got != want {
		t.Errorf("last value: got %d, want the max %d", got, want)
	}
	if got, want := last.Quantile, 0.999; math.Abs(got-want) > 1e-12 {
		t.Errorf("last quantile: got %v, want %v", got, want)
	}
}
