package mysql_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/pigeonhole-im/pigeonhole/rpc-server/mysql/mysqltest"
)

// floorBatch is the group commit's batch at c=200 (about 26 sends per
// commit, from the service's commit metrics).
const floorBatch = 26

// BenchmarkDurableInsertFloor measures the least a durable send path on
// MariaDB does per message: rows inserted into chat_messages by multi-row
// INSERTs of floorBatch rows, each committed in its own transaction in one
// round trip, from four connections, and nothing else: no chat lock, no
// idempotency lookup, no RPC, no HTTP. Besides messages per second it
// reports machine-cpu-µs/msg, the CPU time the whole machine spent per
// message (Linux only; on an otherwise quiet machine, MariaDB's and this
// client's). With the CPU time of a GET /ping on the same machine, that
// bounds the sends per second any send path can reach there
// (docs/performance.md).
//
// NoKey stores no client_msg_id; WithKey stores a random one, as the
// gateway's generated keys are. ChatLock adds to NoKey what the append
// protocol does to order each chat across replicas: create and lock the
// batch's chats rows, read their last send times and update them, each
// connection on chats of its own, as a commit lane is.
func BenchmarkDurableInsertFloor(b *testing.B) {
	for _, mode := range []floorMode{floorNoKey, floorWithKey, floorChatLock} {
		b.Run(mode.String(), func(b *testing.B) {
			dsn := mysqltest.NewDSN(b)
			MustOpen(b, dsn, nil).Close() // the schema, by the migrations
			db := floorPool(b, dsn)
			// More connections than the store's two commit lanes, so that
			// the CPU rather than the fsync is the limit.
			const conns = 4
			var next, sendTime atomic.Int64
			errs := make(chan error, conns)
			busy0, cpuErr := machineBusy()
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- floorInserts(db, mode, w, int64(b.N), &next, &sendTime)
				}()
			}
			wg.Wait()
			b.StopTimer()
			busy1, err := machineBusy()
			if cpuErr == nil && err == nil {
				b.ReportMetric((busy1-busy0).Seconds()*1e6/float64(b.N), "machine-cpu-µs/msg")
			}
			close(errs)
			for err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			var stored int
			if err := db.QueryRow("SELECT COUNT(*) FROM chat_messages").Scan(&stored); err != nil {
				b.Fatal(err)
			}
			if stored != b.N {
				b.Fatalf("%d messages stored, want %d", stored, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// floorPool opens a pool on dsn set up as the store's is (values
// interpolated into the statement, several statements per round trip).
func floorPool(b *testing.B, dsn string) *sql.DB {
	b.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.InterpolateParams, cfg.MultiStatements = true, true
	connector, err := gomysql.NewConnector(cfg)
	if err != nil {
		b.Fatal(err)
	}
	db := sql.OpenDB(connector)
	b.Cleanup(func() { db.Close() })
	return db
}

type floorMode int

const (
	floorNoKey floorMode = iota
	floorWithKey
	floorChatLock
)

func (m floorMode) String() string {
	return [...]string{"NoKey", "WithKey", "ChatLock"}[m]
}

// floorChats is the number of chats each connection sends to.
const floorChats = 8

// floorInserts inserts batches of the n messages on one connection (the
// worker-th) until next (the messages claimed so far) reaches n. Messages
// go round-robin to the worker's chats; send times come from sendTime, so
// they increase within every chat and rows never collide.
func floorInserts(db *sql.DB, mode floorMode, worker int, n int64, next, sendTime *atomic.Int64) error {
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	chats := make([]any, floorChats)
	for i := range chats {
		chats[i] = fmt.Sprintf("floor%d-%d:peer", worker, i)
	}
	lock := "INSERT INTO chats (chat, last_send_time) VALUES " + placeholders("(?, 0)", floorChats) +
		" ON DUPLICATE KEY UPDATE last_send_time = last_send_time; " +
		"SELECT chat, last_send_time FROM chats WHERE chat IN (" + placeholders("?", floorChats) + ")"
	update := "; INSERT INTO chats (chat, last_send_time) VALUES " + placeholders("(?, ?)", floorChats) +
		" ON DUPLICATE KEY UPDATE last_send_time = VALUES(last_send_time)"
	args := make([]any, 0, 5*floorBatch+2*floorChats)
	for {
		first := next.Add(floorBatch) - floorBatch
		if first >= n {
			return nil
		}
		size := int(min(floorBatch, n-first))
		query := "START TRANSACTION; "
		if mode == floorChatLock {
			if err := floorLock(ctx, conn, lock, chats); err != nil {
				return err
			}
			query = ""
		}
		args = args[:0]
		for i := range size {
			var key any
			if mode == floorWithKey {
				key = rand.Text()
			}
			args = append(args, chats[i%floorChats], sendTime.Add(1), "floor", key, "benchmark message text")
		}
		query += "INSERT INTO chat_messages (chat, send_time, sender, client_msg_id, text) VALUES " + placeholders("(?, ?, ?, ?, ?)", size)
		if mode == floorChatLock {
			last := sendTime.Load()
			for _, c := range chats {
				args = append(args, c, last)
			}
			query += update
		}
		if _, err := conn.ExecContext(ctx, query+"; COMMIT", args...); err != nil {
			return err
		}
	}
}

// floorLock starts a transaction, locks the chats' rows and reads them, in
// one round trip, as the append protocol's first does.
func floorLock(ctx context.Context, conn *sql.Conn, lock string, chats []any) error {
	rows, err := conn.QueryContext(ctx, "START TRANSACTION; "+lock, append(slices.Clip(chats), chats...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	read := 0
	for rows.Next() {
		read++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if read != len(chats) {
		return fmt.Errorf("read %d chats, want %d", read, len(chats))
	}
	return rows.Close()
}

// placeholders returns n copies of s joined by ", ".
func placeholders(s string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+", ", n), ", ")
}

// machineBusy returns the CPU time all processors of the machine have spent
// busy (not idle, not waiting for I/O) since boot, from /proc/stat.
func machineBusy() (time.Duration, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, f := range fields[1:] {
		ticks, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += ticks
		}
	}
	// The kernel counts in USER_HZ, which is 100 on every Linux ABI Go
	// supports.
	return time.Duration(busy) * (time.Second / 100), nil
}
