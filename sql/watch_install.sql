-- `--watch`: event triggers that tell postgraph about DDL, installed once per database (by the
-- connecting role when it may, else through --owner-connection; event triggers need a
-- superuser). After a statement that may change the API, `postgraph_watch.notify()` sends
-- NOTIFY postgraph_watch with the command tag; every postgraph with --watch LISTENs on that
-- channel and rebuilds its schema, several statements in quick succession giving one rebuild.
-- Safe to run again (every instance with --watch does so at start); the advisory lock keeps two
-- instances starting together from dropping each other's triggers mid-way.
select pg_advisory_xact_lock(hashtext('postgraph_watch'));
create schema if not exists postgraph_watch;
comment on schema postgraph_watch is 'postgraph --watch: event triggers that NOTIFY postgraph_watch after DDL';
create or replace function postgraph_watch.notify() returns event_trigger
language plpgsql as $$
begin
  perform pg_notify('postgraph_watch', tg_tag);
end
$$;
drop event trigger if exists postgraph_watch_ddl;
create event trigger postgraph_watch_ddl on ddl_command_end
  when tag in (
    'ALTER AGGREGATE', 'ALTER DOMAIN', 'ALTER EXTENSION', 'ALTER FOREIGN TABLE',
    'ALTER FUNCTION', 'ALTER MATERIALIZED VIEW', 'ALTER POLICY', 'ALTER PROCEDURE',
    'ALTER SCHEMA', 'ALTER TABLE', 'ALTER TYPE', 'ALTER VIEW', 'COMMENT', 'CREATE AGGREGATE',
    'CREATE DOMAIN', 'CREATE EXTENSION', 'CREATE FOREIGN TABLE', 'CREATE FUNCTION',
    'CREATE INDEX', 'CREATE MATERIALIZED VIEW', 'CREATE POLICY', 'CREATE PROCEDURE',
    'CREATE RULE', 'CREATE SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'CREATE TYPE',
    'CREATE VIEW', 'GRANT', 'REVOKE', 'SELECT INTO')
  execute function postgraph_watch.notify();
drop event trigger if exists postgraph_watch_drop;
create event trigger postgraph_watch_drop on sql_drop
  execute function postgraph_watch.notify();
