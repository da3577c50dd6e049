package load

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// chatServer is a small in-memory server of send and pull, honest unless
// told to lie: lie "newest" leaves a chat's newest message out of reverse
// pages, lie "tail" moves an empty page's next_cursor past the poll's.
type chatServer struct {
	lie   string
	mu    sync.Mutex
	chats map[string][]int64 // send times, oldest first
	clock int64
}

func (s *chatServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/ping":
		fmt.Fprint(w, `{"message":"pong"}`)
	case "/api/send":
		var req struct{ Chat string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.clock++
		s.chats[req.Chat] = append(s.chats[req.Chat], s.clock)
		fmt.Fprintf(w, `{"send_time":%d}`, s.clock)
	case "/api/pull":
		q := r.URL.Query()
		cursor, _ := strconv.ParseInt(q.Get("cursor"), 10, 64)
		limit, _ := strconv.Atoi(q.Get("limit"))
		page := s.page(q.Get("chat"), cursor, limit, q.Get("reverse") == "true")
		json.NewEncoder(w).Encode(page)
	default:
		http.NotFound(w, r)
	}
}

// page is a pull by the README's contract, bent by s.lie.
func (s *chatServer) page(chat string, cursor int64, limit int, reverse bool) Page {
	times := s.chats[chat]
	var picked []int64
	if reverse {
		for i := len(times) - 1; i >= 0; i-- {
			if cursor == 0 || times[i] <= cursor {
				picked = append(picked, times[i])
			}
		}
		if s.lie == "newest" && len(picked) > 0 {
			picked = picked[1:]
		}
	} else {
		for _, t := range times {
			if t >= cursor {
				picked = append(picked, t)
			}
		}
	}
	page := Page{Messages: []Message{}, HasMore: len(picked) > limit}
	picked = picked[:min(limit, len(picked))]
	for _, t := range picked {
		page.Messages = append(page.Messages, Message{Chat: chat, Text: "x", Sender: "a", SendTime: t})
	}
	switch {
	case page.HasMore:
		page.NextCursor = s.page(chat, cursor, limit+1, reverse).Messages[limit].SendTime
	case reverse:
	case len(picked) > 0:
		page.NextCursor = picked[len(picked)-1] + 1
	case s.lie == "tail":
		page.NextCursor = cursor + 1
	default:
		page.NextCursor = cursor
	}
	return page
}

// TestNewestScenariosValidate runs the scenarios of the newest page and the
// tail against a server that keeps the contract, where no answer may count
// as an error, and against one that breaks it, where every answer must.
func TestNewestScenariosValidate(t *testing.T) {
	run := func(t *testing.T, lie, scenario string) *Result {
		t.Helper()
		srv := httptest.NewServer(&chatServer{lie: lie, chats: map[string][]int64{}})
		t.Cleanup(srv.Close)
		opts := Defaults()
		opts.Scenario, opts.Target, opts.Concurrency = scenario, srv.URL, 3
		opts.Chats, opts.Prefill, opts.Requests, opts.Warmup = 3, 15, 60, 0
		opts.Timeout = 5 * time.Second
		res, err := Run(t.Context(), opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	pulls := func(t *testing.T, res *Result) OpResult {
		t.Helper()
		i := slices.IndexFunc(res.Ops, func(o OpResult) bool { return o.Op == "pull" })
		if i < 0 {
			t.Fatalf("no pulls in %+v", res.Ops)
		}
		return res.Ops[i]
	}
	for _, c := range []struct{ scenario, lie, kind string }{
		{ScenarioPullNewest, "newest", "body: wrong newest page"},
		{ScenarioPollTail, "tail", "body: wrong tail page"},
		{ScenarioLatency, "newest", "body: wrong newest page"},
	} {
		t.Run(c.scenario+"/HonestServerHasNoErrors", func(t *testing.T) {
			res := run(t, "", c.scenario)
			if p := pulls(t, res); p.Requests == 0 || res.Total.Errors != 0 {
				t.Fatalf("%d pulls, %d errors %+v: want pulls and no error", p.Requests, res.Total.Errors, res.Total.Failures)
			}
		})
		t.Run(c.scenario+"/EveryWrongPageIsAnError", func(t *testing.T) {
			p := pulls(t, run(t, c.lie, c.scenario))
			if p.Requests == 0 || p.Errors != p.Requests {
				t.Fatalf("%d of %d pulls counted as errors, want all", p.Errors, p.Requests)
			}
			if got := p.Failures[0].Kind; got != c.kind {
				t.Fatalf("failure kind: got %q, want %q", got, c.kind)
			}
		})
	}
}

func TestPageHead(t *testing.T) {
	for _, c := range []struct {
		name, body string
		messages   int
		first      int64
		ok         bool
	}{
		{"Page", `{"messages":[{"send_time":42,"text":"a"},{"send_time": 41}],"has_more":false}`, 2, 42, true},
		{"Empty", `{"messages":[],"has_more":false,"next_cursor":0}`, 0, 0, true},
		{"NotJSON", `{"messages":[`, 0, 0, false},
		{"SendTimeNotANumber", `{"messages":[{"send_time":"42"}]}`, 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h PageHead
			err := h.decodeBody([]byte(c.body))
			if ok := err == nil; ok != c.ok {
				t.Fatalf("decode: got error %v, want ok %v", err, c.ok)
			}
			if c.ok && (h.Messages != c.messages || h.FirstSent != c.first) {
				t.Fatalf("got %+v, want %d messages, first sent at %d", h, c.messages, c.first)
			}
		})
	}
}
