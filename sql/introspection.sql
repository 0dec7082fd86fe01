-- postgraph introspection: the whole catalog the engine needs, in one statement.
--
-- Parameters: $1::text[] -- the names of the schemas to expose;
--             $2::bool   -- true: objects owned by an extension too (v4's
--                           --include-extension-resources).
-- Result:    one row, one column `catalog` (json), decoded by src/catalog/mod.rs.
--
-- Conventions:
--   * oids are cast to int8 so that they come out as JSON numbers
--     (to_json(oid) would produce strings);
--   * "char" columns (relkind, contype, typtype, ...) come out as 1-char strings,
--     the zero "char" (e.g. attidentity of a plain column) as "";
--   * every array is sorted by names (schema, then name), never by oid, so the
--     output is deterministic across databases with the same schema;
--   * objects owned by an extension (pg_depend deptype 'e') are skipped unless
--     $2 says otherwise.
with recursive

-- The connecting role and every role it is a member of (directly or not), as
-- PostGraphile v4 reads them: a privilege any of them holds counts, for
-- `--no-ignore-rbac`.
accessible_roles (oid) as (
  select r.oid from pg_catalog.pg_roles r where r.rolname = current_user
  union
  select m.roleid
  from accessible_roles a
  join pg_catalog.pg_auth_members m on m.member = a.oid
),

-- The namespaces to expose.
schemas as (
  select n.oid, n.nspname
  from pg_catalog.pg_namespace n
  where n.nspname = any ($1::text[])
),

-- Tables, views, materialized views, foreign tables, partitioned tables (and
-- their partitions: the schema builder exposes either, as v4's
-- usePartitionedParent says) and composite types of the exposed schemas.
exposed_classes as (
  select c.oid
  from pg_catalog.pg_class c
  join schemas s on s.oid = c.relnamespace
  where c.relkind in ('r', 'v', 'm', 'f', 'p', 'c')
    -- Not installed by an extension (a composite type's membership is
    -- recorded on its pg_type row, a table's on its pg_class row).
    and ($2::bool or not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
        and d.deptype = 'e'
    ))
    and ($2::bool or not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_type'::regclass and d.objid = c.reltype
        and d.deptype = 'e'
    ))
),

-- Plain functions (no procedures, aggregates or window functions) of the
-- exposed schemas.
exposed_procs as (
  select p.oid
  from pg_catalog.pg_proc p
  join schemas s on s.oid = p.pronamespace
  where p.prokind = 'f'
    -- As PostGraphile v4: no VARIADIC functions, no trigger functions, no functions
    -- taking a `record`, and `record` results only when OUT/INOUT/TABLE parameters
    -- describe them; names starting with `__` are private.
    and p.provariadic = 0
    and p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
    and (p.prorettype <> 'pg_catalog.record'::pg_catalog.regtype
         or p.proargmodes && array['o', 'b', 't']::"char"[])
    and (p.proallargtypes is null
         or not p.proallargtypes @> array['pg_catalog.record'::pg_catalog.regtype::oid])
    and p.proname not like '\_\_%'
    and ($2::bool or not exists (
      select 1 from pg_catalog.pg_depend d
      where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
        and d.deptype = 'e'
    ))
),

-- Types used directly by the exposed objects (column, argument and return
-- types), plus every type of the exposed schemas (including the row types of
-- the exposed classes). The GROUP BY (rather than UNION) keeps the planner's
-- row estimate, and so that of the recursion below, small: a bloated estimate
-- makes PostgreSQL JIT-compile this query, which costs seconds.
type_roots (oid) as (
  select used.oid
  from (
    select a.atttypid
    from pg_catalog.pg_attribute a
    join exposed_classes c on c.oid = a.attrelid
    where a.attnum > 0 and not a.attisdropped
    union all
    select p.prorettype
    from pg_catalog.pg_proc p
    join exposed_procs ep on ep.oid = p.oid
    union all
    select t.oid
    from pg_catalog.pg_proc p
    join exposed_procs ep on ep.oid = p.oid
    cross join lateral unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) as t (oid)
    union all
    select t.oid
    from pg_catalog.pg_type t
    join schemas s on s.oid = t.typnamespace
  ) as used (oid)
  group by used.oid
),

