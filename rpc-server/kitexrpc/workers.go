package kitexrpc

import (
	"sync/atomic"
	"time"
)

// workers runs functions on goroutines that outlive them, so that a
// function finds a stack already grown.
//
// A goroutine's stack starts small and grows by copying, and each copy
// walks every frame on it. A batch item that reads the embedded store runs
// deep (SQLite's translated C, whose frames are large and costly to walk),
// so on a goroutine of its own it grew its stack several times per item:
// a third of a replica's CPU on newest-page pulls went to growing stacks
// (docs/performance.md). A worker keeps its stack for the next function.
//
// Up to maxIdle workers wait for work; a worker idle for idleFor exits, so
// an idle service holds none. A worker's stack may still shrink while it
// waits (the collector halves a stack that uses little of it), which costs
// at most one growth per collection, not several per item.
type workers struct {
	tasks   chan func()
	idle    atomic.Int32
	maxIdle int32
	idleFor time.Duration
}

func newWorkers(maxIdle int, idleFor time.Duration) *workers {
	return &workers{tasks: make(chan func()), maxIdle: int32(maxIdle), idleFor: idleFor}
}

// run runs f on a waiting worker, or on a new one when none waits.
func (w *workers) run(f func()) {
	select {
	case w.tasks <- f:
	default:
		go w.work(f)
	}
}

// work runs f, then whatever run hands it, until it has waited idleFor
// for work or enough others wait.
func (w *workers) work(f func()) {
	var timer *time.Timer
	for {
		f()
		if w.idle.Add(1) > w.maxIdle {
			w.idle.Add(-1)
			return
		}
		if timer == nil {
			timer = time.NewTimer(w.idleFor)
		} else {
			timer.Reset(w.idleFor)
		}
		select {
		case f = <-w.tasks:
			w.idle.Add(-1)
		case <-timer.C:
			w.idle.Add(-1)
			return
		}
	}
}
