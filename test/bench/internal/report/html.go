package report

import (
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/pigeonhole-im/pigeonhole/test/bench/internal/load"
)

// Section is one run on an HTML page, under a heading.
type Section struct {
	Heading string
	Result  *load.Result
}

// maxDecades bounds the percentile axis at 99.9999%.
const maxDecades = 6

// WriteHTML writes a self-contained HTML page (inline SVG and CSS, no
// scripts, nothing fetched) with, for each section, its figures, a latency
// by percentile plot on HdrHistogram's log scale and throughput over time.
func WriteHTML(w io.Writer, title string, sections []Section) error {
	type view struct {
		Heading string
		Summary string
		Table   string
		Latency template.HTML
		Series  template.HTML
	}
	var views []view
	for _, s := range sections {
		var table strings.Builder
		if err := WriteTable(&table, s.Result); err != nil {
			return err
		}
		views = append(views, view{
			Heading: s.Heading,
			Table:   table.String(),
			// The SVG is built with every text escaped.
			Latency: template.HTML(latencyPlot(s.Result).svg()),
			Series:  template.HTML(throughputPlot(s.Result).svg()),
		})
	}
	return page.Execute(w, struct {
		Title     string
		Generated string
		Sections  []view
	}{title, time.Now().Format(time.RFC1123), views})
}

// latencyPlot is latency against percentile, one line per kind of request
// (and the follow scenario's delivery latency, dashed).
func latencyPlot(res *load.Result) plot {
	p := plot{title: "latency by percentile", xLabel: "percentile", yLabel: "latency (ms)"}
	add := func(name string, l load.Latency, dashed bool) {
		if len(l.Percentiles) == 0 {
			return
		}
		ln := line{name: name, colour: palette[len(p.lines)%len(palette)], dashed: dashed}
		for _, pt := range l.Percentiles {
			x := 0.0
			if q := pt[0] / 100; q < 1 {
				x = -math.Log10(1 - q)
			} else {
				x = maxDecades
			}
			ln.xs = append(ln.xs, min(x, maxDecades))
			ln.ys = append(ln.ys, pt[1])
			p.xMax = max(p.xMax, min(x, maxDecades))
		}
		p.lines = append(p.lines, ln)
	}
	for _, op := range res.Ops {
		add(op.Op, op.Latency, false)
	}
	if res.Follow != nil {
		add("delivery", res.Follow.Delivery, true)
	}
	decades := min(max(int(math.Ceil(p.xMax-1e-9)), 2), maxDecades)
	p.xMax = float64(decades)
	p.xTicks = percentileTicks(decades)
	return p
}

// throughputPlot is requests (and errors) per second over the run, with the
// warm-up shaded.
func throughputPlot(res *load.Result) plot {
	p := plot{title: "throughput over time", xLabel: "seconds since start", yLabel: "requests per second"}
	ok := line{name: "requests/s", colour: palette[0]}
	bad := line{name: "errors/s", colour: "#d62728"}
	warmupEnd, anyErrors := res.Options.Warmup.Seconds(), false
	prev := 0.0
	for _, s := range res.Series {
		// Each point stands for the interval that ends at it: draw it as
		// a step so short final intervals do not look like drops.
		for _, x := range []float64{prev, s.At} {
			ok.xs, ok.ys = append(ok.xs, x), append(ok.ys, s.RPS)
			bad.xs, bad.ys = append(bad.xs, x), append(bad.ys, float64(s.Errors)/max(s.At-prev, 1e-3))
		}
		anyErrors = anyErrors || s.Errors > 0
		prev = s.At
	}
	p.xMax = niceCeil(prev)
	p.lines = []line{ok}
	if anyErrors {
		p.lines = append(p.lines, bad)
	}
	if warmupEnd > 0 && res.Options.Scenario != load.ScenarioReference {
		p.bands = []band{{from: 0, to: warmupEnd, label: "warm-up"}}
	}
	for i := 0; i <= 10; i++ {
		at := p.xMax * float64(i) / 10
		p.xTicks = append(p.xTicks, tick{at, formatNumber(at)})
	}
	return p
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 62em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 12px; }
figure { margin: 1em 0; } figcaption { font-size: .9em; color: #555; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>Generated {{.Generated}} by <code>go run ./test/bench</code>.
Latency is measured from each request's intended start; percentiles come from a log-linear histogram (±0.4%).</p>
{{range .Sections}}
<h2>{{.Heading}}</h2>
<pre>{{.Table}}</pre>
<figure>{{.Latency}}<figcaption>Latency by percentile (x axis logarithmic in 1/(1−percentile), as HdrHistogram plots it).</figcaption></figure>
<figure>{{.Series}}<figcaption>Throughput over time, one point per second; the warm-up is shaded and not measured.</figcaption></figure>
{{end}}
</body>
</html>
`))
