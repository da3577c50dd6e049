package load

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Client makes the API's requests over a pool of HTTP/1.1 keep-alive
// connections to one host. It speaks just the HTTP the API needs, directly
// on net.Conn, as wrk does: each request takes an idle connection or dials
// one, writes the request with one Write and reads the answer into buffers
// the connection keeps, so that the load generator spends as little CPU as
// it can of the machine it shares with the server it measures. It is safe
// for concurrent use.
type Client struct {
	origin  string      // scheme://host, which every URL of the client starts with
	host    string      // the Host header
	addr    string      // host:port to dial
	tls     *tls.Config // nil for http:// targets
	timeout time.Duration
	maxIdle int
	err     error // why target is no URL; every request fails with it

	base    string
	sendURL string
	pingURL string

	creds *credentials // nil: no Authorization header

	mu   sync.Mutex
	idle []*clientConn // most recently used last
}

// The client's limits.
const (
	dialTimeout  = 5 * time.Second
	tcpKeepAlive = 30 * time.Second
	// maxIdleAge is how long a connection may stay idle and still be
	// reused: less than any common server's keep-alive timeout (Node's and
	// Apache's are 5s), so that a connection the server closed while it
	// was idle is not taken for a live one. (net/http notices those with a
	// reading goroutine per connection, which this client does without.)
	maxIdleAge = 2 * time.Second
	// maxBody bounds a response's body.
	maxBody = 16 << 20
	// readBufferSize is each connection's read buffer, which also bounds
	// the status line and each header line.
	readBufferSize = 8 << 10
)

// Errors of responses that the client does not take; transportKind names
// them.
var (
	errMalformed = errors.New("malformed HTTP response")
	errTooLarge  = errors.New("response body over 16 MiB")
)

// NewClient returns a Client for the server at target (a base URL) that
// keeps up to conns idle connections and gives each request timeout.
func NewClient(target string, conns int, timeout time.Duration) *Client {
	base := strings.TrimRight(target, "/")
	c := &Client{
		timeout: timeout,
		maxIdle: conns + 16,
		base:    base,
		sendURL: base + "/api/send",
		pingURL: base + "/ping",
	}
	u, err := url.Parse(base)
	if err != nil {
		c.err = err
		return c
	}
	c.origin, c.host = u.Scheme+"://"+u.Host, u.Host
	port := u.Port()
	switch u.Scheme {
	case "http":
		port = cmp.Or(port, "80")
	case "https":
		port = cmp.Or(port, "443")
		// HTTP/1.1 only, as with http:// targets: the assignment's API
		// is HTTP/1.1 with keep-alive.
		c.tls = &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}}
	default:
		c.err = fmt.Errorf("target %q: unsupported scheme %q", target, u.Scheme)
		return c
	}
	if !strings.HasPrefix(base, c.origin) {
		c.err = fmt.Errorf("target %q: want scheme://host[/path]", target)
	}
	c.addr = net.JoinHostPort(u.Hostname(), port)
	return c
}

// Close closes the idle connections.
func (c *Client) Close() {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, cn := range idle {
		cn.nc.Close()
	}
}

// SendAck is what a send answers. The original API answers 200 with any
// body, so SendTime is 0 when a server does not say.
type SendAck struct {
	SendTime int64 `json:"send_time"`
}

// Message is one message of a pulled page.
type Message struct {
	Chat     string `json:"chat"`
	Text     string `json:"text"`
	Sender   string `json:"sender"`
	SendTime int64  `json:"send_time"`
}

// Page is a pull's answer.
type Page struct {
	Messages   []Message `json:"messages"`
	HasMore    bool      `json:"has_more"`
	NextCursor int64     `json:"next_cursor"`
}

// PageSize is a pull's answer taken only as far as counting its messages:
// the body must be valid JSON, and the messages are counted by their
// "send_time" keys (a text cannot hold that sequence unescaped). That is
// about half the CPU of decoding the page, which matters: the load
// generator shares the machine with the servers it measures (for the same
// reason the JSON check is validJSON, not encoding/json.Valid).
type PageSize struct {
	Messages int
}

// decodeBody implements bodyDecoder.
func (p *PageSize) decodeBody(body []byte) error {
	if !validJSON(body) {
		return errors.New("invalid JSON")
	}
	p.Messages = bytes.Count(body, sendTimeKey)
	return nil
}

var sendTimeKey = []byte(`"send_time":`)

// InboxSize is an inbox page reduced to its number of chats.
type InboxSize struct {
	Chats int
}

