// Package pgstore is the storage.Store on PostgreSQL 15+ through pgx v5
// (pgxpool): the storage of the scaled deployment.
//
// The schema comes from the embedded migrations
// (internal/storage/migrations/postgres), applied at Open inside one
// transaction holding an advisory lock, so concurrent opens are safe.
// spans is natively range-partitioned by UTC day on start_time: partitions
// spans_pYYYYMMDD are created on demand before a write (under an advisory
// lock, remembered in memory) and retention drops whole partitions
// (DropPartitionsBefore), never DELETEs rows.
//
// Where the timescaledb extension (2.13+) is available, migration 0002
// instead makes spans a hypertable (1-day chunks, compression segmented by
// project_id, continuous aggregates calls_1m and calls_1h): partitions are
// then TimescaleDB's chunks, ensurePartitions does nothing and
// DropPartitionsBefore calls drop_chunks. Options.DisableTimescaleDB keeps
// native partitioning; TimescaleDB reports the mode (see timescale.go).
//
// WriteCalls copies the batch (COPY, binary) into a temporary staging table
// and moves it with INSERT … SELECT … ON CONFLICT DO NOTHING in key order
// (so concurrent overlapping batches cannot deadlock), all in one
// transaction: it returns nil only once that transaction is committed.
//
// Values are normalised exactly as by the SQLite store (see
// storeutil.NormalizeCall and storeutil.CanonicalJSON): times UTC at
// microseconds, clean UTF-8 strings, empty slices and null JSON returned as
// nil, JSON (stored as jsonb) returned in canonical form.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/llm-observatory/observatory/internal/llmcall"
	"github.com/llm-observatory/observatory/internal/storage"
	"github.com/llm-observatory/observatory/internal/storage/internal/storeutil"
	"github.com/llm-observatory/observatory/internal/storage/migrations"
)

// Advisory lock keys (pg_advisory_xact_lock); arbitrary constants shared by
// every process using this schema version.
const (
	migrateLockKey   int64 = 0x6f62735f6d696772 // "obs_migr"
	partitionLockKey int64 = 0x6f62735f70617274 // "obs_part"
)

// Options configure Open.
type Options struct {
	// URL is a PostgreSQL connection string (postgres://… or key=value).
	URL string
	// Schema, when set, is created if missing and used as the only
	// search_path entry of every connection (tests use one per test).
	Schema string
	// MaxConns caps the pool; 0 keeps pgxpool's default.
	MaxConns int
	// Logger receives migration and partition messages; nil discards them.
	Logger *slog.Logger
	// DisableTimescaleDB keeps spans natively partitioned even where the
	// timescaledb extension is available (migration 0002 then changes
	// nothing). It matters only when 0002 is first applied.
	DisableTimescaleDB bool
}

// Store is a storage.Store on PostgreSQL.
type Store struct {
	pool   *pgxpool.Pool
	log    *slog.Logger
	schema string
	now    func() time.Time

	partMu sync.Mutex
	parts  map[string]bool // partition names known to exist

	reader string // role query-API reads run as (row-level security); see rls.go

	ts timescale // TimescaleDB mode of spans; see timescale.go
}

var _ storage.Store = (*Store)(nil)

