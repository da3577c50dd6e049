package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/pigeonhole"
)

// headTimeout bounds one coalesced read of chats' newest send times,
// whoever is waiting for it: it answers many callers, so no one caller's
// context may cancel it.
const headTimeout = 5 * time.Second

// maxHeadBatch is the most chats one coalesced read asks for.
const maxHeadBatch = 256

// headReader coalesces concurrent reads of chats' newest send times (their
// rows in chats, by primary key) into one statement, as the group commit
// does with appends: one read runs at a time, and the next takes every chat
// asked for meanwhile (up to maxHeadBatch). A caller with nothing in
// flight reads at once, alone; under load, one statement answers many
// pulls, which is what a database with a high fixed cost per statement
// (MariaDB on a small machine: ~100 µs) needs.
//
// A read that is already running when a caller arrives never answers it:
// each caller is answered by a read that started after it asked, so it sees
// every append acknowledged before it asked.
type headReader struct {
	one  *sql.Stmt // one chat's last_send_time: prepared
	read func(ctx context.Context, chats []string) (map[string]int64, error)

	mu      sync.Mutex
	queue   []*headRequest
	running bool
}

type headRequest struct {
	chat string
	done chan headResult // buffered: a read never blocks on a caller gone
}

type headResult struct {
	head int64
	err  error
}

// head returns chat's last send time, 0 when it has no row.
func (h *headReader) head(ctx context.Context, chat string) (int64, error) {
	req := &headRequest{chat: chat, done: make(chan headResult, 1)}
	h.mu.Lock()
	h.queue = append(h.queue, req)
	start := !h.running
	h.running = true
	h.mu.Unlock()
	if start {
		go h.run()
	}
	select {
	case r := <-req.done:
		return r.head, r.err
	case <-ctx.Done():
		return 0, pigeonhole.Wrap(pigeonhole.CodeDeadlineExceeded, ctx.Err(), "the request timed out")
	}
}

// run reads batches until the queue is empty.
func (h *headReader) run() {
	batch := make([]*headRequest, 0, maxHeadBatch)
	chats := make([]string, 0, maxHeadBatch)
	for {
		h.mu.Lock()
		n := min(len(h.queue), maxHeadBatch)
		if n == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		batch = append(batch[:0], h.queue[:n]...)
		clear(h.queue[:n])
		h.queue = h.queue[n:]
		if len(h.queue) == 0 {
			h.queue = nil // let the backing array go
		}
		h.mu.Unlock()

		chats = chats[:0]
		for _, req := range batch {
			chats = append(chats, req.chat)
		}
		slices.Sort(chats)
		chats = slices.Compact(chats)
		ctx, cancel := context.WithTimeout(context.Background(), headTimeout)
		heads, err := h.read(ctx, chats)
		cancel()
		for _, req := range batch {
			req.done <- headResult{head: heads[req.chat], err: err}
		}
	}
}

// Head implements pigeonhole.Store: one primary-key read of the chat's row
// in chats, shared with the other pulls that ask meanwhile where the
// dialect says so (on MariaDB through the service, 9–13 µs per newest page
// shared against 33–47 µs each alone: BenchmarkStoreCached). The row's last
// send time is written in the transaction that inserts the messages, so it
// is never behind what a later Range sees, nor ahead of what is visible.
func (s *Store) Head(ctx context.Context, chat pigeonhole.ChatID) (int64, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	var head int64
	var err error
	if s.dialect.ShareHeadReads {
		head, err = s.heads.head(ctx, chat.String())
	} else {
		head, err = s.readHead(ctx, chat.String())
	}
	if err != nil {
		return 0, s.translate(ctx, err)
	}
	return head, nil
}

// readHead reads one chat's last send time, 0 when it has no row, with the
// prepared statement.
func (s *Store) readHead(ctx context.Context, chat string) (int64, error) {
	rctx, err := s.shortRead(ctx)
	if err != nil {
		return 0, err
	}
	var head int64
	if err := s.heads.one.QueryRowContext(rctx, chat).Scan(&head); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	return head, nil
}

// readHeads reads chats' last send times in one statement; a chat without
// a row is left out (or, read alone, has 0).
func (s *Store) readHeads(ctx context.Context, chats []string) (map[string]int64, error) {
	if len(chats) == 1 {
		head, err := s.readHead(ctx, chats[0])
		return map[string]int64{chats[0]: head}, err
	}
	args := make([]any, len(chats))
	for i, c := range chats {
		args[i] = c
	}
	rows, err := s.read.QueryContext(ctx, "SELECT chat, last_send_time FROM chats WHERE chat IN ("+repeatJoin("?", len(chats))+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	heads := make(map[string]int64, len(chats))
	if err := scanEach(rows, scanLastSendTime(heads)); err != nil {
		return nil, err
	}
	return heads, rows.Err()
}
