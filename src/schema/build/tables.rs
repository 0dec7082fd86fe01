//! Which tables, views and composite types are exposed, with their columns, keys and
//! relations (constraints and `@primaryKey`/`@unique`/`@foreignKey` smart tags).

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn collect_tables(&mut self) -> Result<(), BuildError> {
        let cat = self.catalog;
        let mut wanted: Vec<&Class> = cat
            .classes
            .iter()
            .filter(|c| self.exposed(&c.schema) && c.kind != "c")
            // Partitions, or their partitioned table (`--use-partitioned-parent`), as v4.
            .filter(|c| {
                if self.opts.flags.use_partitioned_parent {
                    !c.is_partition
                } else {
                    c.kind != "p"
                }
            })
            .collect();
        // Composite types become object types when a function or a column uses them (through
        // arrays and domains too), or they are the JWT type.
        let mut composite_oids: BTreeSet<u32> = BTreeSet::new();
        let used = cat
            .procs
            .iter()
            .filter(|p| self.exposed(&p.schema))
            .flat_map(|p| {
                p.arg_types
                    .iter()
                    .chain(std::iter::once(&p.return_type_oid))
            })
            .chain(
                wanted
                    .iter()
                    .flat_map(|c| c.attributes.iter().map(|a| &a.type_oid)),
            );
        // Domains over a composite type on the way: each is an object type of its own (v4).
        let mut composite_domains: BTreeSet<(u32, u32)> = BTreeSet::new();
        for oid in used {
            let mut t = cat.type_(*oid);
            let mut domains = vec![];
            while let Some(next) =
                t.and_then(|t| t.elem_oid.filter(|_| t.category == "A").or(t.base_oid))
            {
                if let Some(d) = t.filter(|t| t.kind == "d") {
                    domains.push(d.oid);
                }
                t = cat.type_(next);
            }
            if let Some(class_oid) = t.and_then(|t| t.class_oid) {
                composite_oids.insert(class_oid);
                composite_domains.extend(domains.into_iter().map(|d| (d, class_oid)));
            }
        }
        if let Some((s, n)) = &self.opts.jwt_type {
            let t = cat
                .types
                .iter()
                .find(|t| t.schema == *s && t.name == *n && t.class_oid.is_some());
            match t {
                Some(t) => {
                    composite_oids.insert(t.class_oid.unwrap_or_default());
                }
                None => return Err(BuildError::JwtTypeNotFound(format!("{s}.{n}"))),
            }
        }
        for c in cat
            .classes
            .iter()
            .filter(|c| c.kind == "c" && composite_oids.contains(&c.oid))
        {
            wanted.push(c);
        }
        for class in wanted {
            let kind = class.kind.chars().next().unwrap_or('r');
            let tags = tags::parse(class.comment.as_deref());
            let is_jwt = matches!(&self.opts.jwt_type, Some((s, n)) if *s == class.schema && *n == class.name);
            let owner = format!("{} {}.{}", class_kind(kind), class.schema, class.name);
            let mut omit = rbac::updatability(class, tags.omit());
            if self.opts.flags.no_ignore_rbac {
                omit = rbac::table(class, omit);
            }
            if omit.whole && !is_jwt {
                tracing::debug!("{owner} left out: @omit");
                continue;
            }
            if cat.is_enum_table(class.oid) {
                tracing::debug!("{owner} left out: an `@enum` table is a GraphQL enum");
                continue;
            }
            let inflect_name = tags.value("name").unwrap_or(&class.name).to_string();
            // Composite types are named like tables, singular (`auth_tokens` → `AuthToken`), as v4.
            let type_name = inflect::table_type(&inflect_name);
            if !inflect::is_valid_name(&type_name) {
                tracing::warn!("{owner} left out: `{type_name}` is not a valid GraphQL name; rename it with a `@name` smart comment");
                continue;
            }
            for fk in tags.values("foreignKey") {
                match tags::foreign_key(fk) {
                    Some(fk) => self.tag_foreign_keys.push((class.oid, fk)),
                    None => tracing::warn!("{owner}: cannot read `@foreignKey {fk}`; expected `(col, ...) references schema.table (col, ...)`"),
                }
            }
            let wanted_names = names::table_type_names(&inflect_name, &type_name, kind);
            if !is_jwt {
                if let Err((name, holder)) = names::claim(&mut self.claimed, &wanted_names, &owner)
                {
                    tracing::warn!(
                        "{owner} left out: its GraphQL type `{name}` is already taken by {holder}; \
                         rename it with a `@name` smart comment or hide it with `@omit`"
                    );
                    continue;
                }
            }
            let idx = self.model.tables.len();
            self.class_table.insert(class.oid, idx);
            self.model.tables.push(Table {
                oid: class.oid,
                schema: class.schema.clone(),
                name: class.name.clone(),
                kind,
                type_name,
                inflect_name,
                omit,
                node_identifier: inflect::node_identifier(&class.name),
                columns: vec![],
                primary_key: None,
                unique_keys: vec![],
                simple_collections: tags.simple_collections(),
                tag_keys: vec![],
                view_unique_key: None,
                aggregates: match tags.value("aggregates") {
                    Some("off") => false,
                    Some("on") => true,
                    _ => !self.opts.flags.aggregates_opt_in,
                },
            });
        }
        for (domain, class_oid) in composite_domains {
            self.add_composite_domain(domain, class_oid);
        }
        // Columns need every table known first (a column may hold another table's row type).
        let classes: Vec<&Class> = self
            .model
            .tables
            .iter()
            .map(|t| cat.class(t.oid).expect("class"))
            .collect();
        for (idx, class) in classes.into_iter().enumerate() {
            let mut columns = vec![];
            for a in &class.attributes {
                let tags = tags::parse(a.comment.as_deref());
                let mut omit = tags.omit();
                if omit.whole {
                    continue;
                }
                let readable = !self.opts.flags.no_ignore_rbac || rbac::readable(class, a);
                if self.opts.flags.no_ignore_rbac {
                    omit = rbac::column(class, a, omit);
                }
                let order_name = tags.value("name").unwrap_or(&a.name).to_string();
                let inflect_name =
                    inflect::classic_column_name(&order_name, self.opts.flags.classic_ids)
                        .to_string();
                let field = inflect::column(&inflect_name);
                if !inflect::is_valid_name(&field) {
                    tracing::warn!(table = %class.name, column = %a.name, "column skipped: no valid GraphQL name");
                    continue;
                }
                let codec = match self.enum_table_codec(class, a) {
                    Some(codec) => Some(codec),
                    None => self.codec(a.type_oid),
                };
                let Some(codec) = codec else {
                    continue;
                };
                columns.push((
                    a.num,
                    Column {
                        name: a.name.clone(),
                        inflect_name,
                        order_name,
                        omit,
                        deprecated: deprecation(a.comment.as_deref()),
                        refresh_token: tags::parse(a.comment.as_deref()).has("refreshToken"),
                        field,
                        codec,
                        not_null: a.not_null,
                        has_default: a.has_default
                            || !a.identity.is_empty()
                            || !a.generated.is_empty(),
                        writable: a.is_writable(),
                        readable,
                    },
                ));
            }
            let col_of = |num: i16| columns.iter().position(|(n, _)| *n == num);
            let mut pk = None;
            let mut uniques = vec![];
            for con in cat.class_constraints(class.oid) {
                let cols: Option<Vec<usize>> = con.keys.iter().map(|k| col_of(*k)).collect();
                let Some(cols) = cols else { continue };
                match con.kind.as_str() {
                    "p" => pk = Some(cols),
                    // `@omit` on a unique constraint: no lookup (nor mutations) by it.
                    "u" if tags::parse(con.comment.as_deref()).omit().whole => {}
                    "u" => uniques.push(cols),
                    _ => {}
                }
            }
            // A unique constraint over the primary key's columns (or another unique
            // constraint's) gives the same lookup: one is enough, as in PostGraphile.
            let same = |a: &[usize], b: &[usize]| {
                let (mut a, mut b) = (a.to_vec(), b.to_vec());
                a.sort_unstable();
                b.sort_unstable();
                a == b
            };
            let mut distinct: Vec<Vec<usize>> = vec![];
            for u in uniques {
                if !pk.iter().chain(distinct.iter()).any(|k| same(k, &u)) {
                    distinct.push(u);
                }
            }
            let uniques = distinct;
            let t = &mut self.model.tables[idx];
            t.columns = columns.into_iter().map(|(_, c)| c).collect();
            // Views have no constraints: `@primaryKey` and `@unique` declare them.
            let tags = tags::parse(class.comment.as_deref());
            let by_names = |list: &str| -> Option<Vec<usize>> {
                let cols: Option<Vec<usize>> = tags::column_list(list)
                    .iter()
                    .map(|n| t.columns.iter().position(|c| c.name == *n))
                    .collect();
                if cols.is_none() {
                    tracing::warn!(
                        "{}.{}: smart tag names a column it does not have: `{list}`",
                        t.schema,
                        t.name
                    );
                }
                cols.filter(|c| !c.is_empty())
            };
            let mut tag_keys = vec![];
            let pk = pk.or_else(|| {
                let tagged = tags.value("primaryKey").and_then(by_names);
                tag_keys.extend(tagged.clone());
                tagged
            });
            let mut uniques = uniques;
            for list in tags.values("unique") {
                if let Some(u) = by_names(list) {
                    if !pk.iter().chain(uniques.iter()).any(|k| same(k, &u)) {
                        tag_keys.push(u.clone());
                        uniques.push(u);
                    }
                }
            }
            // A key column is never null: v4 makes a `@primaryKey` view's key fields non-null.
            for &c in pk.iter().flatten() {
                t.columns[c].not_null = true;
            }
            // v4's `viewUniqueKey` (a view's `@uniqueKey` first): a column to order by last.
            if t.kind == 'v' && pk.is_none() {
                let name = tags
                    .value("uniqueKey")
                    .or(self.opts.flags.view_unique_key.as_deref());
                t.view_unique_key = name.and_then(|n| t.columns.iter().position(|c| c.name == n));
            }
            t.primary_key = pk;
            t.unique_keys = uniques;
            t.tag_keys = tag_keys;
        }
        Ok(())
    }

    pub(super) fn collect_relations(&mut self) {
        for con in self
            .catalog
            .constraints
            .iter()
            .filter(|c| c.kind == "f" && !tags::parse(c.comment.as_deref()).omit().whole)
        {
            let con_tags = tags::parse(con.comment.as_deref());
            let simple_collections = con_tags.simple_collections();
            let names = RelationNames::from_tags(&con_tags);
            let (Some(&t), Some(&ft)) = (
                self.class_table.get(&con.class_oid),
                con.foreign_class_oid.and_then(|o| self.class_table.get(&o)),
            ) else {
                continue;
            };
            let cols = self.column_indexes(t, con.class_oid, &con.keys);
            let fcols = self.column_indexes(
                ft,
                con.foreign_class_oid.unwrap_or_default(),
                &con.foreign_keys,
            );
            if let (Some(columns), Some(foreign_columns)) = (cols, fcols) {
                self.model.relations.push(Relation {
                    table: t,
                    columns,
                    foreign_table: ft,
                    foreign_columns,
                    simple_collections,
                    names,
                });
            }
        }
        for (class_oid, fk) in std::mem::take(&mut self.tag_foreign_keys) {
            let Some(&t) = self.class_table.get(&class_oid) else {
                continue;
            };
            let tables = &self.model.tables;
            let schema = fk.schema.as_deref().unwrap_or(&tables[t].schema);
            let found = tables
                .iter()
                .position(|x| x.schema == schema && x.name == fk.table && !x.is_composite());
            let by_name = |ti: usize, names: &[String]| -> Option<Vec<usize>> {
                names
                    .iter()
                    .map(|n| tables[ti].columns.iter().position(|c| c.name == *n))
                    .collect()
            };
            let resolved = found.and_then(|ft| {
                let columns = by_name(t, &fk.columns)?;
                let foreign_columns = match &fk.foreign_columns {
                    Some(names) => by_name(ft, names)?,
                    None => tables[ft].primary_key.clone()?,
                };
                (columns.len() == foreign_columns.len()).then_some(Relation {
                    table: t,
                    columns,
                    foreign_table: ft,
                    foreign_columns,
                    simple_collections: None,
                    names: RelationNames::from_tags(&fk.tags),
                })
            });
            match resolved {
                Some(r) => self.model.relations.push(r),
                None => tracing::warn!(
                    "{}.{}: `@foreignKey` to {schema}.{} ignored: no such exposed table or columns",
                    tables[t].schema,
                    tables[t].name,
                    fk.table
                ),
            }
        }
    }

    /// A domain over a composite type: v4 makes it an object type of its own, named after the
    /// domain (`constrained_compound` → `ConstrainedCompound`, input `ConstrainedCompoundInput`),
    /// with the composite's fields; its columns are read from the composite's class.
    fn add_composite_domain(&mut self, domain: u32, class_oid: u32) {
        let cat = self.catalog;
        let (Some(t), Some(&composite)) = (cat.type_(domain), self.class_table.get(&class_oid))
        else {
            return;
        };
        let tags = tags::parse(t.comment.as_deref());
        let inflect_name = tags.value("name").unwrap_or(&t.name).to_string();
        let type_name = inflect::pg_type(&inflect_name);
        let owner = format!("domain {}.{}", t.schema, t.name);
        if !inflect::is_valid_name(&type_name) {
            tracing::warn!("{owner} is exposed as its composite type: `{type_name}` is not a valid GraphQL name");
            return;
        }
        let names = [type_name.clone(), inflect::domain_input_type(&type_name)];
        if let Err((name, holder)) = names::claim(&mut self.claimed, &names, &owner) {
            tracing::warn!(
                "{owner} is exposed as its composite type: `{name}` is already taken by {holder}"
            );
            return;
        }
        let base = &self.model.tables[composite];
        let table = Table {
            schema: t.schema.clone(),
            name: t.name.clone(),
            kind: DOMAIN_KIND,
            type_name,
            inflect_name,
            columns: vec![],
            ..base.clone()
        };
        self.domain_table.insert(domain, self.model.tables.len());
        self.model.tables.push(table);
    }

    /// A column with a foreign key to an enum key (v4.8's `@enum` tables and constraints; a
    /// `@foreignKey` smart tag counts, which is how a view is referenced) holds one of its
    /// values: an enum over the column's own type.
    fn enum_table_codec(&self, class: &Class, a: &Attribute) -> Option<Codec> {
        let cat = self.catalog;
        if cat.enum_tables.is_empty() {
            return None;
        }
        let by_constraint = cat.class_constraints(class.oid).find_map(|con| {
            let [key] = con.foreign_keys[..] else {
                return None;
            };
            (con.kind == "f" && con.keys == [a.num])
                .then(|| cat.enum_of_key(con.foreign_class_oid?, key))
                .flatten()
        });
        let by_tag = || {
            self.tag_foreign_keys
                .iter()
                .filter(|(oid, fk)| *oid == class.oid && fk.columns == [a.name.as_str()])
                .find_map(|(_, fk)| {
                    let schema = fk.schema.as_deref().unwrap_or(&class.schema);
                    let target = cat
                        .classes
                        .iter()
                        .find(|c| c.schema == schema && c.name == fk.table)?;
                    match &fk.foreign_columns {
                        Some(cols) => {
                            let [col] = &cols[..] else { return None };
                            let num = target.attributes.iter().find(|x| x.name == *col)?.num;
                            cat.enum_of_key(target.oid, num)
                        }
                        // No columns: the target's primary key, an `@enum` table's own enum.
                        None => cat
                            .enum_tables
                            .iter()
                            .enumerate()
                            .find(|(_, t)| t.class_oid == target.oid && t.constraint.is_none()),
                    }
                })
        };
        let (index, et) = by_constraint.or_else(by_tag)?;
        let t = cat.type_(a.type_oid)?;
        Some(Codec::Enum {
            sql_type: qualified(&t.schema, &t.name),
            labels: et
                .values
                .iter()
                .map(|v| (v.value.clone(), inflect::enum_value(&v.value)))
                .collect(),
            enum_table: Some(index),
        })
    }

    pub(super) fn column_indexes(
        &self,
        table: usize,
        class_oid: u32,
        nums: &[i16],
    ) -> Option<Vec<usize>> {
        let class = self.catalog.class(class_oid)?;
        nums.iter()
            .map(|n| {
                let name = &class.attributes.iter().find(|a| a.num == *n)?.name;
                self.model.tables[table]
                    .columns
                    .iter()
                    .position(|c| c.name == *name)
            })
            .collect()
    }
}
