package rpcclient

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/remote"
	"github.com/cloudwego/kitex/pkg/remote/trans/netpollmux"
	"github.com/cloudwego/netpoll"
)

// multiplexed is client.WithMuxConnection(n) with its pool made safe.
//
// Kitex v0.16.1's multiplexed pool writes a replica's slot of connections
// while other calls read it, without synchronization (a data race the
// race detector reports when a connection is first dialled or replaced).
// Here the calls to each replica take the pool one at a time: a call
// that finds its connection waits for nobody but one that dials the same
// replica.
func multiplexed(n int) []client.Option {
	inner := netpollmux.NewMuxConnPool(n)
	return []client.Option{
		client.WithConnPool(&lockedMuxPool{MuxPool: inner}),
		client.WithTransHandlerFactory(muxHandlers{pool: inner}),
	}
}

// lockedMuxPool is a netpollmux.MuxPool whose Get runs one at a time per
// address, and that tells a waitCall in the call's context which
// connection the call goes over.
type lockedMuxPool struct {
	*netpollmux.MuxPool
	locks sync.Map // address → *sync.Mutex
	// raw holds the connections this pool dialled, by local address:
	// the multiplexed connection Kitex hands out closes nothing (its
	// Close does nothing), so ending one takes the raw one.
	raw sync.Map // local address → netpoll.Connection
}

var _ remote.LongConnPool = (*lockedMuxPool)(nil)

func (p *lockedMuxPool) Get(ctx context.Context, network, address string, opt remote.ConnOption) (net.Conn, error) {
	l, _ := p.locks.LoadOrStore(address, new(sync.Mutex))
	mu := l.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	opt.Dialer = recordingDialer{Dialer: opt.Dialer, raw: &p.raw}
	conn, err := p.MuxPool.Get(ctx, network, address, opt)
	if err != nil {
		return nil, err
	}
	if w, ok := ctx.Value(waitCallKey{}).(*waitCall); ok {
		raw, _ := p.raw.Load(conn.LocalAddr().String())
		rc, _ := raw.(netpoll.Connection)
		if rc == nil {
			// Every connection of the pool is dialled above: a call that
			// could not be ended is not made.
			return nil, errors.New("rpcclient: a multiplexed connection this pool did not dial")
		}
		if !w.use(rc) {
			return nil, errWaitEnded
		}
	}
	return conn, nil
}

// recordingDialer dials as Dialer does and keeps each netpoll connection
// in raw, by its local address, until it closes.
type recordingDialer struct {
	remote.Dialer
	raw *sync.Map
}

func (d recordingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	conn, err := d.Dialer.DialTimeout(network, address, timeout)
	if err != nil {
		return nil, err
	}
	if nc, ok := conn.(netpoll.Connection); ok {
		local := nc.LocalAddr().String()
		d.raw.Store(local, nc)
		nc.AddCloseCallback(func(netpoll.Connection) error {
			d.raw.CompareAndDelete(local, nc)
			return nil
		})
	}
	return conn, nil
}

// errWaitEnded fails an attempt of a waiting call whose caller stopped
// waiting before the attempt found its connection.
var errWaitEnded = errors.New("rpcclient: the caller stopped waiting")

type waitCallKey struct{}

// waitCall is one waiting call (a long poll) on a multiplexed connection.
//
// Waiting calls are made without a Kitex timeout and on a context that
// never ends: Kitex v0.16.1 runs a call that has either in a goroutine of
// its own, which starts one more to follow the context, so each waiting
// call held three goroutines in the gateway where it now holds only its
// caller's (see docs/performance.md, "Long polls"). The replica answers
// a waiting call when its wait is over; what the timeout and the context
// did, ending a call its caller stopped waiting for (its deadline, the
// wait plus the request timeout, passed: the replica is stuck; or the
// gateway shuts down), is done by closing the connection the call waits
// on. Every call on that connection then fails at once, as when a replica
// goes away, and each one whose caller still waits is retried.
type waitCall struct {
	mu    sync.Mutex
	conn  netpoll.Connection // its attempt's, once it has one
	ended bool               // its caller stopped waiting
	done  bool               // its caller has its answer
}

// use records that the call's attempt goes over conn; false if its caller
// stopped waiting meanwhile.
func (w *waitCall) use(conn netpoll.Connection) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.conn = conn
	return !w.ended
}

// end closes the call's connection, unless the call is over.
func (w *waitCall) end() {
	w.mu.Lock()
	conn := w.conn
	w.ended = true
	if w.done {
		conn = nil
	}
	w.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
}

// finish marks the call over: ending it closes nothing any more.
func (w *waitCall) finish() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// muxHandlers is Kitex's multiplexing client transport, told of the pool
// it needs (it refuses any pool but its own type, such as the wrapper).
type muxHandlers struct{ pool *netpollmux.MuxPool }

func (f muxHandlers) NewTransHandler(opt *remote.ClientOption) (remote.ClientTransHandler, error) {
	o := *opt
	o.ConnPool = f.pool
	return netpollmux.NewCliTransHandlerFactory().NewTransHandler(&o)
}
