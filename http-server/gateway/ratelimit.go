package gateway

import (
	"container/list"
	"context"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"
	"golang.org/x/time/rate"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// Defaults of the rate limits: far above what a person at a chat client
// does, so that only scripts and floods ever meet them.
const (
	DefaultSendRate  = 20.0
	DefaultSendBurst = 40
	DefaultPullRate  = 100.0
	DefaultPullBurst = 200
	// DefaultMaxCallers bounds the callers whose buckets are kept; the
	// least recently seen one is forgotten first (and starts again with a
	// full bucket).
	DefaultMaxCallers = 1 << 16
)

// Limit is a token bucket: Rate requests per second on average, Burst at
// once. A zero Rate means no limit.
type Limit struct {
	Rate  float64
	Burst int
}

// limiter keeps one bucket per caller, for one kind of request.
type limiter struct {
	name   string // the policy's name in the RateLimit headers
	limit  Limit
	max    int
	policy string // the RateLimit-Policy header

	mu      sync.Mutex
	order   *list.List // of *bucket, most recently used first
	buckets map[string]*list.Element
}

type bucket struct {
	caller string
	lim    *rate.Limiter
}

func newLimiter(name string, l Limit, maxCallers int) *limiter {
	if l.Rate <= 0 {
		return nil
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	// The window is how long an empty bucket takes to fill: the quota is
	// then available again.
	window := int(math.Ceil(float64(l.Burst) / l.Rate))
	return &limiter{
		name: name, limit: l, max: maxCallers,
		policy:  strconv.Quote(name) + ";q=" + strconv.Itoa(l.Burst) + ";w=" + strconv.Itoa(window),
		order:   list.New(),
		buckets: make(map[string]*list.Element),
	}
}

// take spends one token of caller's bucket at now. When the bucket is
// empty it spends nothing and returns how long until a token is there.
func (l *limiter) take(caller string, now time.Time) (remaining float64, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lim *rate.Limiter
	if el, ok := l.buckets[caller]; ok {
		l.order.MoveToFront(el)
		lim = el.Value.(*bucket).lim
	} else {
		if l.order.Len() >= l.max {
			oldest := l.order.Back()
			l.order.Remove(oldest)
			delete(l.buckets, oldest.Value.(*bucket).caller)
		}
		lim = rate.NewLimiter(rate.Limit(l.limit.Rate), l.limit.Burst)
		l.buckets[caller] = l.order.PushFront(&bucket{caller: caller, lim: lim})
	}
	r := lim.ReserveN(now, 1)
	if wait = r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return 0, wait
	}
	return lim.TokensAt(now), 0
}

// limit applies l to the request's caller: the token's subject, or the
// client's address without authentication. It sets the RateLimit headers
// and, over the limit, answers 429 rate_limited with Retry-After and
// returns false.
func (g *gateway) limit(c context.Context, ctx *app.RequestContext, l *limiter) bool {
	if l == nil {
		return true
	}
	caller, ok := pigeonhole.CallerFrom(c)
	key := "sub:" + caller.Member
	if !ok {
		key = "addr:" + g.clientAddr(ctx)
	}
	remaining, wait := l.take(key, g.cfg.Now())
	ctx.Response.Header.Set("RateLimit-Policy", l.policy)
	// t: seconds until the bucket is full again.
	full := math.Ceil((float64(l.limit.Burst) - remaining) / l.limit.Rate)
	ctx.Response.Header.Set("RateLimit", strconv.Quote(l.name)+";r="+strconv.Itoa(int(remaining))+";t="+strconv.Itoa(int(full)))
	if wait <= 0 {
		return true
	}
	ctx.Response.Header.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	g.fail(c, ctx, pigeonhole.Errorf(pigeonhole.CodeRateLimited, "too many %s requests: at most %g a second (bursts of %d)", l.name, l.limit.Rate, l.limit.Burst))
	return false
}

// clientAddr is the address the request came from: the peer's, or, when
// the peer is a trusted proxy, the nearest address in X-Forwarded-For that
// is not one (proxies append, so only the right end is trustworthy).
func (g *gateway) clientAddr(ctx *app.RequestContext) string {
	peer := hostOf(ctx.RemoteAddr())
	if !g.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(string(ctx.Request.Header.Peek("X-Forwarded-For")), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: stop at the last address we trust
		}
		ip = ip.Unmap()
		if !g.trusted(ip) {
			return ip.String()
		}
		peer = ip
	}
	return peer.String()
}

func (g *gateway) trusted(ip netip.Addr) bool {
	for _, p := range g.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// hostOf is the IP of a peer address (the zero Addr when it has none).
func hostOf(addr net.Addr) netip.Addr {
	if tcp, ok := addr.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(tcp.IP)
		return ip.Unmap()
	}
	if addr == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
