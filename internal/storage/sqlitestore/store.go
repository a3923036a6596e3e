// Package sqlitestore is the storage.Store on one SQLite file, through the
// pure-Go modernc.org/sqlite driver (no cgo): the storage of the embedded
// `observatory run` mode.
//
// The database runs in WAL mode with synchronous=NORMAL, a busy timeout and
// foreign keys on; the schema comes from the embedded migrations
// (internal/storage/migrations/sqlite), applied at Open. Times are INTEGER
// unix microseconds (UTC), JSON is TEXT. One *sql.DB serves everything:
// reads run concurrently, writes are serialised by a mutex in this process
// and by BEGIN IMMEDIATE plus the busy timeout across processes.
//
// Durability: WriteCalls returns once its transactions are committed. With
// synchronous=NORMAL in WAL mode a commit survives a crash of the process
// but the last commits may be lost on a power failure or OS crash, the
// usual trade-off for an embedded single-node store.
//
// Values are normalised exactly as by the PostgreSQL store (see
// storeutil.NormalizeCall and storeutil.CanonicalJSON): times UTC at
// microseconds, clean UTF-8 strings, empty slices and null JSON returned as
// nil, JSON returned in canonical form.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/internal/storeutil"
	"github.com/llm-observatory/observatory/internal/storage/migrations"
)

// chunkSize is the number of rows written per transaction.
const chunkSize = 5000

// busyTimeout is how long a statement waits for another connection's (or
// process's) lock before failing with SQLITE_BUSY.
const busyTimeout = 15 * time.Second

// Options configure Open.
type Options struct {
	// Path of the database file; its parent directory is created.
	Path string
	// Logger receives migration messages; nil discards them.
	Logger *slog.Logger
}

// Store is a storage.Store on a SQLite file.
type Store struct {
	db      *sql.DB
	log     *slog.Logger
	writeMu sync.Mutex
	now     func() time.Time
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating if needed) the database at opts.Path and applies the
// pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Path == "" {
		return nil, errors.New("sqlitestore: a database file path is required")
	}
	if strings.ContainsAny(opts.Path, "?#") || strings.HasPrefix(opts.Path, "file:") || opts.Path == ":memory:" {
		return nil, fmt.Errorf("sqlitestore: %q: give a plain file path (no '?', '#', 'file:' URI or :memory:)", opts.Path)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dir := filepath.Dir(opts.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlitestore: create directory for %s: %w", opts.Path, err)
		}
	}
	dsn := opts.Path + "?" + strings.Join([]string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_pragma=foreign_keys(1)",
		// A 64 MiB page cache per connection and memory-mapped reads: index
		// pages of a growing table otherwise cost a pread each (a quarter
		// of ingest CPU in profiles).
		"_pragma=cache_size(-65536)",
		"_pragma=mmap_size(268435456)",
		// Write transactions take the write lock at BEGIN, so two writers
		// never deadlock upgrading a read lock (busy_timeout cannot help there).
		"_txlock=immediate",
	}, "&")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", opts.Path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s := &Store{db: db, log: log, now: time.Now}
	if err := s.migrateRetryingBusy(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("sqlitestore: %s: %w", opts.Path, err)
	}
	return s, nil
}

