// Package histogram records latencies in log-linear buckets, the layout of
// HdrHistogram: every power of two is split into 128 equal sub-buckets, so a
// recorded value is known to within 1/128 (0.8%) of itself whatever its
// magnitude, in a fixed 36 KiB, and two histograms merge by adding counts.
package histogram

import (
	"math"
	"math/bits"
)

const (
	// subBits sets the precision: 2^subBits sub-buckets per power of two.
	subBits = 7
	// subCount is the number of sub-buckets in each power of two.
	subCount = 1 << subBits
	// linearMax is the first value that is not counted in a bucket of its
	// own: below it buckets are one unit wide.
	linearMax = 2 * subCount
	// maxBits bounds trackable values to below 2^maxBits (in nanoseconds,
	// about 73 minutes); larger values count in the top bucket. Min, Max
	// and Mean stay exact.
	maxBits = 42
	// numBuckets is linearMax exact buckets and subCount per further power
	// of two up to maxBits.
	numBuckets = linearMax + (maxBits-subBits-1)*subCount
)

// Highest is the largest value a Histogram tells apart from larger ones.
const Highest = 1<<maxBits - 1

// Histogram counts non-negative int64 values (nanoseconds, for the load
// tool). The zero value is not usable; call New. A Histogram is not safe
// for concurrent use.
type Histogram struct {
	counts []uint64
	total  uint64
	min    int64
	max    int64
	sum    float64
	sumSq  float64
}

// New returns an empty Histogram.
func New() *Histogram {
	return &Histogram{counts: make([]uint64, numBuckets), min: math.MaxInt64}
}

// bucketOf returns the index of the bucket that counts v (0 <= v <= Highest).
func bucketOf(v int64) int {
	if v < linearMax {
		return int(v)
	}
	top := bits.Len64(uint64(v)) - 1 // v is in [2^top, 2^(top+1))
	shift := top - subBits
	sub := int(v>>shift) - subCount // in [0, subCount)
	return linearMax + (top-subBits-1)*subCount + sub
}

// bucketRange returns the lowest and highest value counted by bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < linearMax {
		return int64(i), int64(i)
	}
	i -= linearMax
	top := i/subCount + subBits + 1
	shift := top - subBits
	lo = int64(i%subCount+subCount) << shift
	return lo, lo + 1<<shift - 1
}

// Record counts v. Negative values count as 0; values above Highest count in
// the top bucket (Max still reports them exactly).
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	b := v
	if b > Highest {
		b = Highest
	}
	h.counts[bucketOf(b)]++
	h.total++
	h.min = min(h.min, v)
	h.max = max(h.max, v)
	f := float64(v)
	h.sum += f
	h.sumSq += f * f
}

// Merge adds every value counted by o to h. o is unchanged.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
	h.sum += o.sum
	h.sumSq += o.sumSq
}

// Count returns how many values were recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Min returns the smallest recorded value, or 0 when empty.
func (h *Histogram) Min() int64 {
	if h.total == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest recorded value, or 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the exact arithmetic mean, or 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// StdDev returns the population standard deviation (as JMeter reports it),
// or 0 when empty.
func (h *Histogram) StdDev() float64 {
	if h.total == 0 {
		return 0
	}
	mean := h.Mean()
	variance := h.sumSq/float64(h.total) - mean*mean
	if variance < 0 { // rounding when all values are equal
		return 0
	}
	return math.Sqrt(variance)
}

// ValueAt returns the value at quantile q (0 <= q <= 1): the smallest
// recorded value such that at least q of all values are at or below it, as
// the midpoint of its bucket (so within 0.4% of the true value), clamped to
// [Min, Max]. ValueAt(1) is Max exactly. It returns 0 when empty.
func (h *Histogram) ValueAt(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			return min(max(lo+(hi-lo)/2, h.min), h.max)
		}
	}
	return h.max
}

// Point is one point of a percentile distribution: Value is the value at
// quantile Quantile.
type Point struct {
	Quantile float64
	Value    int64
}

// pointsPerDecade is how many points Distribution puts on each factor of ten
// of 1/(1-q): 90% to 99%, 99% to 99.9% and so on.
const pointsPerDecade = 20

// Distribution returns the percentile distribution for a plot whose x axis
// is logarithmic in 1/(1-q), as HdrHistogram's plots are: points evenly
// spaced on that axis from q=0 up to q = 1 - 1/Count, the last quantile the
// data can tell apart from the maximum, followed by that last point with the
// exact Max. It returns nil when empty.
func (h *Histogram) Distribution() []Point {
	if h.total == 0 {
		return nil
	}
	// Past 1/(1-q) = total every quantile is the maximum.
	limit := math.Log10(float64(h.total))
	var points []Point
	for k := 0; ; k++ {
		x := float64(k) / pointsPerDecade
		if x >= limit {
			break
		}
		q := 1 - math.Pow(10, -x)
		points = append(points, Point{Quantile: q, Value: h.ValueAt(q)})
	}
	last := 1 - 1/float64(h.total)
	if h.total == 1 {
		last = 0
	}
	return append(points, Point{Quantile: last, Value: h.max})
}
