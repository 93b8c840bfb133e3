"""What the local PostgreSQL under FerretDB is given: its settings and its SQL.

FerretDB v1 indexes a field with a btree on ``(_jsonb -> 'field')``, but pushes an
equality down as ``_jsonb -> 'field' @> value``, which only a GIN index can serve.
``GIN_TWINS_SQL`` installs an event trigger that gives every such btree (and every
new collection's ``_id``) a GIN twin on the same expression.
"""

from pathlib import Path

BIN_DIR = Path("/usr/lib/postgresql/15/bin")
DEBIAN_PACKAGE = "postgresql-15"
OS_USER = "postgres"
SUPERUSER = "postgres"
DATABASE = "ferretdb"
# FerretDB keeps one pool of connections per PostgreSQL user (one here). Its update and
# findAndModify hold the query's connection while they wait for a second one for the
# write, so as many of them at once as the pool has connections wait forever: its
# default of 50 wedged under one test's 50 writers. A PyMongo client opens up to 100.
FERRETDB_POOL_MAX_CONNS = 300


def server_config(*, port: int, socket_dir: Path, hba_file: Path) -> str:
    """postgresql.conf for a development or test box of about two cores."""
    return f"""\
# Written by deploy/local/ucap_infra.py at every start: edits here are lost.
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
hba_file = '{hba_file}'
# FerretDB's pool of {FERRETDB_POOL_MAX_CONNS}, a test's own FerretDB and psql sessions.
max_connections = 400
shared_buffers = 128MB
# What FerretDB acknowledged must survive a crash of PostgreSQL (the fault tests kill it).
synchronous_commit = on
random_page_cost = 1.1
max_parallel_workers_per_gather = 0
jit = off
# Large values (compressed views, U-CAP status documents) are compressed or found not to
# compress several times faster than with the default pglz.
default_toast_compression = lz4
# FerretDB binds the field name as a parameter (_jsonb -> $1 @> $2); only a plan made
# for the bound values matches an index on (_jsonb -> 'field').
plan_cache_mode = force_custom_plan
# Statistics soon after a table fills, so the planner picks the GIN indexes.
autovacuum_naptime = 5s
autovacuum_analyze_threshold = 20
autovacuum_analyze_scale_factor = 0.05
timezone = 'UTC'
log_timezone = 'UTC'
lc_messages = 'C'
log_line_prefix = '%m [%p] %q%u@%d '
"""


HBA_CONFIG = """\
# Written by deploy/local/ucap_infra.py at every start: edits here are lost.
local all all trust
host all all 127.0.0.1/32 trust
"""


# psql runs it with the variable ``database`` set.
CREATE_DATABASE_SQL = """\
SELECT pg_advisory_lock(hashtext('ucap: create database ' || :'database'));
SELECT format('CREATE DATABASE %I', :'database')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database')
\\gexec
"""


