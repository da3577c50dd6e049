package report

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Plot geometry, in SVG user units.
const (
	plotWidth  = 760
	plotHeight = 340
	marginL    = 70
	marginR    = 36
	marginT    = 20
	marginB    = 50
)

// palette colours the lines of a plot in order.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"}

// line is one data series of a plot.
type line struct {
	name   string
	colour string
	xs, ys []float64
	dashed bool
}

// band is a shaded x range, such as the warm-up.
type band struct {
	from, to float64
	label    string
}

// plot is a line chart drawn as inline SVG.
type plot struct {
	title          string
	xLabel, yLabel string
	xMax           float64 // x runs from 0
	xTicks         []tick
	lines          []line
	bands          []band
}

type tick struct {
	at    float64
	label string
}

// niceSteps are the mantissas of axis maxima.
var niceSteps = []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}

// niceCeil returns the smallest m × 10^k at or above v, m a nice step.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range niceSteps {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// svg renders the plot.
func (p plot) svg() string {
	yMax := 0.0
	for _, l := range p.lines {
		for _, y := range l.ys {
			yMax = max(yMax, y)
		}
	}
	yMax = niceCeil(yMax * 1.05)
	xMax := p.xMax
	if xMax <= 0 {
		xMax = 1
	}
	innerW := float64(plotWidth - marginL - marginR)
	innerH := float64(plotHeight - marginT - marginB)
	px := func(x float64) float64 { return marginL + x/xMax*innerW }
	py := func(y float64) float64 { return marginT + innerH - y/yMax*innerH }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		plotWidth, plotHeight, plotWidth, plotHeight, html.EscapeString(p.title))
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%d" height="%d" fill="#fff"/>`, plotWidth, plotHeight)
	for _, bd := range p.bands {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.1f" fill="#eee"/>`,
			px(bd.from), marginT, px(min(bd.to, xMax))-px(bd.from), innerH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" fill="#777">%s</text>`,
			px(bd.from)+4, marginT+innerH-6, html.EscapeString(bd.label))
	}
	// Horizontal grid and y ticks.
	for i := 0; i <= 5; i++ {
		y := yMax * float64(i) / 5
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, marginL, plotWidth-marginR, py(y), py(y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>`, marginL-6, py(y)+4, formatNumber(y))
	}
	for _, t := range p.xTicks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%.1f" stroke="#ddd"/>`, px(t.at), px(t.at), marginT, marginT+innerH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle">%s</text>`,
			px(t.at), marginT+innerH+16, html.EscapeString(t.label))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%.1f" fill="none" stroke="#444"/>`, marginL, marginT, innerW, innerH)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>`,
		marginL+innerW/2, plotHeight-8, html.EscapeString(p.xLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %.1f) rotate(-90)" font-size="12" text-anchor="middle">%s</text>`,
		marginT+innerH/2, html.EscapeString(p.yLabel))
	for i, l := range p.lines {
		var pts strings.Builder
		for j := range l.xs {
			fmt.Fprintf(&pts, "%.1f,%.1f ", px(min(l.xs[j], xMax)), py(l.ys[j]))
		}
		dash := ""
		if l.dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`, l.colour, dash, pts.String())
		// Legend, top left inside the frame.
		ly := marginT + 18 + 16*i
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="3"%s/>`,
			marginL+10, marginL+30, ly, ly, l.colour, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12">%s</text>`, marginL+36, ly+4, html.EscapeString(l.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// formatNumber prints an axis value without needless digits.
func formatNumber(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	default:
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.4f", v), "0"), ".")
	}
}

// percentileTicks labels a log10(1/(1-q)) axis up to decades decades:
// 0%, 90%, 99%, 99.9% and so on.
func percentileTicks(decades int) []tick {
	ticks := []tick{{0, "0%"}}
	for d := 1; d <= decades; d++ {
		label := "90"
		if d >= 2 {
			label = "99"
		}
		if d > 2 {
			label += "." + strings.Repeat("9", d-2)
		}
		ticks = append(ticks, tick{float64(d), label + "%"})
	}
	return ticks
}