// decodeBody implements bodyDecoder: every entry has one "read_up_to".
func (p *InboxSize) decodeBody(body []byte) error {
	if !validJSON(body) {
		return errors.New("invalid JSON")
	}
	p.Chats = bytes.Count(body, readUpToKey)
	return nil
}

var readUpToKey = []byte(`"read_up_to":`)

// bodyDecoder is a destination of answers that decodes them itself instead
// of through json.Unmarshal.
type bodyDecoder interface {
	decodeBody([]byte) error
}

// Send posts body, a JSON send request, to /api/send as the member as
// (whose token it carries when the client has credentials). It succeeds on
// 200; when ack is not nil the answer is decoded into it.
func (c *Client) Send(ctx context.Context, as string, body []byte, ack *SendAck) error {
	if ack == nil {
		return c.do(ctx, "POST", c.sendURL, as, body, nil) // not a nil *SendAck in a non-nil any
	}
	return c.do(ctx, "POST", c.sendURL, as, body, ack)
}

// PullURL returns the URL of a forward pull of chat from cursor.
func (c *Client) PullURL(chat string, cursor int64, limit int) string {
	return c.PullPrefix(chat, limit) + strconv.FormatInt(cursor, 10)
}

// PullPrefix returns the URL of a forward pull of chat with its cursor left
// to append, so that a worker builds a pull URL with one concatenation.
func (c *Client) PullPrefix(chat string, limit int) string {
	return c.base + "/api/pull?chat=" + url.QueryEscape(chat) +
		"&limit=" + strconv.Itoa(limit) + "&reverse=false&cursor="
}

// NewestURL returns the URL of a reverse pull of chat's newest limit
// messages (cursor 0 is the newest), in query parameters as every pull of
// the tool.
func (c *Client) NewestURL(chat string, limit int) string {
	return c.base + "/api/pull?chat=" + url.QueryEscape(chat) +
		"&limit=" + strconv.Itoa(limit) + "&reverse=true&cursor=0"
}

// Pull gets pullURL (from PullURL). It succeeds on 200; when page is not nil
// the answer is decoded into it.
func (c *Client) Pull(ctx context.Context, as, pullURL string, page *Page) error {
	if page == nil {
		return c.do(ctx, "GET", pullURL, as, nil, nil)
	}
	return c.do(ctx, "GET", pullURL, as, nil, page)
}

// PullSize gets pullURL like Pull and returns the number of messages of
// the page.
func (c *Client) PullSize(ctx context.Context, as, pullURL string) (int, error) {
	var page PageSize
	err := c.do(ctx, "GET", pullURL, as, nil, &page)
	return page.Messages, err
}

// Ping gets /ping. It succeeds on 200.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, "GET", c.pingURL, "", nil, nil)
}

// do makes the request method rawURL as the member as (none: "") with body
// (nil for none) and, on 200,
// decodes the answer into into when it is not nil. The request ends after
// the client's timeout or when ctx ends, whichever comes first. The
// connection goes back to the pool only after a complete exchange.
func (c *Client) do(ctx context.Context, method, rawURL, as string, body []byte, into any) error {
	if c.err != nil {
		return c.transportFailure(ctx, method, rawURL, c.err)
	}
	target, ok := strings.CutPrefix(rawURL, c.origin)
	if !ok || !strings.HasPrefix(target, "/") {
		return fmt.Errorf("%s is not a URL of %s", rawURL, c.origin)
	}
	if ctx.Err() != nil {
		return c.transportFailure(ctx, method, rawURL, nil)
	}
	now := time.Now()
	var deadline time.Time
	if c.timeout > 0 {
		deadline = now.Add(c.timeout)
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	cn, err := c.get(ctx, now, deadline)
	if err != nil {
		return c.transportFailure(ctx, method, rawURL, err)
	}
	cn.nc.SetDeadline(deadline) // on a closed connection the request fails below
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, cn.expire)
	}
	var token string
	if as != "" {
		token = c.creds.token(as)
	}
	status, keep, err := cn.roundTrip(method, target, c.host, token, body)
	if stop != nil && !stop() {
		keep = false // cn.expire may be setting a past deadline right now
	}
	if err != nil {
		cn.nc.Close()
		return c.transportFailure(ctx, method, rawURL, err)
	}
	err = answer(status, cn.body, into)
	if keep {
		c.put(cn)
	} else {
		cn.nc.Close()
	}
	return err
}

