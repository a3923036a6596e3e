package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// timescale is what the store knows of TimescaleDB for its spans table.
// Migration 0002 decides, once, between a hypertable and native
// partitioning; the store then follows the schema it finds.
type timescale struct {
	// disabled is Options.DisableTimescaleDB: the migration transaction
	// sets observatory.timescaledb = 'off', so migration 0002, if still
	// pending, keeps native partitioning. Otherwise the setting is left as
	// the database or role has it (ALTER DATABASE … SET works too).
	disabled bool

	// Set by detectTimescale after migrating.
	hypertable bool   // spans is a TimescaleDB hypertable
	extSchema  string // schema of the timescaledb extension's functions
	relation   string // spans, schema-qualified and quoted, for regclass
}

// detectTimescale finds out whether spans (the one in the search_path) is
// a TimescaleDB hypertable. TimescaleDB's views are read only when the
// extension is installed and spans is no longer natively partitioned.
func (s *Store) detectTimescale(ctx context.Context) error {
	var (
		extSchema            *string
		spansSchema, relkind string
	)
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
		  WHERE e.extname = 'timescaledb'),
		n.nspname::text, c.relkind::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = to_regclass('spans')`).Scan(&extSchema, &spansSchema, &relkind)
	if err != nil {
		return fmt.Errorf("detect timescaledb: find spans: %w", err)
	}
	s.ts.hypertable = false
	if relkind != "p" { // only migration 0002 replaces the partitioned table
		if extSchema != nil {
			err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
				WHERE hypertable_schema = $1 AND hypertable_name = 'spans')`, spansSchema).Scan(&s.ts.hypertable)
			if err != nil {
				return fmt.Errorf("detect timescaledb: %w", err)
			}
		}
		if !s.ts.hypertable {
			return fmt.Errorf("detect timescaledb: %s.spans is neither partitioned nor a TimescaleDB hypertable (relkind %q)", spansSchema, relkind)
		}
		s.ts.extSchema = *extSchema
		s.ts.relation = spansRelation(spansSchema)
	}
	switch {
	case s.ts.hypertable:
		s.log.Info("spans is a TimescaleDB hypertable: 1-day chunks, compression and continuous aggregates calls_1m, calls_1h; retention drops chunks",
			"timescaledb", true, "schema", spansSchema, "extension_schema", s.ts.extSchema)
		if s.ts.disabled {
			s.log.Warn("DisableTimescaleDB has no effect on a database already converted by migration 0002", "schema", spansSchema)
		}
	default:
		s.log.Info("spans is natively partitioned by day; retention drops partitions",
			"timescaledb", false, "disabled", s.ts.disabled, "schema", spansSchema)
	}
	return nil
}

// TimescaleDB reports whether spans is a TimescaleDB hypertable (chunks,
// compression, continuous aggregates) rather than natively partitioned.
func (s *Store) TimescaleDB() bool { return s.ts.hypertable }

// spansRelation is the quoted, schema-qualified name of spans in schema,
// as drop_chunks takes it (cast to regclass).
func spansRelation(schema string) string {
	return pgx.Identifier{schema, "spans"}.Sanitize()
}

// dropChunksSQL counts the chunks drop_chunks drops: those of $1 (a
// relation name, cast to regclass) whose range ends at or before $2. The
// function is called in the extension's schema, which need not be in the
// search_path; older_than is typed explicitly because drop_chunks takes
// "any" and must see the hypertable's time type (timestamptz).
func dropChunksSQL(extSchema string) string {
	return `SELECT count(*) FROM ` + pgx.Identifier{extSchema, "drop_chunks"}.Sanitize() +
		`($1::text::regclass, older_than => $2::timestamptz)`
}

// dropChunksBefore is DropPartitionsBefore on a hypertable: it drops every
// 1-day chunk of spans that ends at or before t (TimescaleDB drops a chunk
// when its range end <= older_than; the chunk holding t is kept), with its
// rows and its compressed data, and returns how many it dropped. The
// continuous aggregates keep their buckets until a refresh covers them.
func (s *Store) dropChunksBefore(ctx context.Context, t time.Time) (int, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, dropChunksSQL(s.ts.extSchema), s.ts.relation, t).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: drop chunks before %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	if n > 0 {
		s.log.Info("dropped chunks", "before", t.UTC(), "chunks", n)
	}
	return int(n), nil
}
