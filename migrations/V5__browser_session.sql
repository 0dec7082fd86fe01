-- The browser session (docs/browser-session.md): short access tokens on every sign-in path,
-- refresh tokens bound to the browser's fingerprint, revocation checked once per request.
--
-- * signup/signin sign short access tokens (exp left null: the engine's --jwt-expires-in).
-- * signup_with_refresh starts a refreshable session, as signin_with_refresh does.
-- * The refresh token is marked @refreshToken: with --jwt-refresh-cookie the engine carries it
--   in an HttpOnly cookie (never in a body) and hands the incoming one to SQL as the
--   transaction-local setting request.refresh_token; refresh and signout read it when the
--   client sends no argument.
-- * A refresh token remembers the fingerprint hash of the browser it was issued to (the setting
--   request.fingerprint_hash, with --jwt-fingerprint); presented by another browser it is
--   treated as stolen, as reuse is: its whole family is revoked.
-- * The session-version check leaves the policies: app_private.check_session, run once per
--   request by --pre-request, refuses a revoked token with SQLSTATE PT401 (HTTP 401).

comment on column app_public.auth_tokens.refresh_token is
  E'@refreshToken\nThe refresh token: trade it for new tokens with `refresh`.';

alter table app_private.refresh_tokens add column fingerprint_hash text;
comment on column app_private.refresh_tokens.fingerprint_hash is
  'SHA-256 (hex) of the fingerprint cookie of the browser it was issued to; null without --jwt-fingerprint.';

-- A setting the engine gives the request, or null (unset reads back as '' on reused connections).
create function app_private.request_setting(name text) returns text
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select nullif(pg_catalog.current_setting(name, true), '')
$$;

-- The user id claim again, without the session-version lookup (check_session does that once).
create or replace function app_private.current_user_id() returns integer
  language sql stable
as $$
  select nullif(pg_catalog.current_setting('jwt.claims.user_id', true), '')::integer
$$;

-- The --pre-request check: an access token older than its user's session version (signed
-- before a signout_everywhere) is refused with 401 before anything runs.
create function app_private.check_session() returns void
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  claimed integer := nullif(pg_catalog.current_setting('jwt.claims.user_id', true), '')::integer;
  version integer := coalesce(
    nullif(pg_catalog.current_setting('jwt.claims.session_version', true), '')::integer, 1);
begin
  if claimed is not null and exists (
    select 1 from app_private.user_accounts a
     where a.user_id = claimed and a.session_version > version
  ) then
    raise exception 'this session was signed out; sign in again' using errcode = 'PT401';
  end if;
end;
$$;
comment on function app_private.check_session() is
  'Run before every request (--pre-request): refuses access tokens of a revoked session version (PT401).';
grant execute on function app_private.check_session() to app_anonymous, app_user;

-- Stores the browser's fingerprint hash with the token.
create or replace function app_private.issue_refresh_token(user_id integer, family uuid) returns text
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  token text := pg_catalog.encode(public.gen_random_bytes(32), 'hex');
begin
  insert into app_private.refresh_tokens (user_id, family, token_hash, expires_at, fingerprint_hash)
    values (issue_refresh_token.user_id, issue_refresh_token.family,
            public.digest(token, 'sha256'), now() + interval '30 days',
            app_private.request_setting('request.fingerprint_hash'));
  return token;
end;
$$;

create or replace function app_public.signup(username text, email text, password text)
  returns app_public.jwt_token
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  new_user_id integer;
begin
  if signup.password is null or char_length(signup.password) < 8 then
    raise exception 'password must be at least 8 characters long'
      using errcode = '22023';
  end if;
  if signup.email is null or signup.email !~ '^[^@[:space:]]+@[^@[:space:]]+$' then
    raise exception 'email must look like name@domain'
      using errcode = '22023';
  end if;
  insert into app_public.users (username)
    values (signup.username)
    returning id into new_user_id;
  insert into app_private.user_accounts (user_id, email, password_hash)
    values (new_user_id, signup.email, public.crypt(signup.password, public.gen_salt('bf')));
  return app_private.access_token(new_user_id);
