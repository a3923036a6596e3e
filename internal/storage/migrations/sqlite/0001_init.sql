-- Initial schema (SQLite). Times are INTEGER unix microseconds (UTC),
-- booleans INTEGER 0/1, JSON as TEXT. STRICT tables reject mistyped values.

CREATE TABLE orgs (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE projects (
    id         TEXT    NOT NULL PRIMARY KEY,
    org_id     TEXT    NOT NULL REFERENCES orgs (id),
    name       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, id)
) STRICT;

CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    org_id     TEXT    NOT NULL,
    project_id TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    prefix     TEXT    NOT NULL DEFAULT '',
    hash       BLOB    NOT NULL UNIQUE,
    scopes     TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
) STRICT;

CREATE INDEX api_keys_project_idx ON api_keys (project_id, created_at, id);

CREATE TABLE spans (
    start_time          INTEGER NOT NULL,
    end_time            INTEGER NOT NULL,
    org_id              TEXT    NOT NULL DEFAULT '',
    project_id          TEXT    NOT NULL,
    trace_id            TEXT    NOT NULL,
    span_id             TEXT    NOT NULL,
    parent_span_id      TEXT    NOT NULL DEFAULT '',
    name                TEXT    NOT NULL DEFAULT '',
    kind                TEXT    NOT NULL DEFAULT '',
    endpoint            TEXT    NOT NULL DEFAULT '',
    environment         TEXT    NOT NULL DEFAULT '',
    service_name        TEXT    NOT NULL DEFAULT '',
    session_id          TEXT    NOT NULL DEFAULT '',
    user_id             TEXT    NOT NULL DEFAULT '',
    latency_ms          REAL    NOT NULL DEFAULT 0,
    ttft_ms             REAL    NOT NULL DEFAULT 0,
    is_llm              INTEGER NOT NULL DEFAULT 0,
    provider            TEXT    NOT NULL DEFAULT '',
    operation           TEXT    NOT NULL DEFAULT '',
    request_model       TEXT    NOT NULL DEFAULT '',
    response_model      TEXT    NOT NULL DEFAULT '',
    source_convention   TEXT    NOT NULL DEFAULT '',
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    total_tokens        INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens   INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens  INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens    INTEGER NOT NULL DEFAULT 0,
    cost_input_usd      REAL    NOT NULL DEFAULT 0,
    cost_output_usd     REAL    NOT NULL DEFAULT 0,
    cost_total_usd      REAL    NOT NULL DEFAULT 0,
    cost_source         TEXT    NOT NULL DEFAULT '',
    unpriced            INTEGER NOT NULL DEFAULT 0,
    status              TEXT    NOT NULL DEFAULT 'unset',
    status_message      TEXT    NOT NULL DEFAULT '',
    error_type          TEXT    NOT NULL DEFAULT '',
    http_status         INTEGER NOT NULL DEFAULT 0,
    finish_reasons      TEXT,    -- JSON array of strings; NULL when none
    input_messages      TEXT,    -- JSON; NULL when absent
    output_messages     TEXT,
    system_instructions TEXT,
    attributes          TEXT,
    -- Idempotency key. Time first: new rows append at the end of the index
    -- (about 3.5x faster inserts than span id first, DESIGN.md section 7).
    UNIQUE (start_time, project_id, trace_id, span_id)
) STRICT;

-- ListCalls / Overview: LLM calls of a project by time (scanned backwards
-- for newest first; span_id, trace_id make the keyset order total).
CREATE INDEX spans_llm_idx ON spans (project_id, start_time, span_id, trace_id) WHERE is_llm = 1;
-- GetCall and DeleteProjectCalls.
CREATE INDEX spans_project_span_idx ON spans (project_id, span_id);
-- GetTrace.
CREATE INDEX spans_project_trace_idx ON spans (project_id, trace_id);