-- Type dependencies: array -> element type, domain -> base type, range -> its
-- subtype, standalone composite type -> attribute types. (pg_catalog arrays are left out: all of
-- pg_catalog is in the output anyway, and it references nothing else.)
type_edges (parent, child) as materialized (
  select t.oid, t.typelem
  from pg_catalog.pg_type t
  where t.typcategory = 'A' and t.typelem <> 0
    and t.typnamespace <> 'pg_catalog'::regnamespace
  union all
  select t.oid, t.typbasetype
  from pg_catalog.pg_type t
  where t.typtype = 'd'
  union all
  select r.rngtypid, r.rngsubtype
  from pg_catalog.pg_range r
  union all
  select c.reltype, a.atttypid
  from pg_catalog.pg_class c
  join pg_catalog.pg_attribute a on a.attrelid = c.oid
  where c.relkind = 'c' and a.attnum > 0 and not a.attisdropped
),

-- The closure of type_roots over type_edges.
referenced_types (oid) as (
  select oid from type_roots
  union
  select e.child
  from referenced_types r
  join type_edges e on e.parent = r.oid
),

-- The classes in the output: the exposed ones, plus the composite types that
-- they or the exposed functions reference (possibly from other schemas, e.g.
-- a function of app_public returning an app_private composite type).
all_classes as (
  select oid from exposed_classes
  union
  select c.oid
  from referenced_types r
  join pg_catalog.pg_type t on t.oid = r.oid
  join pg_catalog.pg_class c on c.oid = t.typrelid
  where c.relkind = 'c'
),

-- All types in the output: pg_catalog plus the closure above.
all_types as (
  select t.oid
  from pg_catalog.pg_type t
  where t.typnamespace = 'pg_catalog'::regnamespace
  union
  select oid from referenced_types
),

