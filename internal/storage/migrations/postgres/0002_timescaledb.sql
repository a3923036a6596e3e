-- TimescaleDB for spans, when the extension is there; nothing otherwise.
--
-- Two paths, chosen once, when this migration is first applied:
--
-- * Plain PostgreSQL (the extension is not installable, not preloaded, older
--   than 2.13, the role may not create it, or the store disabled it): this
--   migration changes nothing. spans stays natively range-partitioned by UTC
--   day as 0001_init.sql made it; the store creates partitions spans_pYYYYMMDD
--   on demand and retention drops whole partitions.
--
-- * TimescaleDB 2.13+ (installed in this database, or available and
--   preloaded through shared_preload_libraries, so that CREATE EXTENSION
--   succeeds): the partitioned spans is replaced by a plain table with the
--   same columns, defaults, constraint spans_key and indexes (same names,
--   see the marked block below), every row is copied across and the old
--   table is dropped with its partitions (a partitioned table cannot be
--   converted, create_hypertable needs a plain one). Then:
--     - spans becomes a hypertable on start_time with 1-day chunks (aligned
--       on UTC days, like the partitions); the store stops creating
--       partitions and retention calls drop_chunks;
--     - compression (columnstore): segmented by project_id, ordered by
--       start_time DESC (then trace_id, span_id, the rest of the unique key,
--       so conflict checks on compressed chunks can use the batch min/max),
--       with a policy compressing chunks older than 7 days;
--     - continuous aggregates calls_1m and calls_1h over LLM calls (is_llm),
--       per org_id (fixed by the project), project_id, endpoint,
--       request_model, provider and status: calls, errors (status =
--       'error'), token sums, cost_total_usd, latency sum and max. Real-time
--       (materialized_only = false), created WITH NO DATA (WITH DATA cannot
--       run in a transaction) and refreshed by policies over the last day
--       (1m) and the last 7 days (1h). Rows copied from an existing spans are
--       older than those windows: materialize them once, outside a
--       transaction, with CALL refresh_continuous_aggregate('calls_1h', NULL,
--       now() - INTERVAL '1 hour') (and likewise calls_1m). No latency
--       percentiles: core TimescaleDB has no mergeable percentile sketch
--       (percentile_agg/uddsketch are in the separate Toolkit extension).
--
-- To stay on native partitioning although TimescaleDB is available, set
-- observatory.timescaledb = 'off' for the migrating session: the store does
-- it for the migration transaction with pgstore.Options.DisableTimescaleDB,
-- an operator with ALTER DATABASE (or ROLE) ... SET observatory.timescaledb
-- = 'off'. A database migrated either way stays so: later opens follow the
-- schema, whatever the setting says.
--
-- The extension is database-wide: when this migration creates it, it goes
-- into schema public (not into the store's schema, which may be dropped with
-- its tenant or test); its functions are called schema-qualified, so the
-- store's search_path need not include it. Everything else is created in the
-- store's schema, the first of the search_path (current_schema()).
--
-- Row-level security and compression exclude each other on a hypertable
-- (TimescaleDB refuses ALTER TABLE ... ENABLE ROW LEVEL SECURITY on a
-- hypertable with compression, and compression on a table with row security);
-- 0003_row_level_security.sql therefore leaves spans without it here.
--
-- plpgsql resolves names when a statement runs, so none of the TimescaleDB
-- calls below is looked up on plain PostgreSQL.

DO $migration$
DECLARE
    min_version constant int[] := '{2,13}';
    setting     text := lower(coalesce(current_setting('observatory.timescaledb', true), ''));
    ts          name;  -- schema of the extension's functions
    version     text;
    spans_rel   text := format('%I.%I', current_schema(), 'spans');
    native_rel  text := format('%I.%I', current_schema(), 'spans_native');
    cols        text;
    copied      bigint;
    agg         text;
    width       interval;
    start_off   interval;
    end_off     interval;
    every       interval;
