-- A generated database of N tables for the startup benchmark and the scale tests, shaped like
-- the databases of issue 23: each table has a primary key, 5-12 columns of mixed types, one or
-- two foreign keys to one of the `spread` tables before it, a unique constraint and a comment;
-- every tenth table adds a view and a function. `spread` = 1 makes every table reference the
-- one right before it: a relation chain N tables deep.
--
-- Usage (as a role that may create schemas), outside a transaction block:
--   <this file>; call gen.generate(20000, 50);
-- The procedure commits every 200 tables: one transaction creating them all would need more
-- locks than a default server has room for.
create schema if not exists gen;
create type gen.status as enum ('draft', 'active', 'archived');

create or replace procedure gen.generate(n integer, spread integer default 50)
language plpgsql as $$
declare
  types constant text[] := array['integer', 'text', 'numeric(12, 2)', 'timestamptz',
    'boolean', 'jsonb', 'uuid', 'gen.status', 'bigint', 'date'];
  ddl text;
  ref integer;
begin
  for i in 1..n loop
    ddl := format('create table gen.t%s (id serial primary key, name text not null, '
      'code text, created_at timestamptz not null default now()', i);
    for c in 1..(1 + (i * 7) % 8) loop
      ddl := ddl || format(', c%s %s', c, types[1 + (i + c) % array_length(types, 1)]);
    end loop;
    if i > 1 then
      ref := i - 1 - (i * 31) % least(spread, i - 1);
      ddl := ddl || format(', t%s_id integer references gen.t%s (id)', ref, ref);
    end if;
    if i > 2 and i % 3 = 0 then
      ref := i - 1 - (i * 17) % least(spread, i - 1);
      ddl := ddl || format(', other_t%s_id integer references gen.t%s (id)', ref, ref);
    end if;
    ddl := ddl || format(', constraint t%s_code_key unique (code))', i);
    execute ddl;
    execute format('comment on table gen.t%s is %L', i, 'Generated table number ' || i);
    if i % 10 = 0 then
      execute format('create view gen.v%s as select id, name, code from gen.t%s', i, i);
      execute format('create function gen.f%s(after integer) returns setof gen.t%s '
        'language sql stable as %L', i, i,
        format('select * from gen.t%s where id > after order by id', i));
    end if;
    if i % 200 = 0 then
      commit;
    end if;
  end loop;
end
$$;
