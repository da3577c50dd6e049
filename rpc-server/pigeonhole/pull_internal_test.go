package pigeonhole

import (
	"math"
	"testing"
)

func TestPageRange(t *testing.T) {
	chat, _ := ParseChatID("a:b")
	if got := pageRange(chat, 0, 10, true); got.From != math.MaxInt64 || got.Limit != 11 || !got.Reverse {
		t.Fatalf("reverse from 0: got %+v, want from the newest, limit 11", got)
	}
	if got := pageRange(chat, 0, 10, false); got.From != 0 || got.Limit != 11 {
		t.Fatalf("forward from 0: got %+v", got)
	}
	if got := pageRange(chat, 77, 5, true); got.From != 77 || got.Limit != 6 {
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
			p := newPage(tc.rows, tc.cursor, 2, tc.reverse)
			if len(p.Messages) != tc.wantLen || p.HasMore != tc.wantMore || p.NextCursor != tc.wantNext || p.Final != tc.wantFinal {
				t.Fatalf("got %d messages, has_more %v, next_cursor %d, final %v; want %d, %v, %d, %v",
					len(p.Messages), p.HasMore, p.NextCursor, p.Final, tc.wantLen, tc.wantMore, tc.wantNext, tc.wantFinal)
			}
		})
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