class_rows as (
  select
    n.nspname,
    c.relname,
    json_build_object(
      'oid', c.oid::int8,
      'schema', n.nspname,
      'name', c.relname,
      'kind', c.relkind::text,
      'is_partition', c.relispartition,
      -- COMMENT ON TYPE of a composite type lands on its pg_type row.
      'comment', coalesce(d.description, td.description),
      'type_oid', c.reltype::int8,
      -- Table-level privileges (column grants are on the attributes); composite
      -- types have none.
      'acl_select', c.relkind = 'c' or exists (select 1 from accessible_roles r
        where pg_catalog.has_table_privilege(r.oid, c.oid, 'SELECT')),
      'acl_insert', c.relkind = 'c' or exists (select 1 from accessible_roles r
        where pg_catalog.has_table_privilege(r.oid, c.oid, 'INSERT')),
      'acl_update', c.relkind = 'c' or exists (select 1 from accessible_roles r
        where pg_catalog.has_table_privilege(r.oid, c.oid, 'UPDATE')),
      'acl_delete', c.relkind = 'c' or exists (select 1 from accessible_roles r
        where pg_catalog.has_table_privilege(r.oid, c.oid, 'DELETE')),
      -- What Postgres allows (auto-updatable views, INSTEAD OF triggers or rules), read
      -- as PostGraphile v4 does: bits INSERT 8, UPDATE 4, DELETE 16.
      'insertable', pg_catalog.pg_relation_is_updatable(c.oid, true) & 8 = 8,
      'updatable', pg_catalog.pg_relation_is_updatable(c.oid, true) & 4 = 4,
      'deletable', pg_catalog.pg_relation_is_updatable(c.oid, true) & 16 = 16,
      -- The columns of each index, by number (0: an expression), for v4's
      -- --no-ignore-indexes.
      'indexes', (
        select coalesce(json_agg(i.indkey::int2[] order by i.indkey::int2[]), '[]'::json)
        from pg_catalog.pg_index i
        where i.indrelid = c.oid
      ),
      'attributes', (
        select coalesce(json_agg(json_build_object(
            'num', a.attnum,
            'name', a.attname,
            'type_oid', a.atttypid::int8,
            'type_modifier', a.atttypmod,
            'not_null', a.attnotnull,
            'has_default', a.atthasdef or a.attidentity <> '' or a.attgenerated <> '',
            'identity', a.attidentity::text,
            'generated', a.attgenerated::text,
            'comment', ad.description,
            'acl_select', exists (select 1 from accessible_roles r
              where pg_catalog.has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')),
            'acl_insert', exists (select 1 from accessible_roles r
              where pg_catalog.has_column_privilege(r.oid, c.oid, a.attnum, 'INSERT')),
            'acl_update', exists (select 1 from accessible_roles r
              where pg_catalog.has_column_privilege(r.oid, c.oid, a.attnum, 'UPDATE'))
          ) order by a.attnum), '[]'::json)
        from pg_catalog.pg_attribute a
        left join pg_catalog.pg_description ad
          on ad.objoid = a.attrelid
         and ad.classoid = 'pg_catalog.pg_class'::regclass
         and ad.objsubid = a.attnum
        where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      )
    ) as obj
  from all_classes ac
  join pg_catalog.pg_class c on c.oid = ac.oid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_description d
    on d.objoid = c.oid
   and d.classoid = 'pg_catalog.pg_class'::regclass
   and d.objsubid = 0
  left join pg_catalog.pg_description td
    on td.objoid = c.reltype
   and td.classoid = 'pg_catalog.pg_type'::regclass
   and td.objsubid = 0
   and c.relkind = 'c'
),

-- Primary key, unique, foreign key and check constraints of the classes.
-- Constraints cloned from a parent constraint (conparentid <> 0) are skipped
-- (e.g. the per-partition rows of a foreign key to a partitioned table), but
-- for a partition's own copies of its parent's keys.
constraint_rows as (
  select
    n.nspname,
    c.relname,
    con.conname,
    json_build_object(
      'name', con.conname,
      'class_oid', con.conrelid::int8,
      'kind', con.contype::text,
      'keys', coalesce(to_json(con.conkey), '[]'::json),
      'foreign_class_oid', nullif(con.confrelid, 0)::int8,
      'foreign_keys', coalesce(to_json(con.confkey), '[]'::json),
      'comment', d.description
    ) as obj
  from pg_catalog.pg_constraint con
  join all_classes ac on ac.oid = con.conrelid
  join pg_catalog.pg_class c on c.oid = con.conrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_description d
    on d.objoid = con.oid
   and d.classoid = 'pg_catalog.pg_constraint'::regclass
   and d.objsubid = 0
  where con.contype in ('p', 'u', 'f', 'c')
    and (con.conparentid = 0 or c.relispartition)
),

proc_rows as (
  select
    n.nspname,
    p.proname,
    pg_catalog.pg_get_function_identity_arguments(p.oid) as identity_args,
    json_build_object(
      'oid', p.oid::int8,
      'schema', n.nspname,
      'name', p.proname,
      'comment', d.description,
      -- Names of the input (IN, INOUT, VARIADIC) arguments, aligned with
      -- arg_types; proargnames covers all arguments when proargmodes is set.
      'arg_names', coalesce((
        select json_agg(arg.name order by arg.ord)
        from unnest(p.proargnames, p.proargmodes) with ordinality as arg (name, mode, ord)
        where arg.name is not null and coalesce(arg.mode, 'i') in ('i', 'b', 'v')
      ), '[]'::json),
      -- Names of all arguments, outputs included (aligned with all_arg_types).
      'all_arg_names', coalesce(to_json(p.proargnames), '[]'::json),
      'arg_types', to_json(p.proargtypes::oid[]::int8[]),
      'arg_modes', coalesce(to_json(p.proargmodes), '[]'::json),
      'all_arg_types', to_json(p.proallargtypes::int8[]),
      'num_defaults', p.pronargdefaults,
      'return_type_oid', p.prorettype::int8,
      'returns_set', p.proretset,
      'volatility', p.provolatile::text,
      'is_strict', p.proisstrict,
      'security_definer', p.prosecdef,
      'acl_execute', exists (select 1 from accessible_roles r
        where pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE')),
      'language', l.lanname
    ) as obj
  from exposed_procs ep
  join pg_catalog.pg_proc p on p.oid = ep.oid
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  join pg_catalog.pg_language l on l.oid = p.prolang
  left join pg_catalog.pg_description d
    on d.objoid = p.oid
   and d.classoid = 'pg_catalog.pg_proc'::regclass
   and d.objsubid = 0
),

-- Enum labels, in declaration order.
enum_labels as (
  select e.enumtypid, json_agg(e.enumlabel order by e.enumsortorder) as labels
  from pg_catalog.pg_enum e
  group by e.enumtypid
),

type_rows as (
  select
    n.nspname,
    t.typname,
    json_build_object(
      'oid', t.oid::int8,
      'schema', n.nspname,
      'name', t.typname,
      'kind', t.typtype::text,
      'category', t.typcategory::text,
      'elem_oid', case when t.typcategory = 'A' then nullif(t.typelem, 0)::int8 end,
      'array_oid', nullif(t.typarray, 0)::int8,
      'base_oid', case when t.typtype = 'd' then t.typbasetype::int8 end,
      'range_sub_oid', (select r.rngsubtype::int8 from pg_catalog.pg_range r where r.rngtypid = t.oid),
      'class_oid', case when t.typtype = 'c' then nullif(t.typrelid, 0)::int8 end,
      'enum_values', coalesce(el.labels, '[]'::json),
      'comment', d.description,
      'not_null', t.typnotnull
    ) as obj
  from all_types ty
  join pg_catalog.pg_type t on t.oid = ty.oid
  join pg_catalog.pg_namespace n on n.oid = t.typnamespace
  left join enum_labels el on el.enumtypid = t.oid
  left join pg_catalog.pg_description d
    on d.objoid = t.oid
   and d.classoid = 'pg_catalog.pg_type'::regclass
   and d.objsubid = 0
)

select json_build_object(
  'classes', (
    select coalesce(json_agg(obj order by nspname, relname), '[]'::json)
    from class_rows
  ),
  'constraints', (
    select coalesce(json_agg(obj order by nspname, relname, conname), '[]'::json)
    from constraint_rows
  ),
  'procs', (
    select coalesce(json_agg(obj order by nspname, proname, identity_args), '[]'::json)
    from proc_rows
  ),
  'types', (
    select coalesce(json_agg(obj order by nspname, typname), '[]'::json)
    from type_rows
  ),
  -- Roles a token's role claim may name: those the current user may switch to with
  -- SET ROLE, except itself, superusers, BYPASSRLS roles and roles with the privileges of
  -- an exposed relation's owner (owners bypass row-level security).
  'roles', (
    select coalesce(json_agg(r.rolname order by r.rolname), '[]'::json)
    from pg_catalog.pg_roles r
    -- PostgreSQL 16 separates membership from the right to SET ROLE (GRANT ... WITH SET
    -- FALSE); before 16 every member may SET ROLE. The branch not taken is never evaluated.
    where case
        when pg_catalog.current_setting('server_version_num')::int >= 160000
          then pg_catalog.pg_has_role(current_user, r.oid, 'set')
        else pg_catalog.pg_has_role(current_user, r.oid, 'member')
      end
      and r.rolname <> current_user
      and not r.rolsuper
      and not r.rolbypassrls
      and not exists (
        select 1
        from pg_catalog.pg_class c
        join schemas s on s.oid = c.relnamespace
        where c.relkind in ('r', 'v', 'm', 'f', 'p')
          and pg_catalog.pg_has_role(r.oid, c.relowner, 'usage')
      )
  ),
  'server_version_num', pg_catalog.current_setting('server_version_num')::int
) as catalog
