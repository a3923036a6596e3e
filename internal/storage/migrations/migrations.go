// Package migrations holds the database schema of both storage backends as
// embedded, versioned SQL files and the rules for applying them.
//
// Files are named NNNN_description.sql (0001_init.sql, 0002_…), live in one
// directory per backend (sqlite/, postgres/) and are applied in version
// order, up only: a released file is never edited, a change is a new file.
// Each backend records the applied versions in a schema_migrations table and
// applies the pending ones at open time inside one transaction that holds a
// database-wide lock (BEGIN IMMEDIATE on SQLite, pg_advisory_xact_lock on
// PostgreSQL), so opening twice, or from two processes at once, is safe.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Migration is one versioned SQL file.
type Migration struct {
	Version int
	// Name is the file name, e.g. "0001_init.sql".
	Name string
	SQL  string
}

// SQLite returns the SQLite migrations in version order.
func SQLite() ([]Migration, error) { return Load(files, "sqlite") }

// Postgres returns the PostgreSQL migrations in version order.
func Postgres() ([]Migration, error) { return Load(files, "postgres") }

// Load reads the *.sql files of dir in fsys, in version order. Versions must
// be unique, positive and contiguous from 1.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: read %s: %w", dir, err)
	}
	var out []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		version, err := parseVersion(e.Name())
		if err != nil {
			return nil, err
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: read %s: %w", e.Name(), err)
		}
		out = append(out, Migration{Version: version, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrations: %s/%s: expected version %d (versions must be unique and contiguous from 1)", dir, m.Name, i+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("migrations: no .sql files in %s", dir)
	}
	return out, nil
}

// Pending returns the migrations whose version is not in applied, in order.
func Pending(all []Migration, applied map[int]bool) []Migration {
	var out []Migration
	for _, m := range all {
		if !applied[m.Version] {
			out = append(out, m)
		}
	}
	return out
}

// Unknown returns the applied versions this binary does not know (the
// database was migrated by a newer release), in order.
func Unknown(all []Migration, applied map[int]bool) []int {
	known := make(map[int]bool, len(all))
	for _, m := range all {
		known[m.Version] = true
	}
	var out []int
	for v := range applied {
		if !known[v] {
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

func parseVersion(name string) (int, error) {
	prefix, _, ok := strings.Cut(name, "_")
	if !ok {
		return 0, fmt.Errorf("migrations: %s: name must be NNNN_description.sql", name)
	}
	v, err := strconv.Atoi(prefix)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("migrations: %s: name must start with a positive version number", name)
	}
	return v, nil
}
