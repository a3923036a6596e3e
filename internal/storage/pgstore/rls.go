package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// readerRole is the role query-API reads run as (migration 0003): row-level
// security limits it to the project named by observatory.project_id.
const readerRole = "observatory_reader"

// querier is what the read paths need of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// detectReaderRole reports whether this connection's user may become the
// reader role; when it may not (no CREATEROLE at migration time), reads
// run as the connecting user and rely on the queries' own project filter.
func (s *Store) detectReaderRole(ctx context.Context) error {
	err := s.pool.QueryRow(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
		THEN pg_has_role(current_user, $1, 'MEMBER') ELSE false END`, readerRole).Scan(&s.rls)
	if err != nil {
		return fmt.Errorf("check role %s: %w", readerRole, err)
	}
	var spansRLS bool
	if err := s.pool.QueryRow(ctx, `SELECT relrowsecurity FROM pg_class WHERE oid = 'spans'::regclass`).Scan(&spansRLS); err != nil {
		return fmt.Errorf("check row security of spans: %w", err)
	}
	if !spansRLS {
		s.log.Info("row-level security is off on spans (a TimescaleDB hypertable with compression refuses it); " +
			"reads rely on their project filter")
	}
	if !s.rls {
		s.log.Warn("row-level security: reads run as the connecting user, not "+readerRole+
			" (the migration could not create or grant it: needs CREATEROLE); the API's project checks still apply",
			"role", readerRole)
	}
	return nil
}

// readProject runs fn in a read-only transaction as the reader role bound
// to projectID, so row-level security backs the query's own filter.
func (s *Store) readProject(ctx context.Context, projectID string, fn func(q querier) error) error {
	if !s.rls {
		return fn(s.pool)
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// One round trip: both settings end with the transaction.
		if _, err := tx.Exec(ctx, `SELECT set_config('role', $1, true), set_config('observatory.project_id', $2, true)`,
			readerRole, projectID); err != nil {
			return fmt.Errorf("become %s: %w", readerRole, err)
		}
		return fn(tx)
	})
}

// RowLevelSecurity reports whether query-API reads run as the reader role.
func (s *Store) RowLevelSecurity() bool { return s.rls }
