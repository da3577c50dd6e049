package rpcclient

import (
	"context"
	"net"
	"sync"

	"github.com/cloudwego/kitex/client"
	"github.com/cloudwego/kitex/pkg/remote"
	"github.com/cloudwego/kitex/pkg/remote/trans/netpollmux"
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
// address.
type lockedMuxPool struct {
	*netpollmux.MuxPool
	locks sync.Map // address → *sync.Mutex
}

var _ remote.LongConnPool = (*lockedMuxPool)(nil)

func (p *lockedMuxPool) Get(ctx context.Context, network, address string, opt remote.ConnOption) (net.Conn, error) {
	l, _ := p.locks.LoadOrStore(address, new(sync.Mutex))
	mu := l.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	return p.MuxPool.Get(ctx, network, address, opt)
}

// muxHandlers is Kitex's multiplexing client transport, told of the pool
// it needs (it refuses any pool but its own type, such as the wrapper).
type muxHandlers struct{ pool *netpollmux.MuxPool }

func (f muxHandlers) NewTransHandler(opt *remote.ClientOption) (remote.ClientTransHandler, error) {
	o := *opt
	o.ConnPool = f.pool
	return netpollmux.NewCliTransHandlerFactory().NewTransHandler(&o)
}
