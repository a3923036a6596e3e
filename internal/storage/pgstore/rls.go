package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// querier is what the read paths need of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// detectReaderRole finds this deployment's reader role (migration 0003)
// and proves the connecting user can read as it, by doing so once; when it
// cannot (no CREATEROLE at migration time, no SET privilege, grants
// missing), reads run as the connecting user and rely on the queries' own
// project filter.
func (s *Store) detectReaderRole(ctx context.Context) error {
	var spansRLS bool
	if err := s.pool.QueryRow(ctx, `SELECT relrowsecurity FROM pg_class WHERE oid = 'spans'::regclass`).Scan(&spansRLS); err != nil {
		return fmt.Errorf("check row security of spans: %w", err)
	}
	if !spansRLS {
		s.log.Info("row-level security is off on spans (a TimescaleDB hypertable with compression refuses it); " +
			"reads rely on their project filter")
	}
	var role string
	err := s.pool.QueryRow(ctx, `SELECT reader_role FROM row_security LIMIT 1`).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		s.log.Warn("row-level security: reads run as the connecting user: the migration could not create the " +
			"reader role (needs CREATEROLE); the API's project checks still apply")
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the reader role: %w", err)
	}
	rows, err := readerQuerier{pool: s.pool, role: role}.Query(ctx, `SELECT 1 FROM spans LIMIT 0`)
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		s.log.Warn("row-level security: reads run as the connecting user: it cannot read as the reader role; "+
			"grant it (see docs/operations.md); the API's project checks still apply", "role", role, "error", err)
		return nil
	}
	s.reader = role
	s.log.Info("row-level security: query-API reads run as the reader role", "role", role)
	return nil
}

// RowLevelSecurity reports whether query-API reads run as the reader role.
func (s *Store) RowLevelSecurity() bool { return s.reader != "" }

// ReaderRole is the role query-API reads run as; empty when they run as
// the connecting user.
func (s *Store) ReaderRole() string { return s.reader }

// readProject runs fn with a querier whose statements run as the reader
// role bound to projectID, so row-level security backs the query's own
// filter.
func (s *Store) readProject(ctx context.Context, projectID string, fn func(q querier) error) error {
	if s.reader == "" {
		return fn(s.pool)
	}
	return fn(readerQuerier{pool: s.pool, role: s.reader, projectID: projectID})
}

// readerQuerier sends each statement in one batch behind the two settings.
// A batch is one implicit transaction (a single Sync in the extended
// protocol), so set_config(..., true) holds for that statement and ends
// with it: one round trip, and the pooled connection comes back unchanged.
type readerQuerier struct {
	pool            *pgxpool.Pool
	role, projectID string
}

func (r readerQuerier) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('role', $1, true), set_config('observatory.project_id', $2, true)`, r.role, r.projectID)
	b.Queue(sql, args...)
	br := r.pool.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("become %s: %w", r.role, err)
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, batch: br}, nil
}

func (r readerQuerier) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := r.Query(ctx, sql, args...)
	return batchRow{rows: rows, err: err}
}

// batchRows closes its batch (returning the connection) with the rows.
type batchRows struct {
	pgx.Rows
	batch    pgx.BatchResults
	closeErr error
}

func (b *batchRows) Close() {
	b.Rows.Close()
	b.closeErr = b.batch.Close()
}

func (b *batchRows) Err() error {
	if err := b.Rows.Err(); err != nil {
		return err
	}
	return b.closeErr
}

// batchRow is pgx.Row over batchRows: the first row, or pgx.ErrNoRows.
type batchRow struct {
	rows pgx.Rows
	err  error
}

func (r batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
