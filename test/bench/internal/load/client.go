package load

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Client makes the API's requests over one http.Client tuned for many
// concurrent keep-alive connections to one host. It is safe for concurrent
// use.
type Client struct {
	http    *http.Client
	base    string
	sendURL string
	pingURL string
}

// NewClient returns a Client for the server at target (a base URL) that
// keeps up to conns idle connections and gives each request timeout.
func NewClient(target string, conns int, timeout time.Duration) *Client {
	transport := &http.Transport{
		Proxy: nil, // load goes straight to the target, whatever the environment says
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		MaxIdleConns:        conns + 16,
		MaxIdleConnsPerHost: conns + 16,
		MaxConnsPerHost:     0, // no limit: the workers are the limit
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		// A non-nil empty map turns HTTP/2 off for https targets too: the
		// assignment's API is HTTP/1.1 with keep-alive.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	base := strings.TrimRight(target, "/")
	return &Client{
		http:    &http.Client{Transport: transport, Timeout: timeout},
		base:    base,
		sendURL: base + "/api/send",
		pingURL: base + "/ping",
	}
}

// Close closes the idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

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

// Send posts body, a JSON send request, to /api/send. It succeeds on 200;
// when ack is not nil the answer is decoded into it.
func (c *Client) Send(ctx context.Context, body []byte, ack *SendAck) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.sendURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if ack == nil {
		return c.do(req, nil) // not a nil *SendAck in a non-nil any
	}
	return c.do(req, ack)
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

// Pull gets pullURL (from PullURL). It succeeds on 200; when page is not nil
// the answer is decoded into it.
func (c *Client) Pull(ctx context.Context, pullURL string, page *Page) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, pullURL, nil)
	if err != nil {
		return err
	}
	if page == nil {
		return c.do(req, nil)
	}
	return c.do(req, page)
}

// Ping gets /ping. It succeeds on 200.
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.pingURL, nil)
	if err != nil {
		return err
	}
	return c.do(req, nil)
}

// do sends req and, on 200, decodes the body into into when it is not nil.
// The body is always read to the end so that the connection is reused.
func (c *Client) do(req *http.Request, into any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return &Failure{Kind: "transport: " + transportKind(err), Detail: err.Error()}
	}
	defer func() {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		detail, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return &Failure{Kind: "status " + strconv.Itoa(resp.StatusCode), Detail: string(detail)}
	}
	if into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return &Failure{Kind: "body: not the API's JSON", Detail: err.Error()}
		}
	}
	return nil
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
	}
	return fmt.Sprintf("other (%T)", errors.Unwrap(err))
}