BEGIN
    IF setting IN ('off', 'false', 'no', '0') THEN
        RAISE NOTICE 'observatory: TimescaleDB disabled (observatory.timescaledb = %): spans keeps native partitioning', setting;
        RETURN;
    END IF;

    SELECT n.nspname, e.extversion INTO ts, version
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'timescaledb';
    IF ts IS NULL THEN
        SELECT a.default_version INTO version FROM pg_available_extensions a WHERE a.name = 'timescaledb';
        IF version IS NULL THEN
            RETURN; -- plain PostgreSQL: nothing to do
        END IF;
    END IF;

    -- The loader, when preloaded, defines timescaledb.disable_load. Without
    -- it CREATE EXTENSION (or any use of an installed one) ends the session
    -- with FATAL "extension must be preloaded", which no handler can catch.
    IF current_setting('timescaledb.disable_load', true) IS DISTINCT FROM 'off' THEN
        RAISE NOTICE 'observatory: timescaledb % is not loaded (add it to shared_preload_libraries): spans keeps native partitioning', version;
        RETURN;
    END IF;

    -- create_hypertable(..., by_range(...)) appeared in 2.13.
    IF string_to_array(substring(version FROM '^[0-9]+(?:\.[0-9]+)*'), '.')::int[] < min_version THEN
        RAISE NOTICE 'observatory: timescaledb % is older than 2.13: spans keeps native partitioning', version;
        RETURN;
    END IF;

    IF ts IS NULL THEN
        IF to_regnamespace('public') IS NULL THEN
            RAISE NOTICE 'observatory: no schema public to create extension timescaledb in: spans keeps native partitioning';
            RETURN;
        END IF;
        BEGIN
            CREATE EXTENSION IF NOT EXISTS timescaledb WITH SCHEMA public;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'observatory: % may not create extension timescaledb (%): spans keeps native partitioning', current_user, SQLERRM;
            RETURN;
        END;
        SELECT n.nspname INTO STRICT ts
          FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
         WHERE e.extname = 'timescaledb';
    END IF;

    -- Move the partitioned table aside; the new one takes over its names.
    ALTER TABLE spans RENAME TO spans_native;
    ALTER TABLE spans_native RENAME CONSTRAINT spans_key TO spans_native_key;
    ALTER INDEX spans_llm_idx RENAME TO spans_native_llm_idx;
    ALTER INDEX spans_project_span_idx RENAME TO spans_native_project_span_idx;
    ALTER INDEX spans_project_trace_idx RENAME TO spans_native_project_trace_idx;

    -- BEGIN spans table: 0001_init.sql's spans without PARTITION BY (a test
    -- runs this block on its own and compares the result with 0001's table).
    CREATE TABLE spans (
        start_time          timestamptz      NOT NULL,
        end_time            timestamptz      NOT NULL,
        org_id              text             NOT NULL DEFAULT '',
        project_id          text             NOT NULL,
        trace_id            text             NOT NULL,
        span_id             text             NOT NULL,
        parent_span_id      text             NOT NULL DEFAULT '',
        name                text             NOT NULL DEFAULT '',
        kind                text             NOT NULL DEFAULT '',
        endpoint            text             NOT NULL DEFAULT '',
        environment         text             NOT NULL DEFAULT '',
        service_name        text             NOT NULL DEFAULT '',
        session_id          text             NOT NULL DEFAULT '',
        user_id             text             NOT NULL DEFAULT '',
        latency_ms          double precision NOT NULL DEFAULT 0,
        ttft_ms             double precision NOT NULL DEFAULT 0,
        is_llm              boolean          NOT NULL DEFAULT false,
        provider            text             NOT NULL DEFAULT '',
        operation           text             NOT NULL DEFAULT '',
        request_model       text             NOT NULL DEFAULT '',
        response_model      text             NOT NULL DEFAULT '',
        source_convention   text             NOT NULL DEFAULT '',
        input_tokens        bigint           NOT NULL DEFAULT 0,
        output_tokens       bigint           NOT NULL DEFAULT 0,
        total_tokens        bigint           NOT NULL DEFAULT 0,
        cache_read_tokens   bigint           NOT NULL DEFAULT 0,
        cache_write_tokens  bigint           NOT NULL DEFAULT 0,
        reasoning_tokens    bigint           NOT NULL DEFAULT 0,
        cost_input_usd      double precision NOT NULL DEFAULT 0,
        cost_output_usd     double precision NOT NULL DEFAULT 0,
        cost_total_usd      double precision NOT NULL DEFAULT 0,
        cost_source         text             NOT NULL DEFAULT '',
        unpriced            boolean          NOT NULL DEFAULT false,
        status              text             NOT NULL DEFAULT 'unset',
        status_message      text             NOT NULL DEFAULT '',
        error_type          text             NOT NULL DEFAULT '',
        http_status         integer          NOT NULL DEFAULT 0,
        finish_reasons      text[],
        input_messages      jsonb,
        output_messages     jsonb,
        system_instructions jsonb,
        attributes          jsonb,
        -- A unique index on a hypertable must include the time column: it does.
        CONSTRAINT spans_key UNIQUE (start_time, project_id, trace_id, span_id)
    );
    CREATE INDEX spans_llm_idx ON spans (project_id, start_time, span_id, trace_id) WHERE is_llm;
    CREATE INDEX spans_project_span_idx ON spans (project_id, span_id);
    CREATE INDEX spans_project_trace_idx ON spans (project_id, trace_id);
    -- END spans table

    -- The table is still empty (no migrate_data). No default time index:
    -- spans_key already leads with start_time.
    EXECUTE format('SELECT %1$I.create_hypertable($1, %1$I.by_range(%2$L, INTERVAL %3$L), create_default_indexes => false)',
                   ts, 'start_time', '1 day')
        USING spans_rel::regclass;

    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO STRICT cols
      FROM pg_attribute a
     WHERE a.attrelid = spans_rel::regclass AND a.attnum > 0 AND NOT a.attisdropped;
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %s', spans_rel, cols, cols, native_rel);
    GET DIAGNOSTICS copied = ROW_COUNT;
    EXECUTE format('DROP TABLE %s', native_rel); -- and its partitions

    EXECUTE format('ALTER TABLE %s SET (timescaledb.compress, timescaledb.compress_segmentby = %L, timescaledb.compress_orderby = %L)',
                   spans_rel, 'project_id', 'start_time DESC, trace_id, span_id');
    EXECUTE format('SELECT %I.add_compression_policy($1, compress_after => INTERVAL %L)', ts, '7 days')
        USING spans_rel::regclass;

    FOR agg, width, start_off, end_off, every IN
        VALUES ('calls_1m', INTERVAL '1 minute', INTERVAL '1 day', INTERVAL '1 minute', INTERVAL '1 minute'),
               ('calls_1h', INTERVAL '1 hour', INTERVAL '7 days', INTERVAL '1 hour', INTERVAL '30 minutes')
    LOOP
        EXECUTE format($view$
            CREATE MATERIALIZED VIEW %1$I.%2$I
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT %3$I.time_bucket(%4$L::interval, start_time) AS bucket,
                   org_id,
                   project_id,
                   endpoint,
                   request_model,
                   provider,
                   status,
                   count(*)                                  AS calls,
                   count(*) FILTER (WHERE status = 'error')  AS errors,
                   sum(input_tokens)                         AS input_tokens,
                   sum(output_tokens)                        AS output_tokens,
                   sum(total_tokens)                         AS total_tokens,
                   sum(cache_read_tokens)                    AS cache_read_tokens,
                   sum(cache_write_tokens)                   AS cache_write_tokens,
                   sum(reasoning_tokens)                     AS reasoning_tokens,
                   sum(cost_total_usd)                       AS cost_total_usd,
                   sum(latency_ms)                           AS latency_ms_sum,
                   max(latency_ms)                           AS latency_ms_max
              FROM %1$I.spans
             WHERE is_llm
             GROUP BY bucket, org_id, project_id, endpoint, request_model, provider, status
            WITH NO DATA
            $view$, current_schema(), agg, ts, width);
        EXECUTE format('SELECT %I.add_continuous_aggregate_policy($1, start_offset => $2, end_offset => $3, schedule_interval => $4)', ts)
            USING format('%I.%I', current_schema(), agg)::regclass, start_off, end_off, every;
    END LOOP;

    IF copied > 0 THEN
        RAISE NOTICE 'observatory: spans is now a TimescaleDB hypertable (% rows copied); materialize their history once with CALL refresh_continuous_aggregate(...) on calls_1m and calls_1h', copied;
    END IF;
END
$migration$;