// Open connects, creates opts.Schema when set and applies the pending
// migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.URL == "" {
		return nil, errors.New("pgstore: a connection URL is required (postgres://user@host:5432/db)")
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parse connection URL: %w", err)
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = int32(min(opts.MaxConns, 1<<20))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{pool: pool, log: log, schema: opts.Schema, now: time.Now, parts: map[string]bool{}}
	s.ts.disabled = opts.DisableTimescaleDB
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := s.detectTimescale(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	if err := s.detectReaderRole(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	all, err := migrations.Postgres()
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		if s.ts.disabled { // read by migration 0002; ends with the transaction
			if _, err := tx.Exec(ctx, `SELECT set_config('observatory.timescaledb', 'off', true)`); err != nil {
				return fmt.Errorf("migrate: set observatory.timescaledb: %w", err)
			}
		}
		if s.schema != "" {
			// Only when missing: CREATE SCHEMA IF NOT EXISTS checks the
			// database's CREATE privilege first, which an owner of an
			// existing schema need not have.
			if _, err := tx.Exec(ctx, `DO $$ BEGIN
				IF to_regnamespace(`+quoteLiteral(s.schema)+`) IS NULL THEN
					CREATE SCHEMA `+pgx.Identifier{s.schema}.Sanitize()+`;
				END IF; END $$`); err != nil {
				return fmt.Errorf("migrate: create schema %q: %w", s.schema, err)
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("migrate: create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		applied := map[int]bool{}
		for _, v := range versions {
			applied[int(v)] = true
		}
		if unknown := migrations.Unknown(all, applied); len(unknown) > 0 {
			s.log.Warn("database has migrations unknown to this binary (written by a newer release?)", "versions", unknown)
		}
		for _, m := range migrations.Pending(all, applied) {
			// Without arguments pgx uses the simple protocol, which runs
			// every statement of the file.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migrate: apply %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("migrate: record %s: %w", m.Name, err)
			}
			s.log.Info("applied migration", "backend", "postgres", "migration", m.Name)
		}
		return nil
	})
}

// dialect is PostgreSQL's side of the shared read SQL.
func dialect() storeutil.Dialect {
	return storeutil.Dialect{
		Placeholder: func(n int) string { return fmt.Sprintf("$%d", n) },
		True:        "TRUE",
		TimeArg:     func(us int64) any { return storeutil.MicrosTime(us) },
		StartMicros: "(EXTRACT(EPOCH FROM start_time) * 1000000)::bigint",
	}
}

// WriteCalls stores calls idempotently in one transaction. Invalid records
// are skipped and reported, after the valid ones are written, by an error
// wrapping storage.ErrInvalidRecord; so are batches PostgreSQL rejects as
// data errors (SQLSTATE class 22), which would fail again on retry.
func (s *Store) WriteCalls(ctx context.Context, calls []llmcall.Call) error {
	valid, invalidErr := storeutil.NormalizeCalls(calls)
	if len(valid) > 0 {
		if err := s.write(ctx, valid); err != nil {
			return fmt.Errorf("pgstore: write calls: %w", err)
		}
	}
	if invalidErr != nil {
		return fmt.Errorf("pgstore: write calls: %w", invalidErr)
	}
	return nil
}

func (s *Store) write(ctx context.Context, calls []llmcall.Call) error {
	for attempt := 0; ; attempt++ {
		if err := s.ensurePartitions(ctx, calls); err != nil {
			return err
		}
		err := s.copyInsert(ctx, calls)
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch {
			case pgErr.Code == "23514" && strings.Contains(pgErr.Message, "no partition") && attempt == 0:
				// A partition this process remembered was dropped (retention
				// by another process): forget and create again.
				s.forgetPartitions()
				continue
			case strings.HasPrefix(pgErr.Code, "22"):
				return fmt.Errorf("%w: %w", storage.ErrInvalidRecord, err)
			}
		}
		return err
	}
}

func (s *Store) copyInsert(ctx context.Context, calls []llmcall.Call) error {
	cols := storeutil.SpanColumnNames()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE spans_staging (LIKE spans INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"spans_staging"}, cols,
			pgx.CopyFromSlice(len(calls), func(i int) ([]any, error) { return rowValues(&calls[i]), nil })); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		// Key order: concurrent writers of overlapping batches take the
		// unique-index locks in the same order, so they never deadlock.
		if _, err := tx.Exec(ctx, `INSERT INTO spans (`+storeutil.SpanColumns+`) SELECT `+storeutil.SpanColumns+
			` FROM spans_staging ORDER BY start_time, project_id, trace_id, span_id ON CONFLICT DO NOTHING`); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return nil
	})
}

func rowValues(c *llmcall.Call) []any {
	var fr any
	if len(c.FinishReasons) > 0 {
		fr = c.FinishReasons
	}
	return storeutil.SpanValues(c, storeutil.Stored{
		Start:         c.StartTime,
		End:           c.EndTime,
		IsLLM:         c.IsLLM,
		Unpriced:      c.Unpriced,
		FinishReasons: fr,
		Input:         jsonValue(c.InputMessages),
		Output:        jsonValue(c.OutputMessages),
		System:        jsonValue(c.SystemInstructions),
		Attributes:    jsonValue(c.Attributes),
	})
}

// jsonValue passes JSON to a jsonb column as-is, NULL when absent.
func jsonValue(raw []byte) any {
	if raw == nil {
		return nil
	}
	return []byte(raw)
}

func scanCall(row pgx.Row) (llmcall.Call, error) {
	var (
		c                   llmcall.Call
		start, end          time.Time
		fr                  []string
		in, out, sys, attrs []byte
	)
	err := row.Scan(storeutil.SpanTargets(&c, storeutil.Stored{
		Start: &start, End: &end, IsLLM: &c.IsLLM, Unpriced: &c.Unpriced, FinishReasons: &fr,
		Input: &in, Output: &out, System: &sys, Attributes: &attrs,
	})...)
	if err != nil {
		return c, err
	}
	c.StartTime, c.EndTime = start.UTC(), end.UTC()
	c.FinishReasons = storeutil.NilIfEmpty(fr)
	if err := storeutil.SetJSON(&c, in, out, sys, attrs); err != nil {
		return c, err
	}
	return c, nil
}

