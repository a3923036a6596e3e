-- Row-level security: defence in depth behind the API's own project checks.
--
-- Every tenant table gets RLS with two policies:
--   * <table>_all: permissive, for every role. The writers (collector sinks,
--     the gateway, key management) handle many tenants by nature, and an
--     application role that is not the tables' owner must keep working.
--   * <table>_tenant: RESTRICTIVE (ANDed with the permissive one), binding
--     only the role observatory_reader: a reader sees the rows of the
--     project (or org) named by the transaction-local setting
--     observatory.project_id (observatory.org_id) and nothing when it is unset.
-- The store runs every query-API read as observatory_reader with that
-- setting (set_config(..., true): one transaction), so a read whose WHERE
-- clause forgot the project still cannot return another tenant's rows.
--
-- observatory_reader is a cluster-wide NOLOGIN role. Creating it needs
-- CREATEROLE (or superuser); without it the policies are still installed
-- and the store reads as the connecting role (it checks membership at
-- start and logs which it does).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'observatory_reader') THEN
        BEGIN
            CREATE ROLE observatory_reader NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL; -- created concurrently
            WHEN insufficient_privilege THEN
                RAISE NOTICE 'observatory: cannot create role observatory_reader (needs CREATEROLE); reads run as %', current_user;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'observatory_reader') THEN
        -- Membership lets a non-superuser owner SET ROLE to the reader.
        IF NOT pg_has_role(current_user, 'observatory_reader', 'MEMBER') THEN
            BEGIN
                EXECUTE format('GRANT observatory_reader TO %I', current_user);
            EXCEPTION WHEN insufficient_privilege THEN
                RAISE NOTICE 'observatory: cannot grant observatory_reader to %; reads run as %', current_user, current_user;
            END;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO observatory_reader', current_schema());
        GRANT SELECT ON spans TO observatory_reader;
    END IF;
END $$;

-- current_user is observatory_reader only inside a reader transaction
-- (SET ROLE); the name comparison works whether or not the role exists.
-- NULLIF: a setting reset to '' matches no row, as an unset one does.
-- spans: only when natively partitioned. A TimescaleDB hypertable (0002)
-- with compression and continuous aggregates refuses row security (and the
-- other way round), so there reads rely on the queries' project filter.
DO $$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'spans'::regclass) = 'p' THEN
        ALTER TABLE spans ENABLE ROW LEVEL SECURITY;
        CREATE POLICY spans_all ON spans USING (true) WITH CHECK (true);
        CREATE POLICY spans_tenant ON spans AS RESTRICTIVE
            USING (current_user <> 'observatory_reader'
                   OR project_id = NULLIF(current_setting('observatory.project_id', true), ''));
    ELSE
        RAISE NOTICE 'observatory: spans is a TimescaleDB hypertable; row-level security stays off on it';
    END IF;
END $$;

ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_all ON api_keys USING (true) WITH CHECK (true);
CREATE POLICY api_keys_tenant ON api_keys AS RESTRICTIVE
    USING (current_user <> 'observatory_reader'
           OR project_id = NULLIF(current_setting('observatory.project_id', true), ''));

ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
CREATE POLICY projects_all ON projects USING (true) WITH CHECK (true);
CREATE POLICY projects_tenant ON projects AS RESTRICTIVE
    USING (current_user <> 'observatory_reader'
           OR id = NULLIF(current_setting('observatory.project_id', true), ''));

ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
CREATE POLICY orgs_all ON orgs USING (true) WITH CHECK (true);
CREATE POLICY orgs_tenant ON orgs AS RESTRICTIVE
    USING (current_user <> 'observatory_reader'
           OR id = NULLIF(current_setting('observatory.org_id', true), ''));
