-- The forum: users, their credentials, posts, authentication functions,
-- row-level security and grants.

-------------------------------------------------------------------------------
-- Tables

create table app_public.users (
  id         serial primary key,
  username   text not null unique
             constraint users_username_format
             check (username ~ '^[A-Za-z][A-Za-z0-9_]{2,23}$'),
  name       text,
  created_at timestamptz not null default now()
);
comment on table app_public.users is 'A member of the forum.';
comment on column app_public.users.id is 'The primary key of the user.';
comment on column app_public.users.username is
  'Unique public handle: 3 to 24 letters, digits or underscores, starting with a letter.';
comment on column app_public.users.name is 'The display name of the user.';
comment on column app_public.users.created_at is 'When the user signed up.';

-- Credentials live apart from the exposed users table so that nothing in
-- app_public can ever leak them.
create table app_private.user_accounts (
  user_id       integer primary key references app_public.users (id) on delete cascade,
  email         text not null
                constraint user_accounts_email_format
                check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  password_hash text not null
);
-- Emails are unique regardless of case; signin compares them the same way.
create unique index user_accounts_email_key on app_private.user_accounts (lower(email));

create table app_public.posts (
  id         serial primary key,
  -- Defaults to the signed-in user so that createPost needs no authorId.
  author_id  integer not null default app_private.current_user_id()
             references app_public.users (id) on delete cascade,
  title      text not null,
  body       text,
  published  boolean not null default false,
  created_at timestamptz not null default now()
);
-- Foreign keys are not indexed automatically; postsByAuthorId and the
-- policies filter on it.
create index posts_author_id_idx on app_public.posts (author_id);
comment on table app_public.posts is 'A post written by a user; drafts are visible to their author only.';
comment on column app_public.posts.id is 'The primary key of the post.';
comment on column app_public.posts.author_id is 'The author of the post; defaults to the signed-in user.';
comment on column app_public.posts.title is 'The title of the post.';
comment on column app_public.posts.body is 'The text of the post.';
comment on column app_public.posts.published is 'Whether everyone can see the post (otherwise only its author).';
comment on column app_public.posts.created_at is 'When the post was created.';

-------------------------------------------------------------------------------
-- Authentication

create type app_public.jwt_token as (
  role    text,
  user_id integer,
  exp     bigint
);
comment on type app_public.jwt_token is 'A JSON Web Token identifying a user; its attributes are the claims.';
comment on column app_public.jwt_token.role is 'The database role the request runs as.';
comment on column app_public.jwt_token.user_id is 'The id of the signed-in user.';
comment on column app_public.jwt_token.exp is 'Expiry, in seconds since the Unix epoch.';

-- SECURITY DEFINER: writes tables the caller cannot touch. search_path is
-- pinned and every name is qualified so that callers cannot substitute objects.
create function app_public.signup(username text, email text, password text)
  returns app_public.jwt_token
  language plpgsql volatile security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  new_user_id integer;
begin
  if signup.password is null or char_length(signup.password) < 8 then
    raise exception 'password must be at least 8 characters long'
      using errcode = '22023'; -- invalid_parameter_value
  end if;
  -- Checked here as well as by the table constraint, whose error detail would
  -- show the failing row, password hash included.
  if signup.email is null or signup.email !~ '^[^@[:space:]]+@[^@[:space:]]+$' then
    raise exception 'email must look like name@domain'
      using errcode = '22023';
  end if;

  -- A taken username or email raises unique_violation (23505) naming
  -- users_username_key or user_accounts_email_key.
  insert into app_public.users (username)
    values (signup.username)
    returning id into new_user_id;

  insert into app_private.user_accounts (user_id, email, password_hash)
    values (new_user_id, signup.email, public.crypt(signup.password, public.gen_salt('bf')));

  return row('app_user', new_user_id,
             extract(epoch from now() + interval '7 days')::bigint)::app_public.jwt_token;
end;
$$;
comment on function app_public.signup(text, text, text) is
  'Creates a user with an email and a password (at least 8 characters) and returns a token signing them in.';

create function app_public.signin(email text, password text)
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
               extract(epoch from now() + interval '7 days')::bigint)::app_public.jwt_token;
  end if;

  -- Unknown email and wrong password look the same: a null token.
  return null;
end;
$$;
comment on function app_public.signin(text, text) is
  'Returns a token signing the user in, or null when the email or the password is wrong.';

create function app_public.me() returns app_public.users
  language sql stable
as $$
  select u.* from app_public.users u where u.id = app_private.current_user_id()
$$;
comment on function app_public.me() is 'The signed-in user, or null when anonymous.';

-- Default privileges (V1) already withhold execute from public; repeated here
-- for the SECURITY DEFINER functions, where it matters most.
revoke execute on function app_public.signup(text, text, text) from public;
revoke execute on function app_public.signin(text, text) from public;
revoke execute on function app_public.me() from public;
grant execute on function app_public.signup(text, text, text) to app_anonymous;
grant execute on function app_public.signin(text, text) to app_anonymous;
grant execute on function app_public.me() to app_anonymous;

-------------------------------------------------------------------------------
-- Row-level security and grants. Policies for app_anonymous apply to
-- app_user as well, through membership.

alter table app_public.users enable row level security;

create policy users_select_all on app_public.users
  for select to app_anonymous
  using (true);
create policy users_update_self on app_public.users
  for update to app_user
  using (id = app_private.current_user_id())
  with check (id = app_private.current_user_id());

grant select on app_public.users to app_anonymous;
grant update (name) on app_public.users to app_user;

alter table app_public.posts enable row level security;

create policy posts_select_published_or_own on app_public.posts
  for select to app_anonymous
  using (published or author_id = app_private.current_user_id());
create policy posts_insert_own on app_public.posts
  for insert to app_user
  with check (author_id = app_private.current_user_id());
create policy posts_update_own on app_public.posts
  for update to app_user
  using (author_id = app_private.current_user_id())
  with check (author_id = app_private.current_user_id());
create policy posts_delete_own on app_public.posts
  for delete to app_user
  using (author_id = app_private.current_user_id());

grant select on app_public.posts to app_anonymous;
grant insert (title, body, published, author_id),
      update (title, body, published),
      delete
   on app_public.posts to app_user;
grant usage on sequence app_public.posts_id_seq to app_user;