GIN_TWINS_SQL = r"""
SELECT pg_advisory_xact_lock(hashtext('ucap: gin twins'));

CREATE OR REPLACE FUNCTION public.ucap_gin_twin_name(base text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    prefix text := base;
BEGIN
    IF octet_length(base || '_gin') <= 63 THEN
        RETURN base || '_gin';
    END IF;
    WHILE octet_length(prefix) > 63 - length('_12345678_gin') LOOP
        prefix := left(prefix, -1);
    END LOOP;
    RETURN prefix || '_' || left(md5(base), 8) || '_gin';
END
$$;

CREATE OR REPLACE FUNCTION public.ucap_is_ferretdb_table(tbl oid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT c.relkind = 'r'
            AND c.relname NOT LIKE '\_ferretdb\_%'
            AND EXISTS (
                SELECT FROM pg_class m
                WHERE m.relnamespace = c.relnamespace
                    AND m.relname = '_ferretdb_database_metadata'
                    AND m.relkind = 'r')
            AND EXISTS (
                SELECT FROM pg_attribute a
                WHERE a.attrelid = c.oid
                    AND a.attname = '_jsonb'
                    AND a.atttypid = 'jsonb'::regtype
                    AND NOT a.attisdropped)
        FROM pg_class c
        WHERE c.oid = tbl), false)
$$;

-- expr as pg_get_indexdef prints one index column, e.g. ((_jsonb -> 'status'::text))
CREATE OR REPLACE FUNCTION public.ucap_gin_twin(tbl oid, expr text, base text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    target record;
BEGIN
    IF EXISTS (
        SELECT FROM pg_index i
            JOIN pg_class c ON c.oid = i.indexrelid
            JOIN pg_am am ON am.oid = c.relam
        WHERE i.indrelid = tbl
            AND am.amname = 'gin'
            AND i.indnkeyatts = 1
            AND pg_get_indexdef(i.indexrelid, 1, false) = expr
    ) THEN
        RETURN;
    END IF;
    SELECT n.nspname, c.relname INTO target
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = tbl;
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((%s) jsonb_path_ops)'
        ' WITH (fastupdate = off)',
        public.ucap_gin_twin_name(base), target.nspname, target.relname, expr);
END
$$;

CREATE OR REPLACE FUNCTION public.ucap_gin_twins_for_table(tbl oid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF public.ucap_is_ferretdb_table(tbl) THEN
        PERFORM public.ucap_gin_twin(
            tbl,
            '((_jsonb -> ''_id''::text))',
            (SELECT relname FROM pg_class WHERE oid = tbl) || '__id');
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION public.ucap_gin_twins_for_index(idx oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    source record;
    expr text;
BEGIN
    SELECT i.indrelid, i.indnkeyatts, c.relname, am.amname INTO source
    FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am am ON am.oid = c.relam
    WHERE i.indexrelid = idx;
    IF NOT FOUND OR source.amname <> 'btree' OR NOT public.ucap_is_ferretdb_table(source.indrelid)
    THEN
        RETURN;
    END IF;
    FOR k IN 1 .. source.indnkeyatts LOOP
        expr := pg_get_indexdef(idx, k, false);
        -- a nested field is pushed down as _jsonb #> path, which such a twin would not serve
        CONTINUE WHEN expr !~ '^\(\(_jsonb -> ''([^'']|'''')*''::text\)\)$';
        PERFORM public.ucap_gin_twin(
            source.indrelid,
            expr,
            CASE WHEN source.indnkeyatts = 1
                THEN source.relname
                ELSE source.relname || '_' || k
            END);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION public.ucap_gin_twins_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    command record;
BEGIN
    -- our own CREATE INDEX fires this trigger again
    IF current_setting('ucap.gin_twins_running', true) = 'on' THEN
        RETURN;
    END IF;
    PERFORM set_config('ucap.gin_twins_running', 'on', true);
    FOR command IN
        SELECT objid, object_type, object_identity FROM pg_event_trigger_ddl_commands()
        WHERE object_type IN ('table', 'index')
    LOOP
        BEGIN
            IF command.object_type = 'table' THEN
                PERFORM public.ucap_gin_twins_for_table(command.objid);
            ELSE
                PERFORM public.ucap_gin_twins_for_index(command.objid);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'ucap: no GIN twin for %: %', command.object_identity, SQLERRM;
        END;
    END LOOP;
    PERFORM set_config('ucap.gin_twins_running', 'off', true);
END
$$;

CREATE OR REPLACE FUNCTION public.ucap_gin_twins_everywhere() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('ucap.gin_twins_running', 'on', true);
    PERFORM public.ucap_gin_twins_for_table(c.oid) FROM pg_class c WHERE c.relkind = 'r';
    PERFORM public.ucap_gin_twins_for_index(i.indexrelid) FROM pg_index i;
    PERFORM set_config('ucap.gin_twins_running', 'off', true);
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = 'ucap_gin_twins') THEN
        CREATE EVENT TRIGGER ucap_gin_twins ON ddl_command_end
            WHEN TAG IN ('CREATE TABLE', 'CREATE INDEX')
            EXECUTE FUNCTION public.ucap_gin_twins_on_ddl();
    END IF;
END
$$;

-- tables and indexes made before the trigger existed
SELECT public.ucap_gin_twins_everywhere();
"""