func queryCalls(ctx context.Context, q querier, query string, args ...any) ([]llmcall.Call, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
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
		return storage.CallPage{}, fmt.Errorf("pgstore: list calls: %w", err)
	}
	query, args := plan.SQL(dialect())
	var rows []llmcall.Call
	err = s.readProject(ctx, q.ProjectID, func(db querier) (err error) {
		rows, err = queryCalls(ctx, db, query, args...)
		return err
	})
	if err != nil {
		return storage.CallPage{}, fmt.Errorf("pgstore: list calls: %w", err)
	}
	return plan.Page(rows), nil
}

// GetCall implements storage.Store.
func (s *Store) GetCall(ctx context.Context, projectID, spanID string) (llmcall.Call, error) {
	if projectID == "" || spanID == "" {
		return llmcall.Call{}, fmt.Errorf("pgstore: get call: %w", storeutil.InvalidQuery("project id and span id are required"))
	}
	var c llmcall.Call
	err := s.readProject(ctx, projectID, func(db querier) (err error) {
		c, err = scanCall(db.QueryRow(ctx, "SELECT "+storeutil.SpanColumns+
			" FROM spans WHERE project_id = $1 AND span_id = $2 ORDER BY start_time DESC, trace_id DESC LIMIT 1", projectID, spanID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return llmcall.Call{}, storeutil.NotFound("pgstore: span %q of project %q", spanID, projectID)
	}
	if err != nil {
		return llmcall.Call{}, fmt.Errorf("pgstore: get call: %w", err)
	}
	return c, nil
}

// GetTrace implements storage.Store.
func (s *Store) GetTrace(ctx context.Context, projectID, traceID string) ([]llmcall.Call, error) {
	if projectID == "" || traceID == "" {
		return nil, fmt.Errorf("pgstore: get trace: %w", storeutil.InvalidQuery("project id and trace id are required"))
	}
	var calls []llmcall.Call
	err := s.readProject(ctx, projectID, func(db querier) (err error) {
		calls, err = queryCalls(ctx, db, "SELECT "+storeutil.SpanColumns+
			" FROM spans WHERE project_id = $1 AND trace_id = $2 ORDER BY start_time, span_id", projectID, traceID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: get trace: %w", err)
	}
	if len(calls) == 0 {
		return nil, storeutil.NotFound("pgstore: trace %q of project %q", traceID, projectID)
	}
	return calls, nil
}

// Overview implements storage.Store.
func (s *Store) Overview(ctx context.Context, q storage.OverviewQuery) (storage.Overview, error) {
	plan, err := storeutil.PlanOverview(q)
	if err != nil {
		return storage.Overview{}, fmt.Errorf("pgstore: overview: %w", err)
	}
	query, args := plan.SQL(dialect())
	var out []storeutil.OverviewRow
	err = s.readProject(ctx, q.ProjectID, func(db querier) error {
		rows, err := db.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				r    storeutil.OverviewRow
				kind int64
			)
			if err := rows.Scan(r.Targets(&kind)...); err != nil {
				return err
			}
			r.Total = kind == 0
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return storage.Overview{}, fmt.Errorf("pgstore: overview: %w", err)
	}
	return plan.Build(out), nil
}

// DeleteProjectCalls implements storage.Store.
func (s *Store) DeleteProjectCalls(ctx context.Context, projectID string) (int64, error) {
	if projectID == "" {
		return 0, fmt.Errorf("pgstore: delete project calls: %w", storeutil.InvalidQuery("project id is required"))
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM spans WHERE project_id = $1`, projectID)
	if err != nil {
		return 0, fmt.Errorf("pgstore: delete project calls: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CreateOrg implements storage.Store; creating an existing id again is a
// no-op (the stored org is kept).
func (s *Store) CreateOrg(ctx context.Context, org storage.Org) error {
	o, err := storeutil.NormalizeOrg(org, s.now)
	if err != nil {
		return fmt.Errorf("pgstore: create org: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		o.ID, o.Name, o.CreatedAt); err != nil {
		return fmt.Errorf("pgstore: create org %q: %w", o.ID, err)
	}
	return nil
}

// CreateProject implements storage.Store; creating an existing id again in
// the same org is a no-op, in another org an ErrInvalidRecord. The org must
// exist (ErrNotFound).
func (s *Store) CreateProject(ctx context.Context, p storage.Project) error {
	p, err := storeutil.NormalizeProject(p, s.now)
	if err != nil {
		return fmt.Errorf("pgstore: create project: %w", err)
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO projects (id, org_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		p.ID, p.OrgID, p.Name, p.CreatedAt)
	if isCode(err, "23503") { // foreign_key_violation
		return storeutil.NotFound("pgstore: create project %q: org %q", p.ID, p.OrgID)
	}
	if err != nil {
		return fmt.Errorf("pgstore: create project %q: %w", p.ID, err)
	}
	if tag.RowsAffected() == 0 {
		var org string
		if err := s.pool.QueryRow(ctx, `SELECT org_id FROM projects WHERE id = $1`, p.ID).Scan(&org); err != nil {
			return fmt.Errorf("pgstore: create project %q: %w", p.ID, err)
		}
		if org != p.OrgID {
			return fmt.Errorf("pgstore: create project: %w", storeutil.ErrProjectOtherOrg(p.ID, p.OrgID, org))
		}
	}
	return nil
}

func isCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

const projectColumns = "id, org_id, name, created_at"

func scanProject(row pgx.Row) (storage.Project, error) {
	var p storage.Project
	if err := row.Scan(&p.ID, &p.OrgID, &p.Name, &p.CreatedAt); err != nil {
		return p, err
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p, nil
}

// GetProject implements storage.Store.
func (s *Store) GetProject(ctx context.Context, projectID string) (storage.Project, error) {
	p, err := scanProject(s.pool.QueryRow(ctx, `SELECT `+projectColumns+` FROM projects WHERE id = $1`, projectID))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, storeutil.NotFound("pgstore: project %q", projectID)
	}
	if err != nil {
		return p, fmt.Errorf("pgstore: get project %q: %w", projectID, err)
	}
	return p, nil
}

// ListProjects implements storage.Store: every project, oldest first.
func (s *Store) ListProjects(ctx context.Context) ([]storage.Project, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+projectColumns+` FROM projects ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list projects: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Project, error) { return scanProject(r) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: list projects: %w", err)
	}
	return out, nil
}

// CreateAPIKey implements storage.Store. The project must exist in the
// key's org (ErrNotFound); a key whose id or hash is already stored is an
// ErrInvalidRecord.
func (s *Store) CreateAPIKey(ctx context.Context, key storage.APIKey) error {
	k, err := storeutil.NormalizeAPIKey(key, s.now)
	if err != nil {
		return fmt.Errorf("pgstore: create api key: %w", err)
	}
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO api_keys (id, org_id, project_id, name, prefix, hash, scopes, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.OrgID, k.ProjectID, k.Name, k.Prefix, k.Hash, scopes, k.CreatedAt, k.RevokedAt)
	switch {
	case isCode(err, "23503"):
		return storeutil.NotFound("pgstore: create api key %q: project %q of org %q", k.ID, k.ProjectID, k.OrgID)
	case isCode(err, "23505"):
		return fmt.Errorf("pgstore: create api key: %w", storeutil.ErrKeyExists(k.ID))
	case err != nil:
		return fmt.Errorf("pgstore: create api key %q: %w", k.ID, err)
	}
	return nil
}

const keyColumns = "id, org_id, project_id, name, prefix, hash, scopes, created_at, revoked_at"

func scanKey(row pgx.Row) (storage.APIKey, error) {
	var k storage.APIKey
	if err := row.Scan(&k.ID, &k.OrgID, &k.ProjectID, &k.Name, &k.Prefix, &k.Hash, &k.Scopes, &k.CreatedAt, &k.RevokedAt); err != nil {
		return k, err
	}
	k.Scopes = storeutil.NilIfEmpty(k.Scopes)
	k.CreatedAt = k.CreatedAt.UTC()
	if k.RevokedAt != nil {
		t := k.RevokedAt.UTC()
		k.RevokedAt = &t
	}
	return k, nil
}

// LookupAPIKey implements storage.Store.
func (s *Store) LookupAPIKey(ctx context.Context, hash []byte) (storage.APIKey, error) {
	if len(hash) == 0 {
		return storage.APIKey{}, storeutil.NotFound("pgstore: api key with empty hash")
	}
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, storeutil.NotFound("pgstore: api key")
	}
	if err != nil {
		return k, fmt.Errorf("pgstore: lookup api key: %w", err)
	}
	return k, nil
}

// ListAPIKeys implements storage.Store: the project's keys, newest first.
func (s *Store) ListAPIKeys(ctx context.Context, projectID string) ([]storage.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE project_id = $1 ORDER BY created_at DESC, id DESC`, projectID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list api keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.APIKey, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: list api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey implements storage.Store.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		at = s.now()
	}
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`,
		storeutil.NormalizeTime(at), id)
	if err != nil {
		return fmt.Errorf("pgstore: revoke api key %q: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return storeutil.NotFound("pgstore: api key %q", id)
	}
	return nil
}

// Ping implements storage.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: ping: %w", err)
	}
	return nil
}

// Close implements storage.Store.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// quoteLiteral quotes s as an SQL string literal.
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