end;
$$;

create or replace function app_public.signin(email text, password text)
  returns app_public.jwt_token
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  account app_private.user_accounts;
begin
  select a.* into account
    from app_private.user_accounts a
   where lower(a.email) = lower(signin.email);
  if account.user_id is not null
     and account.password_hash = public.crypt(signin.password, account.password_hash) then
    return app_private.access_token(account.user_id);
  end if;
  return null;
end;
$$;

create function app_public.signup_with_refresh(username text, email text, password text)
  returns app_public.auth_tokens
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  signed_up app_public.jwt_token := app_public.signup(username, email, password);
begin
  return row(signed_up,
             app_private.issue_refresh_token(signed_up.user_id, gen_random_uuid()))::app_public.auth_tokens;
end;
$$;
comment on function app_public.signup_with_refresh(text, text, text) is
  'Creates a user and signs them in: a short-lived access token and a refresh token.';
grant execute on function app_public.signup_with_refresh(text, text, text) to app_anonymous;

-- The refresh token comes as the argument or, when the client sends none, from the refresh
-- cookie (request.refresh_token).
drop function app_public.refresh(text);
create function app_public.refresh(refresh_token text default null)
  returns app_public.auth_tokens
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  presented text := coalesce(refresh.refresh_token,
                             app_private.request_setting('request.refresh_token'));
  browser text := app_private.request_setting('request.fingerprint_hash');
  old app_private.refresh_tokens;
begin
  select t.* into old
    from app_private.refresh_tokens t
   where t.token_hash = public.digest(presented, 'sha256')
     for update;
  -- Refused: no access token and an empty refresh token, which tells the engine to clear the
  -- refresh cookie (a null row, as a wrong password at sign-in gives, leaves the cookies alone).
  if old.id is null or old.expires_at <= now() then
    return row(null, '')::app_public.auth_tokens;
  end if;
  if old.revoked_at is not null
     or (old.fingerprint_hash is not null and old.fingerprint_hash is distinct from browser) then
    -- Reuse of a rotated token, or a token presented by another browser than the one it was
    -- issued to: someone holds a copy. Nobody of this sign-in may refresh any more. (A result,
    -- not an error, so that this revocation commits.)
    update app_private.refresh_tokens
       set revoked_at = now()
     where family = old.family and revoked_at is null;
    return row(null, '')::app_public.auth_tokens;
  end if;
  update app_private.refresh_tokens set revoked_at = now() where id = old.id;
  return row(app_private.access_token(old.user_id),
             app_private.issue_refresh_token(old.user_id, old.family))::app_public.auth_tokens;
end;
$$;
comment on function app_public.refresh(text) is
  'Trades a refresh token (the argument, or the refresh cookie) for a new access token and a new refresh token (the old one is revoked); no access token and an empty refresh token when it is not valid.';
grant execute on function app_public.refresh(text) to app_anonymous;

drop function app_public.signout(text);
create function app_public.signout(refresh_token text default null)
  returns app_public.jwt_token
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
  update app_private.refresh_tokens
     set revoked_at = now()
   where token_hash = public.digest(
           coalesce(signout.refresh_token, app_private.request_setting('request.refresh_token')),
           'sha256')
     and revoked_at is null;
  select null::app_public.jwt_token;
$$;
comment on function app_public.signout(text) is
  'Revokes this refresh token (the argument, or the refresh cookie); the null token clears the session''s cookies.';
grant execute on function app_public.signout(text) to app_anonymous;

-- v4's simple subscriptions: a new post is announced on topic `new_posts`, its node named, so
-- that `listen(topic: "new_posts") { relatedNode }` reads it under each subscriber's own role.
create function app_private.announce_post() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform pg_catalog.pg_notify('postgraphile:new_posts',
    pg_catalog.json_build_object('__node__', pg_catalog.json_build_array('posts', new.id))::text);
  return null;
end;
$$;
create trigger posts_announce after insert on app_public.posts
  for each row execute function app_private.announce_post();
