-- Roles, schemas, extensions and default privileges of the example forum app.
--
-- Roles are cluster-wide while everything else here is per database, and one
-- cluster may hold several databases migrated with these same files (test
-- templates, `postgraph migrate` on a shared cluster): roles are therefore
-- created only when missing, tolerating a concurrent migration creating them.

do $$
declare
  r text;
begin
  foreach r in array array['app_anonymous', 'app_user', 'app_authenticator'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      begin
        execute format('create role %I', r);
      exception when duplicate_object or unique_violation then
        null; -- created by a concurrent migration in another database
      end;
    end if;
  end loop;
end
$$;

-- Enforce the attributes even when the roles already existed.
alter role app_anonymous nologin;
alter role app_user nologin;
-- The engine connects as app_authenticator and switches to the role of the
-- request (set_config('role', ...)); NOINHERIT so that it has no privileges
-- of its own before switching.
alter role app_authenticator login noinherit;

-- A signed-in user can do everything an anonymous visitor can.
grant app_anonymous to app_user;
grant app_anonymous, app_user to app_authenticator;

-- Before the default privileges below, so that pgcrypto's own functions keep
-- their usual public EXECUTE.
create extension if not exists pgcrypto with schema public;

-- Functions created from here on (by the migrating role, in this database)
-- are not world-executable: each one is granted explicitly.
alter default privileges revoke execute on functions from public;

create schema app_public;
comment on schema app_public is 'Objects exposed through GraphQL.';

create schema app_private;
comment on schema app_private is 'Internals that GraphQL does not expose (credentials, helpers).';

grant usage on schema app_public to app_anonymous, app_user;
-- Policies and column defaults call app_private.current_user_id() as the
-- invoking role, which therefore needs usage on the schema (and execute on
-- that function only; the tables stay ungranted).
grant usage on schema app_private to app_anonymous, app_user;

-- The signed-in user, from the JWT claim the engine sets per transaction.
-- On a reused connection an unset custom setting reads back as '' rather than
-- NULL, hence the nullif. Plain SQL without SET so that it can be inlined.
create function app_private.current_user_id() returns integer
  language sql stable
as $$
  select nullif(pg_catalog.current_setting('jwt.claims.user_id', true), '')::integer
$$;
comment on function app_private.current_user_id() is
  'Id of the signed-in user (claim jwt.claims.user_id), or null when anonymous.';
grant execute on function app_private.current_user_id() to app_anonymous, app_user;
