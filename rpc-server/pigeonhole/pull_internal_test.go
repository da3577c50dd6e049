package pigeonhole

import (
	"math"
	"strings"
	"testing"
)

func TestPageRange(t *testing.T) {
	chat, _ := ParseChatID("a:b")
	if got := pageRange(chat, 0, 10, 1000, true); got.From != math.MaxInt64 || got.Limit != 11 || !got.Reverse {
		t.Fatalf("reverse from 0: got %+v, want from the newest, limit 11", got)
	}
	if got := pageRange(chat, 0, 10, 1000, false); got.From != 0 || got.Limit != 11 {
		t.Fatalf("forward from 0: got %+v", got)
	}
	if got := pageRange(chat, 77, 5, 1000, true); got.From != 77 || got.Limit != 6 || got.MaxBytes != 1000 {
		t.Fatalf("reverse from 77: got %+v", got)
	}
}

func TestNewPage(t *testing.T) {
	rows := func(times ...int64) []Message {
		out := make([]Message, len(times))
		for i, tm := range times {
			out[i] = Message{SendTime: tm}
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		rows      []Message
		cursor    int64
		reverse   bool
		wantLen   int
		wantMore  bool
		wantNext  int64
		wantFinal bool
	}{
		{"ForwardMore", rows(10, 11, 12), 0, false, 2, true, 12, true},
		{"ForwardLast", rows(10, 11), 0, false, 2, false, 12, false},
		{"ForwardEmptyKeepsCursor", nil, 99, false, 0, false, 99, false},
		{"ReverseMore", rows(12, 11, 10), 0, true, 2, true, 10, false},
		{"ReverseMoreFromMessage", rows(12, 11, 10), 12, true, 2, true, 10, true},
		{"ReverseMoreFromGap", rows(12, 11, 10), 13, true, 2, true, 10, false},
		{"ReverseLast", rows(12, 11), 0, true, 2, false, 0, false},
		{"ReverseLastFromMessage", rows(12, 11), 12, true, 2, false, 0, true},
		{"ReverseEmpty", nil, 5, true, 0, false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPage(tc.rows, tc.cursor, 2, pageBudget{most: 1000, least: 1000}, tc.reverse)
			if len(p.Messages) != tc.wantLen || p.HasMore != tc.wantMore || p.NextCursor != tc.wantNext || p.Final != tc.wantFinal {
				t.Fatalf("got %d messages, has_more %v, next_cursor %d, final %v; want %d, %v, %d, %v",
					len(p.Messages), p.HasMore, p.NextCursor, p.Final, tc.wantLen, tc.wantMore, tc.wantNext, tc.wantFinal)
			}
		})
	}
}

func TestNewPageByteBudget(t *testing.T) {
	rows := func(sizes ...int) []Message {
		out := make([]Message, len(sizes))
		for i, n := range sizes {
			out[i] = Message{SendTime: int64(10 + i), Text: strings.Repeat("x", n)}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		rows     []Message
		wantLen  int
		wantMore bool
	}{
		{"FitsExactly", rows(40, 60), 2, false},
		{"CutBeforeTheMessageThatGoesPast", rows(40, 50, 20), 2, true},
		{"CutAfterTheFirst", rows(40, 61), 1, true},
		{"OversizedFirstMessageStillMakesProgress", rows(150, 1), 1, true},
		{"OversizedOnlyMessage", rows(150), 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPage(tc.rows, 0, 3, pageBudget{most: 100, least: 100}, false)
			if len(p.Messages) != tc.wantLen || p.HasMore != tc.wantMore {
				t.Fatalf("got %d messages, has_more %v; want %d, %v", len(p.Messages), p.HasMore, tc.wantLen, tc.wantMore)
			}
			if p.HasMore && (p.NextCursor != tc.rows[tc.wantLen].SendTime || p.Final) {
				t.Fatalf("cut page: next_cursor %d final %v; want %d, not final", p.NextCursor, p.Final, tc.rows[tc.wantLen].SendTime)
			}
		})
	}
	t.Run("LimitBeforeBudgetStaysFinal", func(t *testing.T) {
		if p := newPage(rows(10, 10, 10, 10), 0, 3, pageBudget{most: 100, least: 30}, false); len(p.Messages) != 3 || !p.HasMore || !p.Final {
			t.Fatalf("got %d messages, has_more %v, final %v; want 3, true, true", len(p.Messages), p.HasMore, p.Final)
		}
	})
	t.Run("OverTheLeastBudgetIsNotFinal", func(t *testing.T) {
		// A request with the smallest budget would have cut it.
		if p := newPage(rows(10, 10, 10, 10), 0, 3, pageBudget{most: 100, least: 25}, false); len(p.Messages) != 3 || !p.HasMore || p.Final {
			t.Fatalf("got %d messages, has_more %v, final %v; want 3, true, false", len(p.Messages), p.HasMore, p.Final)
		}
		if p := newPage(rows(12, 10, 10), 10, 2, pageBudget{most: 100, least: 15}, true); len(p.Messages) != 2 || p.Final {
			t.Fatalf("reverse: got %d messages, final %v; want 2, false", len(p.Messages), p.Final)
		}
	})
	t.Run("OneOversizedMessageIsFinal", func(t *testing.T) {
		// Every budget makes it a page of its own.
		if p := newPage(rows(150, 1), 0, 1, pageBudget{most: 100, least: 100}, false); len(p.Messages) != 1 || !p.Final {
			t.Fatalf("got %d messages, final %v; want 1, true", len(p.Messages), p.Final)
		}
	})
}

func TestRangeDone(t *testing.T) {
	q := Range{Limit: 5, MaxBytes: 100}
	for _, tc := range []struct {
		n, bytes int
		want     bool
	}{
		{0, 0, false}, {1, 500, false}, {2, 100, false}, {2, 101, true}, {4, 99, false}, {5, 10, true},
	} {
		if got := q.Done(tc.n, tc.bytes); got != tc.want {
			t.Fatalf("Done(%d, %d): got %v, want %v", tc.n, tc.bytes, got, tc.want)
		}
	}
	if (Range{Limit: 3}).Done(2, 1<<30) {
		t.Fatalf("a range without a budget is done by its limit only")
	}
}

func TestPageLimit(t *testing.T) {
	small := &Service{cfg: Config{MaxLimit: 5}.withDefaults()}
	usual := &Service{cfg: Config{}.withDefaults()}
	for _, tc := range []struct {
		name        string
		svc         *Service
		limit       int32
		wantSize    int
		wantClamped bool
	}{
		{"DefaultIsNotClamped", usual, 0, DefaultPullLimit, false},
		{"AtTheMaximumIsNotClamped", usual, DefaultMaxPull, DefaultMaxPull, false},
		{"AboveTheMaximumIsClamped", usual, DefaultMaxPull + 1, DefaultMaxPull, true},
		{"DefaultAboveASmallMaximumIsClamped", small, 0, 5, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			size, clamped, err := tc.svc.pageLimit(tc.limit)
			if err != nil || size != tc.wantSize || clamped != tc.wantClamped {
				t.Fatalf("pageLimit(%d): got %d, %v, %v; want %d, %v", tc.limit, size, clamped, err, tc.wantSize, tc.wantClamped)
			}
		})
	}
}
