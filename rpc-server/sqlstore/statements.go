package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxStatements bounds the statements a store keeps prepared for its
// append transactions. Their text varies with a batch's shape (how many
// messages, chats, keys and groups), so the common shapes fit many times
// over; past the bound a statement is run from its text, as before.
const maxStatements = 256

// statements keeps the append transaction's statements prepared on the
// write pool, by their text, so that a transaction runs them without the
// database parsing and planning them again. SQLite compiles each
// statement it is given as text, five of them per transaction: in profiles
// of the embedded store, 30% of the append's CPU at c=1 and 20% of the
// replica's at c=20 (docs/performance.md).
//
// A statement is prepared on the pool (database/sql then keeps it per
// connection, and a transaction on that connection uses it) only while no
// transaction holds a connection for it: the embedded store's write pool
// has a single connection, which the transaction that met the text first
// holds. So a text is run as text once, then prepared after its
// transaction ends, by learn.
type statements struct {
	db *sql.DB

	mu     sync.Mutex
	byText map[string]*sql.Stmt
	missed map[string]bool // met since the last learn, not prepared yet
}

func newStatements(db *sql.DB) *statements {
	return &statements{db: db, byText: map[string]*sql.Stmt{}, missed: map[string]bool{}}
}

// exec runs query in tx, prepared if it is known.
func (c *statements) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := c.lookup(query); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// query runs query in tx, prepared if it is known.
func (c *statements) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := c.lookup(query); st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// lookup returns query's statement, or nil after noting that it was met
// (while there is room for it).
func (c *statements) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.byText[query]; ok {
		return st
	}
	if len(c.byText)+len(c.missed) < maxStatements {
		c.missed[query] = true
	}
	return nil
}

// learn prepares the statements met since it last ran. It must run while
// the caller holds no connection of the pool (after its transaction).
// A statement that fails to prepare is left to run as text.
func (c *statements) learn(ctx context.Context) {
	c.mu.Lock()
	if len(c.missed) == 0 {
		c.mu.Unlock()
		return
	}
	texts := make([]string, 0, len(c.missed))
	for q := range c.missed {
		texts = append(texts, q)
	}
	clear(c.missed)
	c.mu.Unlock()
	for _, q := range texts {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.byText[q]; ok {
			st.Close()
		} else {
			c.byText[q] = st
		}
		c.mu.Unlock()
	}
}

// close closes every statement.
func (c *statements) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for q, st := range c.byText {
		err = errors.Join(err, st.Close())
		delete(c.byText, q)
	}
	return err
}
