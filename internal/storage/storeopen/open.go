// Package storeopen opens the storage.Store a database URL names, so
// commands take one --database flag for both backends:
//
//	postgres://user@host:5432/db?sslmode=disable   PostgreSQL (pgstore)
//	postgresql://…                                  PostgreSQL (pgstore)
//	sqlite:///var/lib/observatory/obs.db            SQLite file, absolute path
//	sqlite://data/obs.db or sqlite:data/obs.db      SQLite file, relative path
//	./data/obs.db                                   SQLite file (a plain path)
//
// Opening applies the pending schema migrations.
package storeopen

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/pgstore"
	"github.com/llm-observatory/observatory/internal/storage/sqlitestore"
)

// Backend kinds returned by Parse.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

const accepted = "postgres://user@host:5432/db, postgresql://…, sqlite:///absolute/path.db, sqlite://relative/path.db, sqlite:path.db or a plain file path"

// Open opens the store named by url (see the package doc). A nil logger
// discards log output.
func Open(ctx context.Context, url string, logger *slog.Logger) (storage.Store, error) {
	kind, target, err := Parse(url)
	if err != nil {
		return nil, err
	}
	switch kind {
	case Postgres:
		s, err := pgstore.Open(ctx, pgstore.Options{URL: target, Logger: logger})
		if err != nil {
			return nil, err
		}
		return s, nil
	default:
		s, err := sqlitestore.Open(ctx, sqlitestore.Options{Path: target, Logger: logger})
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// scheme returns the scheme of a URL of the form scheme://…, if url has one.
func scheme(url string) (string, bool) {
	i := strings.Index(url, "://")
	if i <= 0 {
		return "", false
	}
	for j, r := range url[:i] {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !letter && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '.' || r == '-')) {
			return "", false
		}
	}
	return url[:i], true
}

// Parse returns the backend (Postgres or SQLite) a database URL names and
// what to open: the connection URL or the file path.
func Parse(url string) (kind, target string, err error) {
	url = strings.TrimSpace(url)
	if url == "" {
		return "", "", errors.New("storeopen: no database URL given; use " + accepted)
	}
	if sc, ok := scheme(url); ok {
		switch strings.ToLower(sc) {
		case "postgres", "postgresql":
			return Postgres, url, nil
		case "sqlite", "sqlite3":
			path := url[len(sc)+len("://"):]
			if path == "" {
				return "", "", fmt.Errorf("storeopen: %q names no file; use e.g. sqlite:///var/lib/observatory/obs.db or sqlite://data/obs.db", url)
			}
			return SQLite, path, nil
		default:
			return "", "", fmt.Errorf("storeopen: unsupported database URL scheme %q; use %s", sc, accepted)
		}
	}
	if rest, ok := strings.CutPrefix(url, "sqlite:"); ok {
		if rest == "" {
			return "", "", fmt.Errorf("storeopen: %q names no file; use e.g. sqlite:data/obs.db", url)
		}
		return SQLite, rest, nil
	}
	return SQLite, url, nil
}