// answer judges a complete response: a Failure unless status is 200 and,
// when into is not nil, body decodes into it.
func answer(status int, body []byte, into any) error {
	if status != 200 {
		return &Failure{Kind: "status " + strconv.Itoa(status), Detail: string(body[:min(len(body), 256)])}
	}
	var err error
	switch into := into.(type) {
	case nil:
	case bodyDecoder:
		err = into.decodeBody(body)
	default:
		err = json.Unmarshal(body, into)
	}
	if f, ok := errors.AsType[*Failure](err); ok {
		return f // a well-formed answer that is the wrong one
	}
	if err != nil {
		return &Failure{Kind: "body: not the API's JSON", Detail: err.Error()}
	}
	return nil
}

// transportFailure is the Failure of a request that failed below HTTP with
// err, or because ctx ended (then err may be nil).
func (c *Client) transportFailure(ctx context.Context, method, rawURL string, err error) error {
	if ctx.Err() != nil {
		err = contextError(ctx)
	}
	return &Failure{Kind: "transport: " + transportKind(err), Detail: method + " " + rawURL + ": " + err.Error()}
}

// contextError is why ctx ended: its Err, wrapping the cause it was
// cancelled with, if any, so that transportKind sees the Err.
func contextError(ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != err {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}

// get takes the most recently used idle connection, closing any that has
// been idle too long, or dials a new one when there is none. now is the
// time of the request, deadline when it must be done (zero for never).
func (c *Client) get(ctx context.Context, now, deadline time.Time) (*clientConn, error) {
	for {
		c.mu.Lock()
		n := len(c.idle)
		if n == 0 {
			c.mu.Unlock()
			return c.dial(ctx, deadline)
		}
		cn := c.idle[n-1]
		c.idle[n-1] = nil
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		if now.Sub(cn.idleSince) < maxIdleAge {
			return cn, nil
		}
		cn.nc.Close()
	}
}

// put makes cn idle, or closes it when the pool is full.
func (c *Client) put(cn *clientConn) {
	cn.idleSince = time.Now()
	c.mu.Lock()
	if len(c.idle) < c.maxIdle {
		c.idle = append(c.idle, cn)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	cn.nc.Close()
}

// dial connects to the target (with TCP_NODELAY, Go's default), over TLS
// for an https:// target; the handshake happens on the first request.
func (c *Client) dial(ctx context.Context, deadline time.Time) (*clientConn, error) {
	d := net.Dialer{Timeout: dialTimeout, Deadline: deadline, KeepAlive: tcpKeepAlive}
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.tls != nil {
		nc = tls.Client(nc, c.tls)
	}
	cn := &clientConn{nc: nc, br: bufio.NewReaderSize(nc, readBufferSize)}
	cn.expire = func() { nc.SetDeadline(time.Unix(1, 0)) }
	return cn, nil
}

// clientConn is one keep-alive connection with the buffers its requests
// reuse. Only the request that took it from the pool touches it.
type clientConn struct {
	nc        net.Conn
	br        *bufio.Reader
	req       []byte    // the last request written
	body      []byte    // the last response's body
	expire    func()    // sets a past deadline, ending the I/O in progress
	idleSince time.Time // when it went back to the pool
}

// roundTrip writes a request for target (a path and query) with body (nil
// for none) and reads its response. It returns the response's status and
// whether the connection may carry another request; the body is left in
// cn.body until the next request.
func (cn *clientConn) roundTrip(method, target, host, token string, body []byte) (status int, keep bool, err error) {
	b := append(cn.req[:0], method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	if token != "" {
		b = append(b, "\r\nAuthorization: Bearer "...)
		b = append(b, token...)
	}
	if body != nil {
		b = append(b, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	cn.req = b
	if _, err := cn.nc.Write(b); err != nil {
		return 0, false, err
	}
	var h head
	for h.status < 200 { // a 1xx answer is followed by the real one
		if h, err = cn.readHead(); err != nil {
			return 0, false, err
		}
	}
	switch {
	case h.status == 204 || h.status == 304:
		cn.body = cn.body[:0]
	case h.chunked:
		err = cn.readChunked()
	case h.length >= 0:
		err = cn.readBody(h.length)
	default:
		h.close = true // the body ends where the connection does
		err = cn.readToEOF()
	}
	return h.status, !h.close, err
}

// head is what a response's status line and headers say about it.
type head struct {
	status  int
	length  int  // Content-Length, -1 when not given
	chunked bool // Transfer-Encoding: chunked
	close   bool // the server closes the connection after this response
}

// readHead reads a response's status line and headers.
func (cn *clientConn) readHead() (head, error) {
	h := head{length: -1}
	line, err := cn.readLine()
	if err != nil {
		return h, err
	}
	// "HTTP/1.1 200 OK"; the reason is optional.
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || len(line) > 12 && line[12] != ' ' {
		return h, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return h, fmt.Errorf("%w: status line %q", errMalformed, line)
		}
		h.status = 10*h.status + int(d-'0')
	}
	h.close = line[7] == '0' // HTTP/1.0 closes unless it says keep-alive
	for {
		line, err := cn.readLine()
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			return h, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return h, fmt.Errorf("%w: header line %q", errMalformed, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case equalFold(name, "Content-Length"):
			if h.length, err = parseLength(value, 10); err != nil {
				return h, err
			}
		case equalFold(name, "Transfer-Encoding"):
			h.chunked = hasToken(value, "chunked")
		case equalFold(name, "Connection"):
			if hasToken(value, "close") {
				h.close = true
			} else if hasToken(value, "keep-alive") {
				h.close = false
			}
		}
	}
}

// readLine reads a line of the status line and headers, or of chunked
// framing, without its line ending. The line is valid until the next read.
func (cn *clientConn) readLine() ([]byte, error) {
	line, err := cn.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: line longer than %d bytes", errMalformed, readBufferSize)
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// readBody reads a body of n bytes into cn.body.
func (cn *clientConn) readBody(n int) error {
	cn.body = slices.Grow(cn.body[:0], n)[:n]
	_, err := io.ReadFull(cn.br, cn.body)
	return err
}

// readChunked reads a chunked body into cn.body, skipping chunk extensions
// and trailers.
func (cn *clientConn) readChunked() error {
	cn.body = cn.body[:0]
	for {
		line, err := cn.readLine()
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := parseLength(bytes.TrimSpace(size), 16)
		if err != nil {
			return err
		}
		if n == 0 {
			for len(line) > 0 { // trailers, up to an empty line
				if line, err = cn.readLine(); err != nil {
					return err
				}
			}
			return nil
		}
		if len(cn.body)+n > maxBody {
			return errTooLarge
		}
		off := len(cn.body)
		cn.body = slices.Grow(cn.body, n)[:off+n]
		if _, err := io.ReadFull(cn.br, cn.body[off:]); err != nil {
			return err
		}
		if line, err = cn.readLine(); err != nil {
			return err
		} else if len(line) > 0 {
			return fmt.Errorf("%w: chunk longer than its size", errMalformed)
		}
	}
}

// readToEOF reads a body that the server ends by closing the connection
// into cn.body.
func (cn *clientConn) readToEOF() error {
	cn.body = cn.body[:0]
	for {
		if len(cn.body) == cap(cn.body) {
			if len(cn.body) >= maxBody {
				return errTooLarge
			}
			cn.body = slices.Grow(cn.body, readBufferSize)
		}
		n, err := cn.br.Read(cn.body[len(cn.body):cap(cn.body)])
		cn.body = cn.body[:len(cn.body)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseLength parses a Content-Length (base 10) or a chunk size (base 16)
// of at most maxBody.
func parseLength(b []byte, base int) (int, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("%w: empty length", errMalformed)
	}
	n := 0
	for _, d := range b {
		var v int
		switch {
		case '0' <= d && d <= '9':
			v = int(d - '0')
		case base == 16 && 'a' <= d|0x20 && d|0x20 <= 'f':
			v = int(d|0x20-'a') + 10
		default:
			return 0, fmt.Errorf("%w: length %q", errMalformed, b)
		}
		if n = n*base + v; n > maxBody {
			return 0, errTooLarge
		}
	}
	return n, nil
}

// equalFold reports whether the header name b is name, ignoring ASCII case.
func equalFold(b []byte, name string) bool {
	if len(b) != len(name) {
		return false
	}
	for i := range len(b) {
		if b[i]|0x20 != name[i]|0x20 {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated header value v lists token,
// ignoring ASCII case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if equalFold(bytes.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// Failure is a request that did not succeed. Kind is what the report counts
// it under: "status 503", "transport: timeout", "body: …" or, for the follow
// scenario, "anomaly: …".
type Failure struct {
	Kind   string
	Detail string // the server's answer or the error's text, for the first of each kind
}

func (f *Failure) Error() string { return f.Kind + ": " + f.Detail }

// failureKind returns the Kind under which err is counted.
func failureKind(err error) string {
	if f, ok := errors.AsType[*Failure](err); ok {
		return f.Kind
	}
	return "transport: " + transportKind(err)
}

// transportKind names the ways a request fails below HTTP.
func transportKind(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, errMalformed):
		return "malformed response"
	case errors.Is(err, errTooLarge):
		return "response too large"
	}
	return fmt.Sprintf("other (%T)", err)
}
