package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// api is a client of the gateway's HTTP API that fails the test on
// anything unexpected.
type api struct {
	base   string
	client *http.Client
}

// newAPI returns a client of the gateway at base. Its idle connections are
// closed when t ends, before the gateway is stopped (cleanups run last in,
// first out), so they do not hold up the gateway's graceful shutdown.
func newAPI(t *testing.T, base string) *api {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	return &api{base: base, client: client}
}

// response is an HTTP answer, read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// message is a message as the API returns it.
type message struct {
	Chat     string `json:"chat"`
	Text     string `json:"text"`
	Sender   string `json:"sender"`
	SendTime int64  `json:"send_time"`
}

// page is a successful pull's body.
type page struct {
	Messages   []message `json:"messages"`
	HasMore    bool      `json:"has_more"`
	NextCursor int64     `json:"next_cursor"`
}

// sent is a successful send's body.
type sent struct {
	SendTime int64  `json:"send_time"`
	Chat     string `json:"chat"`
}

// do sends a request with body (none if empty) and the given header
// name/value pairs, and reads the answer.
func (a *api) do(t *testing.T, method, path, body string, header ...string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, a.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// postJSON POSTs v as JSON.
func (a *api) postJSON(t *testing.T, path string, v any, header ...string) response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return a.do(t, http.MethodPost, path, string(b), append([]string{"Content-Type", "application/json"}, header...)...)
}

// send sends a message and returns the answer, failing unless it is 200.
func (a *api) send(t *testing.T, chat, text, sender string, header ...string) sent {
	t.Helper()
	resp := a.postJSON(t, "/api/send", map[string]string{"chat": chat, "text": text, "sender": sender}, header...)
	var s sent
	resp.decode(t, http.StatusOK, &s)
	return s
}

// pullQuery pulls one page with GET and a query string.
func (a *api) pullQuery(t *testing.T, chat string, cursor int64, limit int, reverse bool) page {
	t.Helper()
	q := url.Values{
		"chat":    {chat},
		"cursor":  {strconv.FormatInt(cursor, 10)},
		"limit":   {strconv.Itoa(limit)},
		"reverse": {strconv.FormatBool(reverse)},
	}
	var p page
	a.do(t, http.MethodGet, "/api/pull?"+q.Encode(), "").decode(t, http.StatusOK, &p)
	return p
}

// pullPost pulls one page with POST and a JSON body.
func (a *api) pullPost(t *testing.T, chat string, cursor int64, limit int, reverse bool) page {
	t.Helper()
	body := map[string]any{"chat": chat, "cursor": cursor, "limit": limit, "reverse": reverse}
	var p page
	a.postJSON(t, "/api/pull", body).decode(t, http.StatusOK, &p)
	return p
}

// decode checks the status and decodes the JSON body into v, refusing
// fields v does not have.
func (r response) decode(t *testing.T, wantStatus int, v any) {
	t.Helper()
	if r.status != wantStatus {
		t.Fatalf("status %d, want %d; body: %s", r.status, wantStatus, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// object decodes a JSON object body with numbers kept as json.Number, so
// a test can check the JSON types of its values.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("body is not a JSON object: %v; body: %s", err, r.body)
	}
	return obj
}

// wantError checks that r is the JSON error {"code","message"} with the
// given status and code, and a message for people.
func (r response) wantError(t *testing.T, wantStatus int, wantCode string) {
	t.Helper()
	if r.status != wantStatus {
		t.Fatalf("status %d, want %d; body: %s", r.status, wantStatus, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	r.decode(t, wantStatus, &e)
	if e.Code != wantCode {
		t.Errorf("code %q, want %q (message %q)", e.Code, wantCode, e.Message)
	}
	if strings.TrimSpace(e.Message) == "" {
		t.Errorf("empty message in %s", r.body)
	}
}

// keys returns the sorted keys of obj, for comparing key sets.
func keys(obj map[string]any) string {
	var ks []string
	for k := range obj {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return fmt.Sprint(ks)
}
