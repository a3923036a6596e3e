-- Initial schema (PostgreSQL 15+). Unqualified names: the tables go into the
-- first schema of the connection's search_path.
--
-- TODO(timescaledb): when the timescaledb extension is available, spans
-- should become a hypertable (create_hypertable on start_time, 1-day
-- chunks) with continuous aggregates (1 minute, 1 hour), compression
-- segmented by project_id and retention by drop_chunks, instead of the native
-- daily range partitioning below. The extension is not installable here, so
-- that migration is not written yet; it must be a separate, conditional
-- migration that leaves this schema working without the extension.
--
-- TODO(rls): row-level security on every tenant table (DESIGN.md section 4),
-- keyed on a per-transaction setting such as observatory.org_id, once the API
-- layer sets it.

CREATE TABLE orgs (
    id         text        NOT NULL PRIMARY KEY,
    name       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

CREATE TABLE projects (
    id         text        NOT NULL PRIMARY KEY,
    org_id     text        NOT NULL REFERENCES orgs (id),
    name       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    UNIQUE (org_id, id)
);

CREATE TABLE api_keys (
    id         text        NOT NULL PRIMARY KEY,
    org_id     text        NOT NULL,
    project_id text        NOT NULL,
    name       text        NOT NULL DEFAULT '',
    prefix     text        NOT NULL DEFAULT '',
    hash       bytea       NOT NULL UNIQUE,
    scopes     text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);

CREATE INDEX api_keys_project_idx ON api_keys (project_id, created_at, id);

-- One row per span, range-partitioned by day on start_time. Partitions are
-- named spans_pYYYYMMDD (UTC day), created on demand by the store before a
-- write and dropped for retention (never DELETE).
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
    -- Idempotency key; partitioning requires start_time in it, and time
    -- first nearly doubles COPY speed (DESIGN.md section 7).
    CONSTRAINT spans_key UNIQUE (start_time, project_id, trace_id, span_id)
) PARTITION BY RANGE (start_time);

-- ListCalls / Overview: LLM calls of a project by time.
CREATE INDEX spans_llm_idx ON spans (project_id, start_time, span_id, trace_id) WHERE is_llm;
-- GetCall and DeleteProjectCalls.
CREATE INDEX spans_project_span_idx ON spans (project_id, span_id);
-- GetTrace.
CREATE INDEX spans_project_trace_idx ON spans (project_id, trace_id);