// migrateRetryingBusy runs migrate, retrying while another process holds
// the new file: while a first opener switches it to WAL, SQLite answers
// SQLITE_BUSY at once, without consulting busy_timeout.
func (s *Store) migrateRetryingBusy(ctx context.Context) error {
	wait := 10 * time.Millisecond
	deadline := time.Now().Add(busyTimeout)
	for {
		err := s.migrate(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of "database is locked".
const sqliteBusy = 5

func (s *Store) migrate(ctx context.Context) (err error) {
	all, err := migrations.SQLite()
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one migrator at a time
	if err != nil {
		return fmt.Errorf("migrate: begin: %w", err)
	}
	defer rollbackOnError(tx, &err)
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			_ = rows.Close()
			return fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	if unknown := migrations.Unknown(all, applied); len(unknown) > 0 {
		s.log.Warn("database has migrations unknown to this binary (written by a newer release?)", "versions", unknown)
	}
	for _, m := range migrations.Pending(all, applied) {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, s.now().UnixMicro()); err != nil {
			return fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		s.log.Info("applied migration", "backend", "sqlite", "migration", m.Name)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

func rollbackOnError(tx *sql.Tx, err *error) {
	if *err != nil {
		_ = tx.Rollback()
	}
}

// dialect is SQLite's side of the shared read SQL.
func dialect() storeutil.Dialect {
	return storeutil.Dialect{
		Placeholder: func(int) string { return "?" },
		True:        "1",
		TimeArg:     func(us int64) any { return us },
		StartMicros: "start_time",
	}
}

func insertSQL() string {
	return "INSERT INTO spans (" + storeutil.SpanColumns + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(storeutil.SpanColumnNames())), ", ") +
		") ON CONFLICT DO NOTHING"
}

// WriteCalls stores calls idempotently, chunkSize rows per transaction.
// Invalid records are skipped and reported, after the valid ones are
// written, by an error wrapping storage.ErrInvalidRecord.
func (s *Store) WriteCalls(ctx context.Context, calls []llmcall.Call) error {
	valid, invalidErr := storeutil.NormalizeCalls(calls)
	for start := 0; start < len(valid); start += chunkSize {
		end := min(start+chunkSize, len(valid))
		if err := s.writeChunk(ctx, valid[start:end]); err != nil {
			return fmt.Errorf("sqlitestore: write calls: %w", err)
		}
	}
	if invalidErr != nil {
		return fmt.Errorf("sqlitestore: write calls: %w", invalidErr)
	}
	return nil
}

func (s *Store) writeChunk(ctx context.Context, calls []llmcall.Call) (err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer rollbackOnError(tx, &err)
	stmt, err := tx.PrepareContext(ctx, insertSQL())
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer func() { _ = stmt.Close() }()
	for i := range calls {
		vals, err := rowValues(&calls[i])
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, vals...); err != nil {
			return fmt.Errorf("insert span %s: %w", calls[i].SpanID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func rowValues(c *llmcall.Call) ([]any, error) {
	var fr any
	if len(c.FinishReasons) > 0 {
		b, err := json.Marshal(c.FinishReasons)
		if err != nil {
			return nil, fmt.Errorf("encode finish reasons: %w", err)
		}
		fr = string(b)
	}
	return storeutil.SpanValues(c, storeutil.Stored{
		Start:         c.StartTime.UnixMicro(),
		End:           c.EndTime.UnixMicro(),
		IsLLM:         boolInt(c.IsLLM),
		Unpriced:      boolInt(c.Unpriced),
		FinishReasons: fr,
		Input:         jsonText(c.InputMessages),
		Output:        jsonText(c.OutputMessages),
		System:        jsonText(c.SystemInstructions),
		Attributes:    jsonText(c.Attributes),
	}), nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// jsonText binds JSON as TEXT (a []byte would bind as a BLOB, which the
// STRICT TEXT column refuses), NULL when absent.
func jsonText(raw json.RawMessage) any {
	if raw == nil {
		return nil
	}
	return string(raw)
}

type scanner interface{ Scan(dest ...any) error }

func scanCall(sc scanner) (llmcall.Call, error) {
	var (
		c                   llmcall.Call
		start, end          int64
		isLLM, unpriced     bool
		fr                  sql.NullString
		in, out, sys, attrs []byte
	)
	err := sc.Scan(storeutil.SpanTargets(&c, storeutil.Stored{
		Start: &start, End: &end, IsLLM: &isLLM, Unpriced: &unpriced, FinishReasons: &fr,
		Input: &in, Output: &out, System: &sys, Attributes: &attrs,
	})...)
	if err != nil {
		return c, err
	}
	c.StartTime, c.EndTime = storeutil.MicrosTime(start), storeutil.MicrosTime(end)
	c.IsLLM, c.Unpriced = isLLM, unpriced
	if fr.Valid {
		if err := json.Unmarshal([]byte(fr.String), &c.FinishReasons); err != nil {
			return c, fmt.Errorf("stored finish reasons of span %s: %w", c.SpanID, err)
		}
		c.FinishReasons = storeutil.NilIfEmpty(c.FinishReasons)
	}
	if err := storeutil.SetJSON(&c, in, out, sys, attrs); err != nil {
		return c, err
	}
	return c, nil
}

func (s *Store) queryCalls(ctx context.Context, query string, args ...any) ([]llmcall.Call, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []llmcall.Call
	for rows.Next() {
		c, err := scanCall(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ListCalls implements storage.Store.
func (s *Store) ListCalls(ctx context.Context, q storage.CallQuery) (storage.CallPage, error) {
	plan, err := storeutil.PlanList(q)
	if err != nil {
		return storage.CallPage{}, fmt.Errorf("sqlitestore: list calls: %w", err)
	}
	query, args := plan.SQL(dialect())
	rows, err := s.queryCalls(ctx, query, args...)
	if err != nil {
		return storage.CallPage{}, fmt.Errorf("sqlitestore: list calls: %w", err)
	}
	return plan.Page(rows), nil
}

// GetCall implements storage.Store.
func (s *Store) GetCall(ctx context.Context, projectID, spanID string) (llmcall.Call, error) {
	if projectID == "" || spanID == "" {
		return llmcall.Call{}, fmt.Errorf("sqlitestore: get call: %w", storeutil.InvalidQuery("project id and span id are required"))
	}
	c, err := scanCall(s.db.QueryRowContext(ctx, "SELECT "+storeutil.SpanColumns+
		" FROM spans WHERE project_id = ? AND span_id = ? ORDER BY start_time DESC, trace_id DESC LIMIT 1", projectID, spanID))
	if errors.Is(err, sql.ErrNoRows) {
		return llmcall.Call{}, storeutil.NotFound("sqlitestore: span %q of project %q", spanID, projectID)
	}
	if err != nil {
		return llmcall.Call{}, fmt.Errorf("sqlitestore: get call: %w", err)
	}
	return c, nil
}

// GetTrace implements storage.Store.
func (s *Store) GetTrace(ctx context.Context, projectID, traceID string) ([]llmcall.Call, error) {
	if projectID == "" || traceID == "" {
		return nil, fmt.Errorf("sqlitestore: get trace: %w", storeutil.InvalidQuery("project id and trace id are required"))
	}
	calls, err := s.queryCalls(ctx, "SELECT "+storeutil.SpanColumns+
		" FROM spans WHERE project_id = ? AND trace_id = ? ORDER BY start_time, span_id", projectID, traceID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get trace: %w", err)
	}
	if len(calls) == 0 {
		return nil, storeutil.NotFound("sqlitestore: trace %q of project %q", traceID, projectID)
	}
	return calls, nil
}

// Overview implements storage.Store.
func (s *Store) Overview(ctx context.Context, q storage.OverviewQuery) (storage.Overview, error) {
	plan, err := storeutil.PlanOverview(q)
	if err != nil {
		return storage.Overview{}, fmt.Errorf("sqlitestore: overview: %w", err)
	}
	query, args := plan.SQL(dialect())
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return storage.Overview{}, fmt.Errorf("sqlitestore: overview: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []storeutil.OverviewRow
	for rows.Next() {
		var (
			r    storeutil.OverviewRow
			kind int64
		)
		if err := rows.Scan(r.Targets(&kind)...); err != nil {
			return storage.Overview{}, fmt.Errorf("sqlitestore: overview: %w", err)
		}
		r.Total = kind == 0
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return storage.Overview{}, fmt.Errorf("sqlitestore: overview: %w", err)
	}
	return plan.Build(out), nil
}

// DeleteProjectCalls implements storage.Store.
func (s *Store) DeleteProjectCalls(ctx context.Context, projectID string) (int64, error) {
	if projectID == "" {
		return 0, fmt.Errorf("sqlitestore: delete project calls: %w", storeutil.InvalidQuery("project id is required"))
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM spans WHERE project_id = ?`, projectID)
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete project calls: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlitestore: delete project calls: %w", err)
	}
	return n, nil
}

// CreateOrg implements storage.Store; creating an existing id again is a
// no-op (the stored org is kept).
func (s *Store) CreateOrg(ctx context.Context, org storage.Org) error {
	o, err := storeutil.NormalizeOrg(org, s.now)
	if err != nil {
		return fmt.Errorf("sqlitestore: create org: %w", err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		o.ID, o.Name, o.CreatedAt.UnixMicro()); err != nil {
		return fmt.Errorf("sqlitestore: create org %q: %w", o.ID, err)
	}
	return nil
}

// CreateProject implements storage.Store; creating an existing id again in
// the same org is a no-op, in another org an ErrInvalidRecord. The org must
// exist (ErrNotFound).
func (s *Store) CreateProject(ctx context.Context, p storage.Project) (err error) {
	p, err = storeutil.NormalizeProject(p, s.now)
	if err != nil {
		return fmt.Errorf("sqlitestore: create project: %w", err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: create project %q: %w", p.ID, err)
	}
	defer rollbackOnError(tx, &err)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM orgs WHERE id = ?`, p.OrgID).Scan(&n); err != nil {
		return fmt.Errorf("sqlitestore: create project %q: %w", p.ID, err)
	}
	if n == 0 {
		return storeutil.NotFound("sqlitestore: create project %q: org %q", p.ID, p.OrgID)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO projects (id, org_id, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		p.ID, p.OrgID, p.Name, p.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlitestore: create project %q: %w", p.ID, err)
	}
	if inserted, _ := res.RowsAffected(); inserted == 0 {
		var org string
		if err := tx.QueryRowContext(ctx, `SELECT org_id FROM projects WHERE id = ?`, p.ID).Scan(&org); err != nil {
			return fmt.Errorf("sqlitestore: create project %q: %w", p.ID, err)
		}
		if org != p.OrgID {
			return fmt.Errorf("sqlitestore: create project: %w", storeutil.ErrProjectOtherOrg(p.ID, p.OrgID, org))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: create project %q: %w", p.ID, err)
	}
	return nil
}

const projectColumns = "id, org_id, name, created_at"

func scanProject(sc scanner) (storage.Project, error) {
	var (
		p  storage.Project
		ts int64
	)
	if err := sc.Scan(&p.ID, &p.OrgID, &p.Name, &ts); err != nil {
		return p, err
	}
	p.CreatedAt = storeutil.MicrosTime(ts)
	return p, nil
}

// GetProject implements storage.Store.
func (s *Store) GetProject(ctx context.Context, projectID string) (storage.Project, error) {
	p, err := scanProject(s.db.QueryRowContext(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = ?`, projectID))
	if errors.Is(err, sql.ErrNoRows) {
		return p, storeutil.NotFound("sqlitestore: project %q", projectID)
	}
	if err != nil {
		return p, fmt.Errorf("sqlitestore: get project %q: %w", projectID, err)
	}
	return p, nil
}

// ListProjects implements storage.Store: every project, oldest first.
func (s *Store) ListProjects(ctx context.Context) ([]storage.Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+projectColumns+` FROM projects ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list projects: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []storage.Project
	for rows.Next() {
		p, err := scanProject(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list projects: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list projects: %w", err)
	}
	return out, nil
}

// CreateAPIKey implements storage.Store. The project must exist in the
// key's org (ErrNotFound); a key whose id or hash is already stored is an
// ErrInvalidRecord.
func (s *Store) CreateAPIKey(ctx context.Context, key storage.APIKey) (err error) {
	k, err := storeutil.NormalizeAPIKey(key, s.now)
	if err != nil {
		return fmt.Errorf("sqlitestore: create api key: %w", err)
	}
	scopes, err := json.Marshal(storeutil.NilIfEmpty(k.Scopes))
	if err != nil {
		return fmt.Errorf("sqlitestore: create api key %q: %w", k.ID, err)
	}
	if k.Scopes == nil {
		scopes = []byte("[]")
	}
	var revoked any
	if k.RevokedAt != nil {
		revoked = k.RevokedAt.UnixMicro()
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlitestore: create api key %q: %w", k.ID, err)
	}
	defer rollbackOnError(tx, &err)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM projects WHERE org_id = ? AND id = ?`, k.OrgID, k.ProjectID).Scan(&n); err != nil {
		return fmt.Errorf("sqlitestore: create api key %q: %w", k.ID, err)
	}
	if n == 0 {
		return storeutil.NotFound("sqlitestore: create api key %q: project %q of org %q", k.ID, k.ProjectID, k.OrgID)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, project_id, name, prefix, hash, scopes, created_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.OrgID, k.ProjectID, k.Name, k.Prefix, k.Hash, string(scopes), k.CreatedAt.UnixMicro(), revoked)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlitestore: create api key: %w", storeutil.ErrKeyExists(k.ID))
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: create api key %q: %w", k.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: create api key %q: %w", k.ID, err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

const keyColumns = "id, org_id, project_id, name, prefix, hash, scopes, created_at, revoked_at"

func scanKey(sc scanner) (storage.APIKey, error) {
	var (
		k       storage.APIKey
		scopes  string
		created int64
		revoked sql.NullInt64
	)
	if err := sc.Scan(&k.ID, &k.OrgID, &k.ProjectID, &k.Name, &k.Prefix, &k.Hash, &scopes, &created, &revoked); err != nil {
		return k, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return k, fmt.Errorf("stored scopes of api key %q: %w", k.ID, err)
	}
	k.Scopes = storeutil.NilIfEmpty(k.Scopes)
	k.CreatedAt = storeutil.MicrosTime(created)
	if revoked.Valid {
		t := storeutil.MicrosTime(revoked.Int64)
		k.RevokedAt = &t
	}
	return k, nil
}

// LookupAPIKey implements storage.Store.
func (s *Store) LookupAPIKey(ctx context.Context, hash []byte) (storage.APIKey, error) {
	if len(hash) == 0 {
		return storage.APIKey{}, storeutil.NotFound("sqlitestore: api key with empty hash")
	}
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return k, storeutil.NotFound("sqlitestore: api key")
	}
	if err != nil {
		return k, fmt.Errorf("sqlitestore: lookup api key: %w", err)
	}
	return k, nil
}

// ListAPIKeys implements storage.Store: the project's keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, projectID string) ([]storage.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE project_id = ? ORDER BY created_at DESC, id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list api keys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	var out []storage.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: list api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey implements storage.Store.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
		storeutil.NormalizeTime(at).UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("sqlitestore: revoke api key %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: revoke api key %q: %w", id, err)
	}
	if n == 0 {
		return storeutil.NotFound("sqlitestore: api key %q", id)
	}
	return nil
}

// Ping implements storage.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	return nil
}

// Close implements storage.Store.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}
