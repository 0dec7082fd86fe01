-- Refresh tokens, sign-out and sign-out everywhere, in SQL: the engine signs and verifies
-- short-lived access tokens; what must outlive them lives here.
--
-- * A refresh token is 32 random bytes (hex), handed out once; only its SHA-256 is stored.
-- * Every use rotates it (the old one is revoked, a new one of the same family issued); a
--   revoked one presented again means a copy exists somewhere: its whole family is revoked.
-- * Access tokens carry session_version; signout_everywhere bumps the user's version, and
--   current_user_id() (used by every policy) no longer recognises older tokens.

create table app_private.refresh_tokens (
  id         bigserial primary key,
  user_id    integer not null references app_public.users (id) on delete cascade,
  family     uuid not null,
  token_hash bytea not null unique,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_user_id_idx on app_private.refresh_tokens (user_id);
create index refresh_tokens_family_idx on app_private.refresh_tokens (family);
comment on table app_private.refresh_tokens is
  'Refresh tokens by SHA-256 (never the token itself); a family is one sign-in and its rotations.';

alter table app_private.user_accounts
  add column session_version integer not null default 1;

alter type app_public.jwt_token add attribute session_version integer;
comment on column app_public.jwt_token.session_version is
  'The user''s session version when signed; older ones are revoked (signout_everywhere).';

create type app_public.auth_tokens as (
  access_token  app_public.jwt_token,
  refresh_token text
);
comment on type app_public.auth_tokens is
  'A short-lived access token (signed by the engine) and the refresh token that renews it.';

-- The signed-in user, unless the token's session version has been revoked. SECURITY DEFINER
-- to read the accounts table the caller cannot; no longer inlined, so each evaluation costs
-- one primary-key lookup. A token without session_version counts as version 1.
create or replace function app_private.current_user_id() returns integer
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select case
    when exists (
      select 1 from app_private.user_accounts a
       where a.user_id = claim.id
         and a.session_version > coalesce(
           nullif(pg_catalog.current_setting('jwt.claims.session_version', true), '')::integer, 1))
    then null
    else claim.id
  end
  from (select nullif(pg_catalog.current_setting('jwt.claims.user_id', true), '')::integer as id) as claim
$$;

-- An access token for the user: exp left null, so the engine's --jwt-expires-in applies.
create function app_private.access_token(user_id integer) returns app_public.jwt_token
  language sql stable security definer
  set search_path = pg_catalog, pg_temp
as $$
  select row('app_user', a.user_id, null, a.session_version)::app_public.jwt_token
    from app_private.user_accounts a
   where a.user_id = access_token.user_id
$$;

-- A new refresh token of `family`, valid 30 days; returns the token (stored as its hash).
create function app_private.issue_refresh_token(user_id integer, family uuid) returns text
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  token text := pg_catalog.encode(public.gen_random_bytes(32), 'hex');
begin
  insert into app_private.refresh_tokens (user_id, family, token_hash, expires_at)
    values (issue_refresh_token.user_id, issue_refresh_token.family,
            public.digest(token, 'sha256'), now() + interval '30 days');
  return token;
end;
$$;

-- The existing sign-up and sign-in keep returning one (7-day) token, now with the version.
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
  return row('app_user', new_user_id,
             extract(epoch from now() + interval '7 days')::bigint, 1)::app_public.jwt_token;
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
    return row('app_user', account.user_id,
               extract(epoch from now() + interval '7 days')::bigint,
               account.session_version)::app_public.jwt_token;
  end if;
  return null;
end;
$$;

create function app_public.signin_with_refresh(email text, password text)
  returns app_public.auth_tokens
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  signed_in app_public.jwt_token := app_public.signin(email, password);
begin
  if signed_in.user_id is null then
    return null;
  end if;
  return row(app_private.access_token(signed_in.user_id),
             app_private.issue_refresh_token(signed_in.user_id, gen_random_uuid()))::app_public.auth_tokens;
end;
$$;
comment on function app_public.signin_with_refresh(text, text) is
  'Signs in: a short-lived access token and a refresh token, or null when the email or the password is wrong.';

create function app_public.refresh(refresh_token text)
  returns app_public.auth_tokens
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  old app_private.refresh_tokens;
begin
  select t.* into old
    from app_private.refresh_tokens t
   where t.token_hash = public.digest(refresh.refresh_token, 'sha256')
     for update;
  if old.id is null or old.expires_at <= now() then
    return null;
  end if;
  if old.revoked_at is not null then
    -- Reuse of a rotated or revoked token: someone holds a copy. Nobody of this sign-in may
    -- refresh any more. (A null result, not an error, so that this revocation commits.)
    update app_private.refresh_tokens
       set revoked_at = now()
     where family = old.family and revoked_at is null;
    return null;
  end if;
  update app_private.refresh_tokens set revoked_at = now() where id = old.id;
  return row(app_private.access_token(old.user_id),
             app_private.issue_refresh_token(old.user_id, old.family))::app_public.auth_tokens;
end;
$$;
comment on function app_public.refresh(text) is
  'Trades a refresh token for a new access token and a new refresh token (the old one is revoked); null when it is not valid.';

create function app_public.signout(refresh_token text)
  returns app_public.jwt_token
  language sql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
  update app_private.refresh_tokens
     set revoked_at = now()
   where token_hash = public.digest(signout.refresh_token, 'sha256') and revoked_at is null;
  select null::app_public.jwt_token;
$$;
comment on function app_public.signout(text) is
  'Revokes this refresh token; the null token clears the token cookie.';

create function app_public.signout_everywhere()
  returns app_public.jwt_token
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  me integer := app_private.current_user_id();
begin
  if me is null then
    raise exception 'sign in to sign out everywhere' using errcode = '28000';
  end if;
  update app_private.refresh_tokens
     set revoked_at = now()
   where user_id = me and revoked_at is null;
  update app_private.user_accounts
     set session_version = session_version + 1
   where user_id = me;
  return null;
end;
$$;
comment on function app_public.signout_everywhere() is
  'Revokes every refresh token and every access token of the signed-in user.';

revoke execute on function app_private.access_token(integer) from public;
revoke execute on function app_private.issue_refresh_token(integer, uuid) from public;
grant execute on function app_public.signin_with_refresh(text, text) to app_anonymous;
grant execute on function app_public.refresh(text) to app_anonymous;
grant execute on function app_public.signout(text) to app_anonymous;
grant execute on function app_public.signout_everywhere() to app_user;

-- current_user_id() now reads a row, and a function call in a policy runs once per row it
-- checks: as a scalar subquery Postgres runs it once per statement (an InitPlan) instead.
alter policy users_update_self on app_public.users
  using (id = (select app_private.current_user_id()))
  with check (id = (select app_private.current_user_id()));
alter policy posts_select_published_or_own on app_public.posts
  using (published or author_id = (select app_private.current_user_id()));
alter policy posts_insert_own on app_public.posts
  with check (author_id = (select app_private.current_user_id()));
alter policy posts_update_own on app_public.posts
  using (author_id = (select app_private.current_user_id()))
  with check (author_id = (select app_private.current_user_id()));
alter policy posts_delete_own on app_public.posts
  using (author_id = (select app_private.current_user_id()));
