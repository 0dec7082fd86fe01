-- Demo data for the example forum. Run as a superuser after the migrations:
--   psql -v ON_ERROR_STOP=1 -1 -f sql/demo_seed.sql
--
-- Accounts (email / password):
--   alice  alice@example.com  correct horse
--   bob    bob@example.com    battery staple
--   carol  carol@example.com  carol-password
--
-- Does nothing when alice already exists, so a second run is harmless.

do $$
declare
  alice integer;
  bob   integer;
  carol integer;
begin
  if exists (select 1 from app_public.users where username = 'alice') then
    raise notice 'demo data already present, nothing to do';
    return;
  end if;

  -- Through signup, so that the accounts get real bcrypt hashes.
  alice := (app_public.signup('alice', 'alice@example.com', 'correct horse')).user_id;
  bob   := (app_public.signup('bob',   'bob@example.com',   'battery staple')).user_id;
  carol := (app_public.signup('carol', 'carol@example.com', 'carol-password')).user_id;

  -- Distinct sign-up dates, so that ordering by createdAt is meaningful;
  -- carol keeps no display name (name is nullable).
  update app_public.users set name = 'Alice Liddell', created_at = now() - interval '10 days' where id = alice;
  update app_public.users set name = 'Bob Builder',   created_at = now() - interval '9 days'  where id = bob;
  update app_public.users set                         created_at = now() - interval '7 days'  where id = carol;

  insert into app_public.posts (author_id, title, body, published, created_at) values
    (alice, 'Hello, forum',        'First post! Glad to be here.',                         true,  now() - interval '9 days'),
    (alice, 'Down the rabbit hole', 'Notes on GraphQL connections and cursors.',            true,  now() - interval '6 days'),
    (alice, 'Unfinished thoughts', 'A draft only Alice can see.',                          false, now() - interval '1 day'),
    (bob,   'Can we fix it?',      'Yes we can: a short guide to row-level security.',     true,  now() - interval '8 days'),
    (bob,   'Tools of the trade',  null,                                                   true,  now() - interval '4 days'),
    (bob,   'Draft: scaffolding',  'Work in progress.',                                    false, now() - interval '2 days'),
    (carol, 'Introductions',       'Hi all, Carol here.',                                  true,  now() - interval '5 days'),
    (carol, 'Secret plans',        'Nobody but Carol should ever read this.',              false, now() - interval '3 days'),
    (carol, 'Another draft',       null,                                                   false, now() - interval '12 hours');
end
$$;
