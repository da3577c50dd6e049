package load

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress samples a Recorder's counters once a second while a run goes:
// it prints a progress line and keeps the throughput time series.
type progress struct {
	rec    *Recorder
	out    io.Writer // nil prints nothing
	tty    bool      // out is a terminal: the line is rewritten in place
	note   func() string
	series []Second
	stop   chan struct{}
	done   chan struct{}
}

// startProgress starts sampling rec, printing to out (nil for silence).
// note, when not nil, adds scenario-specific words to each line.
func startProgress(rec *Recorder, out io.Writer, note func() string) *progress {
	p := &progress{rec: rec, out: out, note: note, stop: make(chan struct{}), done: make(chan struct{})}
	if f, ok := out.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := p.rec.start
	var lastDone, lastFailed int64
	sample := func(now time.Time) {
		done, failed := p.rec.counters()
		dt := now.Sub(last)
		s := Second{
			At:       now.Sub(p.rec.start).Seconds(),
			Requests: done - lastDone,
			Errors:   failed - lastFailed,
			RPS:      perSecond(done-lastDone, dt),
			Warmup:   last.Add(dt / 2).Before(p.rec.measureFrom),
		}
		p.series = append(p.series, s)
		p.print(s, done, failed)
		last, lastDone, lastFailed = now, done, failed
	}
	for {
		select {
		case now := <-tick.C:
			sample(now)
		case <-p.stop:
			// A last partial second, unless it is too short to mean much.
			if now := time.Now(); now.Sub(last) > 100*time.Millisecond {
				sample(now)
			}
			if p.tty && p.out != nil {
				fmt.Fprintln(p.out)
			}
			return
		}
	}
}

// print writes one progress line.
func (p *progress) print(s Second, done, failed int64) {
	if p.out == nil {
		return
	}
	phase := ""
	if s.Warmup {
		phase = " (warm-up)"
	}
	note := ""
	if p.note != nil {
		note = ", " + p.note()
	}
	end := "\n"
	if p.tty {
		end = "\033[K" // clear the rest of the line; the next one overwrites it
		fmt.Fprint(p.out, "\r")
	}
	fmt.Fprintf(p.out, "%6.1fs %9.0f req/s %6d err/s | total %d requests, %d errors%s%s%s",
		s.At, s.RPS, s.Errors, done, failed, note, phase, end)
}

// Stop ends sampling and returns the series.
func (p *progress) Stop() []Second {
	close(p.stop)
	<-p.done
	return p.series
}
