package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Migrate applies the dialect's migrations that db has not applied yet, in
// version order, and records each in schema_migrations. It holds the
// dialect's migration lock throughout, so replicas starting together apply
// each migration once. Running it again is a no-op. Migrations only ever
// add: none drops or truncates data.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) (err error) {
	files, err := migrationFiles(d.Migrations)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	release, err := d.LockMigrations(ctx, conn)
	if err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	ok := false
	defer func() {
		if rerr := release(ok); rerr != nil {
			err = errors.Join(err, fmt.Errorf("migrate: release: %w", rerr))
		}
	}()

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT NOT NULL PRIMARY KEY,
		name VARCHAR(255) NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	applied := map[int64]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("migrate: %w", err)
		}
		applied[v] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	for _, f := range files {
		if applied[f.version] {
			continue
		}
		body, err := fs.ReadFile(d.Migrations, f.name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, stmt := range splitStatements(string(body)) {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: %s: %w", f.name, err)
			}
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
			f.version, f.name, time.Now().Unix()); err != nil {
			return fmt.Errorf("migrate: %s: %w", f.name, err)
		}
	}
	ok = true
	return nil
}

type migrationFile struct {
	version int64
	name    string
}

// migrationFiles lists migrations/NNNN_name.sql in version order.
func migrationFiles(fsys fs.FS) ([]migrationFile, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	files := make([]migrationFile, 0, len(names))
	for _, name := range names {
		prefix, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q does not start with a positive version number", name)
		}
		files = append(files, migrationFile{version: v, name: name})
	}
	slices.SortFunc(files, func(a, b migrationFile) int { return int(a.version - b.version) })
	for i := 1; i < len(files); i++ {
		if files[i].version == files[i-1].version {
			return nil, fmt.Errorf("migrations %q and %q share a version", files[i-1].name, files[i].name)
		}
	}
	return files, nil
}

// splitStatements splits a migration on semicolons that end a line. Our
// migrations hold no semicolons inside literals.
func splitStatements(body string) []string {
	var out []string
	for _, part := range strings.Split(body, ";\n") {
		var lines []string
		for _, line := range strings.Split(part, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				lines = append(lines, line)
			}
		}
		if stmt := strings.TrimSuffix(strings.TrimSpace(strings.Join(lines, "\n")), ";"); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}
