-- Row-level security: defence in depth behind the API's own project checks.
--
-- Every tenant table gets RLS with two policies:
--   * <table>_all: permissive, for every role. The writers (collector sinks,
--     the gateway, key management) handle many tenants by nature, and an
--     application role that is not the tables' owner must keep working.
--   * <table>_tenant: RESTRICTIVE (ANDed with the permissive one), TO this
--     deployment's reader role and so to every member of it: a reader sees
--     the rows of the project (org) named by the transaction-local setting
--     observatory.project_id (observatory.org_id), and nothing when unset.
-- The store runs every query-API read as the reader role with that setting,
-- so a read whose WHERE clause forgot the project still cannot return
-- another tenant's rows.
--
-- The reader role is per deployment (database and schema), named
-- observatory_reader_<10 hex of md5(database.schema)> and recorded in
-- row_security: roles are cluster-wide, and one role shared by several
-- deployments would let each owner read the others' spans through it. It
-- may only SELECT spans, in this schema. It is granted to the migrating
-- user (PostgreSQL 16+: SET only, not INHERIT), who SETs ROLE to it.
-- Creating it needs CREATEROLE (or superuser); without it the policies on
-- the reader are skipped and the store reads as the connecting user (it
-- probes the role at every start and logs which it does).
--
-- spans gets RLS only when natively partitioned: a TimescaleDB hypertable
-- (0002) with compression and continuous aggregates refuses row security,
-- so there reads rely on the queries' project filter.

CREATE TABLE row_security (
    reader_role text NOT NULL
);

ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
CREATE POLICY orgs_all ON orgs USING (true) WITH CHECK (true);
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_all ON projects USING (true) WITH CHECK (true);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_all ON api_keys USING (true) WITH CHECK (true);

DO $$
DECLARE
    reader text := 'observatory_reader_' || left(md5(current_database() || '.' || current_schema()), 10);
    spans_rls boolean := (SELECT relkind FROM pg_class WHERE oid = 'spans'::regclass) = 'p';
BEGIN
    IF spans_rls THEN
        ALTER TABLE spans ENABLE ROW LEVEL SECURITY;
        CREATE POLICY spans_all ON spans USING (true) WITH CHECK (true);
    ELSE
        RAISE NOTICE 'observatory: spans is a TimescaleDB hypertable; row-level security stays off on it';
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = reader) THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', reader);
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL; -- created concurrently
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'observatory: cannot create role % (needs CREATEROLE); reads run as %', reader, current_user;
                RETURN;
        END;
    END IF;
    BEGIN
        IF current_setting('server_version_num')::int >= 160000 THEN
            BEGIN
                EXECUTE format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', reader, current_user);
            EXCEPTION WHEN syntax_error THEN -- one option per WITH, should a server want that
                EXECUTE format('GRANT %I TO %I WITH SET TRUE', reader, current_user);
            END;
        ELSE
            EXECUTE format('GRANT %I TO %I', reader, current_user);
        END IF;
    EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL; -- granted concurrently
        WHEN insufficient_privilege THEN
            RAISE NOTICE 'observatory: cannot grant % to %; reads run as %', reader, current_user, current_user;
    END;
    INSERT INTO row_security (reader_role) VALUES (reader);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), reader);
    EXECUTE format('GRANT SELECT ON spans TO %I', reader);

    IF spans_rls THEN
        EXECUTE format($p$CREATE POLICY spans_tenant ON spans AS RESTRICTIVE TO %I
            USING (project_id = NULLIF(current_setting('observatory.project_id', true), ''))$p$, reader);
    END IF;
    EXECUTE format($p$CREATE POLICY api_keys_tenant ON api_keys AS RESTRICTIVE TO %I
        USING (project_id = NULLIF(current_setting('observatory.project_id', true), ''))$p$, reader);
    EXECUTE format($p$CREATE POLICY projects_tenant ON projects AS RESTRICTIVE TO %I
        USING (id = NULLIF(current_setting('observatory.project_id', true), ''))$p$, reader);
    EXECUTE format($p$CREATE POLICY orgs_tenant ON orgs AS RESTRICTIVE TO %I
        USING (id = NULLIF(current_setting('observatory.org_id', true), ''))$p$, reader);
END $$;
