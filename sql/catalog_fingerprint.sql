-- `--watch` without event triggers: a cheap fingerprint of what introspection reads, polled.
-- A DDL statement writes new versions of the catalog rows it changes (stamped with its
-- transaction's xid, `xmin`) and a drop removes rows, so the count and the sum of xmin of each
-- catalog below change with any change to the exposed schemas: tables, columns, views,
-- functions, types, enum labels, constraints, comments (smart tags), grants (relacl, attacl,
-- proacl, nspacl) and role memberships. Reads no user data; indexes on the oids keep it cheap.
--
-- Parameter: $1::text[] -- the exposed schemas. Result: one text column.
with
exposed as (
  select n.oid, n.xmin from pg_catalog.pg_namespace n where n.nspname = any ($1::text[])
),
classes as (
  select c.oid, c.xmin from pg_catalog.pg_class c
  where c.relnamespace in (select oid from exposed)
),
types as (
  select t.oid, t.xmin from pg_catalog.pg_type t
  where t.typnamespace in (select oid from exposed)
)
select concat_ws(' ',
  (select count(*) || ':' || coalesce(sum(xmin::text::int8), 0) from exposed),
  (select count(*) || ':' || coalesce(sum(xmin::text::int8), 0) from classes),
  (select count(*) || ':' || coalesce(sum(a.xmin::text::int8), 0)
     from pg_catalog.pg_attribute a
     where a.attrelid in (select oid from classes) and a.attnum > 0),
  (select count(*) || ':' || coalesce(sum(xmin::text::int8), 0) from types),
  (select count(*) || ':' || coalesce(sum(e.xmin::text::int8), 0)
     from pg_catalog.pg_enum e where e.enumtypid in (select oid from types)),
  (select count(*) || ':' || coalesce(sum(p.xmin::text::int8), 0)
     from pg_catalog.pg_proc p where p.pronamespace in (select oid from exposed)),
  (select count(*) || ':' || coalesce(sum(k.xmin::text::int8), 0)
     from pg_catalog.pg_constraint k where k.connamespace in (select oid from exposed)),
  (select count(*) || ':' || coalesce(sum(d.xmin::text::int8), 0)
     from pg_catalog.pg_description d),
  (select count(*) || ':' || coalesce(sum(m.xmin::text::int8), 0)
     from pg_catalog.pg_auth_members m)
) as fingerprint
