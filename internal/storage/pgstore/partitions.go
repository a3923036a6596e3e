package pgstore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/llm-observatory/observatory/internal/llmcall"
)

const (
	partitionPrefix = "spans_p"
	partitionLayout = "20060102"
	day             = 24 * time.Hour
)

// partitionName returns the name of the partition holding day d (UTC).
func partitionName(d time.Time) string {
	return partitionPrefix + d.UTC().Format(partitionLayout)
}

// ensurePartitions creates the daily partitions the calls need and that
// this process does not know to exist. Creators in every process serialise
// on an advisory lock, so concurrent CREATE … IF NOT EXISTS never race.
func (s *Store) ensurePartitions(ctx context.Context, calls []llmcall.Call) error {
	if s.ts.hypertable {
		return nil // TimescaleDB creates chunks
	}
	s.partMu.Lock()
	need := map[string]time.Time{}
	for i := range calls {
		d := calls[i].StartTime.UTC().Truncate(day)
		name := partitionName(d)
		if !s.parts[name] {
			need[name] = d
		}
	}
	s.partMu.Unlock()
	if len(need) == 0 {
		return nil
	}
	names := make([]string, 0, len(need))
	for name := range need {
		names = append(names, name)
	}
	sort.Strings(names)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, partitionLockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		for _, name := range names {
			d := need[name]
			// Bounds as UTC literals: independent of the session time zone.
			sql := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF spans FOR VALUES FROM ('%s') TO ('%s')`,
				pgx.Identifier{name}.Sanitize(), d.Format(time.RFC3339), d.Add(day).Format(time.RFC3339))
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("create partition %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ensure partitions: %w", err)
	}
	s.partMu.Lock()
	for _, name := range names {
		s.parts[name] = true
	}
	s.partMu.Unlock()
	s.log.Debug("ensured partitions", "partitions", names)
	return nil
}

func (s *Store) forgetPartitions() {
	s.partMu.Lock()
	clear(s.parts)
	s.partMu.Unlock()
}

// Partitions returns the names of the partitions of spans, oldest first.
func (s *Store) Partitions(ctx context.Context) ([]string, error) {
	parts, err := s.partitions(ctx, s.pool)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list partitions: %w", err)
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.name
	}
	return names, nil
}

type partition struct {
	schema, name string
	day          time.Time
}

// partitions lists the daily partitions of spans (the one in the
// search_path), skipping any whose name does not follow spans_pYYYYMMDD.
func (s *Store) partitions(ctx context.Context, q querier) ([]partition, error) {
	rows, err := q.Query(ctx, `SELECT n.nspname, c.relname
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE i.inhparent = 'spans'::regclass`)
	if err != nil {
		return nil, err
	}
	type rel struct{ Schema, Name string }
	rels, err := pgx.CollectRows(rows, pgx.RowToStructByPos[rel])
	if err != nil {
		return nil, err
	}
	var out []partition
	for _, r := range rels {
		d, err := time.Parse(partitionLayout, strings.TrimPrefix(r.Name, partitionPrefix))
		if err != nil || !strings.HasPrefix(r.Name, partitionPrefix) {
			continue
		}
		out = append(out, partition{schema: r.Schema, name: r.Name, day: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].day.Before(out[j].day) })
	return out, nil
}

// DropPartitionsBefore drops every daily partition of spans that ends at or
// before t (the partition of the day containing t is kept), with its rows:
// retention by dropping partitions, never DELETE. It returns how many it
// dropped.
func (s *Store) DropPartitionsBefore(ctx context.Context, t time.Time) (int, error) {
	if s.ts.hypertable {
		return s.dropChunksBefore(ctx, t)
	}
	var dropped []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		dropped = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, partitionLockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		parts, err := s.partitions(ctx, tx)
		if err != nil {
			return fmt.Errorf("list partitions: %w", err)
		}
		for _, p := range parts {
			if p.day.Add(day).After(t) {
				continue
			}
			if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{p.schema, p.name}.Sanitize()); err != nil {
				return fmt.Errorf("drop partition %s: %w", p.name, err)
			}
			dropped = append(dropped, p.name)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: drop partitions before %s: %w", t.UTC().Format(time.RFC3339), err)
	}
	s.partMu.Lock()
	for _, name := range dropped {
		delete(s.parts, name)
	}
	s.partMu.Unlock()
	if len(dropped) > 0 {
		s.log.Info("dropped partitions", "before", t.UTC(), "partitions", dropped)
	}
	return len(dropped), nil
}
