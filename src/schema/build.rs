//! Catalog → schema model: decides which tables, relations and functions become which
//! GraphQL types and fields. Names come from `inflect`; nothing here talks to Postgres.

use super::*;
use super::{inflect, names, tags};
use crate::catalog::{Catalog, Class, PgType, Proc};
use std::collections::{BTreeSet, HashMap};

mod mutations;

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub schemas: Vec<String>,
    /// `(schema, type)` of the composite type signed into JWTs.
    pub jwt_type: Option<(String, String)>,
    /// `--disable-default-mutations`: no CRUD mutations (function mutations stay).
    pub disable_default_mutations: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("--jwt-token-identifier {0}: no such composite type in the database")]
    JwtTypeNotFound(String),
}

const INTERVAL: &str = "Interval";
const INTERVAL_INPUT: &str = "IntervalInput";

/// Postgres types whose `to_json` is already the value PostGraphile v4 sends.
const NATIVE_JSON: &[&str] = &[
    "int2",
    "int4",
    "bool",
    "text",
    "varchar",
    "bpchar",
    "char",
    "name",
    "uuid",
    "date",
    "time",
    "timetz",
    "timestamp",
    "timestamptz",
];

/// The built-in scalars plus the ones this engine defines.
const SCALARS: &[(&str, &str)] = &[
    ("BigInt", "A signed eight-byte integer, as a string."),
    ("BigFloat", "An arbitrary-precision decimal, as a string."),
    ("Datetime", "A point in time as an ISO 8601 string."),
    ("Date", "A calendar date (YYYY-MM-DD)."),
    ("Time", "A time of day (HH:MM:SS)."),
    ("UUID", "A universally unique identifier (RFC 4122)."),
    ("JSON", "A JSON value, encoded as a string."),
    (
        "InternetAddress",
        "An IPv4 or IPv6 host address, and optionally its subnet.",
    ),
    ("JwtToken", "A JSON Web Token, signed by the server."),
    ("Cursor", "An opaque cursor for pagination."),
];

pub fn build(catalog: &Catalog, opts: &BuildOptions) -> Result<Model, BuildError> {
    let mut b = Builder {
        catalog,
        opts,
        model: empty_model(catalog),
        class_table: HashMap::new(),
        used_scalars: BTreeSet::new(),
        jwt_table: None,
        claimed: names::reserved(SCALARS),
        tag_foreign_keys: vec![],
        types_by_name: catalog
            .types
            .iter()
            .map(|t| (qualified(&t.schema, &t.name), t))
            .collect(),
    };
    b.collect_tables()?;
    b.collect_relations();
    b.collect_functions();
    b.emit_types()?;
    super::prune::unreachable_types(&mut b.model);
    Ok(b.model)
}

fn empty_model(catalog: &Catalog) -> Model {
    Model {
        types: BTreeMap::new(),
        query_type: "Query".into(),
        mutation_type: None,
        tables: vec![],
        relations: vec![],
        functions: vec![],
        roles: catalog.roles.iter().cloned().collect(),
    }
}

struct Builder<'a> {
    catalog: &'a Catalog,
    opts: &'a BuildOptions,
    model: Model,
    /// class oid → index in `model.tables`
    class_table: HashMap<u32, usize>,
    used_scalars: BTreeSet<&'static str>,
    /// The JWT composite's table: a scalar (`JwtToken`), not an object type.
    jwt_table: Option<usize>,
    /// Quoted, schema-qualified type name (as codecs carry it) → the type.
    types_by_name: HashMap<String, &'a PgType>,
    /// Generated type name → the object that claimed it (see `names`).
    claimed: HashMap<String, String>,
    /// `@foreignKey` smart tags: (class oid, the key).
    tag_foreign_keys: Vec<(u32, tags::ForeignKey)>,
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

impl<'a> Builder<'a> {
    fn exposed(&self, schema: &str) -> bool {
        self.opts.schemas.iter().any(|s| s == schema)
    }

    fn is_jwt(&self, t: &PgType) -> bool {
        matches!(&self.opts.jwt_type, Some((s, n)) if *s == t.schema && *n == t.name)
    }

    fn collect_tables(&mut self) -> Result<(), BuildError> {
        let cat = self.catalog;
        let mut wanted: Vec<&Class> = cat
            .classes
            .iter()
            .filter(|c| self.exposed(&c.schema) && c.kind != "c")
            .collect();
        // Composite types become object types when a function uses them (or they are the JWT type).
        let mut composite_oids: BTreeSet<u32> = BTreeSet::new();
        for p in cat.procs.iter().filter(|p| self.exposed(&p.schema)) {
            for oid in p
                .arg_types
                .iter()
                .chain(std::iter::once(&p.return_type_oid))
            {
                if let Some(t) = cat.type_(*oid) {
                    if let Some(class_oid) = t.class_oid {
                        composite_oids.insert(class_oid);
                    }
                }
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
            let omit = tags.omit();
            if omit.whole && !is_jwt {
                tracing::debug!("{owner} left out: @omit");
                continue;
            }
            let inflect_name = tags.value("name").unwrap_or(&class.name).to_string();
            let type_name = if class.kind == "c" {
                inflect::pg_type(&inflect_name)
            } else {
                inflect::table_type(&inflect_name)
            };
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
            });
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
                let omit = tags.omit();
                if omit.whole {
                    continue;
                }
                let inflect_name = tags.value("name").unwrap_or(&a.name).to_string();
                let field = inflect::column(&inflect_name);
                if !inflect::is_valid_name(&field) {
                    tracing::warn!(table = %class.name, column = %a.name, "column skipped: no valid GraphQL name");
                    continue;
                }
                let Some(codec) = self.codec(a.type_oid) else {
                    continue;
                };
                columns.push((
                    a.num,
                    Column {
                        name: a.name.clone(),
                        inflect_name,
                        omit,
                        deprecated: deprecation(a.comment.as_deref()),
                        field,
                        codec,
                        not_null: a.not_null,
                        has_default: a.has_default
                            || !a.identity.is_empty()
                            || !a.generated.is_empty(),
                        writable: a.is_writable(),
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
            let pk = pk.or_else(|| tags.value("primaryKey").and_then(by_names));
            let mut uniques = uniques;
            for list in tags.values("unique") {
                if let Some(u) = by_names(list) {
                    if !pk.iter().chain(uniques.iter()).any(|k| same(k, &u)) {
                        uniques.push(u);
                    }
                }
            }
            t.primary_key = pk;
            t.unique_keys = uniques;
        }
        Ok(())
    }

    fn collect_relations(&mut self) {
        for con in self
            .catalog
            .constraints
            .iter()
            .filter(|c| c.kind == "f" && !tags::parse(c.comment.as_deref()).omit().whole)
        {
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

    fn column_indexes(&self, table: usize, class_oid: u32, nums: &[i16]) -> Option<Vec<usize>> {
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

    fn collect_functions(&mut self) {
        let (catalog, opts) = (self.catalog, self.opts);
        for p in catalog
            .procs
            .iter()
            .filter(|p| opts.schemas.contains(&p.schema))
            .filter(|p| {
                let omit = tags::parse(p.comment.as_deref()).omit();
                !omit.whole && !omit.execute
            })
        {
            if let Some(f) = self.function(p) {
                self.model.functions.push(f);
            }
        }
    }

    fn function(&mut self, p: &Proc) -> Option<Function> {
        if p.arg_modes.iter().any(|m| m != "i") {
            tracing::warn!(function = %p.name, "function skipped: OUT/INOUT/VARIADIC arguments are not supported yet");
            return None;
        }
        let returns = self.codec(p.return_type_oid)?;
        let mut args = vec![];
        for (i, oid) in p.arg_types.iter().enumerate() {
            let name = p
                .arg_names
                .get(i)
                .filter(|n| !n.is_empty())
                .cloned()
                .unwrap_or_else(|| format!("arg{}", i + 1));
            let field = inflect::argument(&name);
            let codec = self.codec(*oid)?;
            args.push(FunctionArg { name, field, codec });
        }
        let inflect_name = tags::parse(p.comment.as_deref())
            .value("name")
            .unwrap_or(&p.name)
            .to_string();
        if !inflect::is_valid_name(&inflect::function(&inflect_name)) {
            tracing::warn!(
                "function {}.{} left out: no valid GraphQL name; rename it with a `@name` smart comment",
                p.schema,
                p.name
            );
            return None;
        }
        Some(Function {
            oid: p.oid,
            schema: p.schema.clone(),
            name: p.name.clone(),
            inflect_name,
            args,
            returns,
            returns_set: p.returns_set,
            volatile: p.volatility == "v",
            strict: p.is_strict,
            num_defaults: p.num_defaults.max(0) as usize,
            deprecated: deprecation(p.comment.as_deref()),
        })
    }

    /// The codec for a Postgres type, or None when the type cannot be exposed.
    fn codec(&mut self, oid: u32) -> Option<Codec> {
        let cat = self.catalog;
        let t = cat.type_(oid)?;
        let sql_type = qualified(&t.schema, &t.name);
        if let Some(elem) = t.elem_oid.filter(|_| t.category == "A") {
            let element = self.codec(elem)?;
            return Some(Codec::Array {
                sql_type,
                element: Box::new(element),
            });
        }
        match t.kind.as_str() {
            "d" => {
                // A domain behaves as its base type; casts go to the domain so its checks run.
                let base = self.codec(t.base_oid?)?;
                Some(match base {
                    Codec::Native { .. } => Codec::Native { sql_type },
                    Codec::Float { .. } => Codec::Float { sql_type },
                    Codec::Interval { .. } => Codec::Interval { sql_type },
                    Codec::Text { .. } => Codec::Text { sql_type },
                    other => other,
                })
            }
            "e" => Some(Codec::Enum {
                sql_type,
                labels: t
                    .enum_values
                    .iter()
                    .map(|l| (l.clone(), inflect::enum_value(l)))
                    .collect(),
            }),
            "c" => {
                let table = *self.class_table.get(&t.class_oid?)?;
                if self.is_jwt(t) {
                    self.used_scalars.insert("JwtToken");
                    self.jwt_table = Some(table);
                    Some(Codec::Jwt { sql_type, table })
                } else {
                    Some(Codec::Row { sql_type, table })
                }
            }
            // Only types whose `to_json` is the GraphQL value are native (numbers, booleans,
            // strings, ISO dates and times); every other type goes out as its text form, so a
            // `String` field always holds a string (int8 and numeric keep their precision, JSON
            // is a JSON-encoded string as in PostGraphile v4).
            _ => Some(match t.name.as_str() {
                "float4" | "float8" if t.schema == "pg_catalog" => Codec::Float { sql_type },
                "interval" if t.schema == "pg_catalog" => Codec::Interval { sql_type },
                name if t.schema == "pg_catalog" && NATIVE_JSON.contains(&name) => {
                    Codec::Native { sql_type }
                }
                _ => Codec::Text { sql_type },
            }),
        }
    }

    /// The GraphQL type of a codec (never wrapped in NonNull).
    fn gql_type(&mut self, codec: &Codec) -> TypeRef {
        match codec {
            Codec::Array { element, .. } => self.gql_type(element).list(),
            Codec::Row { table, .. } => TypeRef::named(self.model.tables[*table].type_name.clone()),
            Codec::Jwt { .. } => TypeRef::named("JwtToken"),
            Codec::Enum { sql_type, labels } => {
                let t = self.types_by_name.get(sql_type.as_str()).copied();
                let name = inflect::pg_type(t.map(|t| t.name.as_str()).unwrap_or("Enum"));
                if self.model.types.contains_key(&name) && self.model.enum_(&name).is_none()
                    || self.claimed.contains_key(&name)
                {
                    tracing::warn!(
                        "enum {sql_type} is exposed as String: its GraphQL name `{name}` is taken by {}",
                        self.claimed.get(&name).map_or("another type", String::as_str)
                    );
                    return TypeRef::named("String");
                }
                if !self.model.types.contains_key(&name) {
                    let values = labels
                        .iter()
                        .map(|(l, v)| EnumValueDef {
                            name: v.clone(),
                            description: None,
                            meaning: EnumMeaning::Label(l.clone()),
                        })
                        .collect();
                    let description = t.and_then(|t| t.comment.clone());
                    self.model.types.insert(
                        name.clone(),
                        TypeDef::Enum(EnumDef {
                            name: name.clone(),
                            description,
                            values,
                        }),
                    );
                }
                TypeRef::named(name)
            }
            Codec::Interval { .. } => {
                self.interval_types();
                TypeRef::named(INTERVAL)
            }
            Codec::Native { sql_type } | Codec::Float { sql_type } | Codec::Text { sql_type } => {
                let name = self.scalar_name(sql_type);
                TypeRef::named(name)
            }
        }
    }

    fn scalar_name(&mut self, sql_type: &str) -> &'static str {
        // Domains resolve to their base type's scalar.
        let mut t = self.types_by_name.get(sql_type).copied();
        while let Some(d) = t.filter(|t| t.kind == "d") {
            t = d.base_oid.and_then(|o| self.catalog.type_(o));
        }
        let name = t.map(|t| t.name.as_str()).unwrap_or("text");
        let scalar = match name {
            "int2" | "int4" => "Int",
            "int8" => "BigInt",
            "float4" | "float8" => "Float",
            "numeric" => "BigFloat",
            "bool" => "Boolean",
            "uuid" => "UUID",
            "json" | "jsonb" => "JSON",
            "timestamptz" | "timestamp" => "Datetime",
            "date" => "Date",
            "time" | "timetz" => "Time",
            "inet" => "InternetAddress",
            _ => "String",
        };
        if SCALARS.iter().any(|(n, _)| *n == scalar) {
            self.used_scalars.insert(scalar);
        }
        scalar
    }

    fn insert(&mut self, def: TypeDef) -> Result<(), BuildError> {
        let name = match &def {
            TypeDef::Object(o) => o.name.clone(),
            TypeDef::Interface(o) => o.name.clone(),
            TypeDef::Input(o) => o.name.clone(),
            TypeDef::Enum(o) => o.name.clone(),
            TypeDef::Scalar(o) => o.name.clone(),
        };
        if self.model.types.contains_key(&name) {
            tracing::warn!(
                "two types want the GraphQL name `{name}`: the later one is left out; \
                 rename one with a `@name` smart comment or hide it with `@omit`"
            );
            return Ok(());
        }
        self.model.types.insert(name, def);
        Ok(())
    }

    // Descriptions are the comments without their smart tag lines.
    fn class_comment(&self, t: &Table) -> Option<String> {
        let c = self.catalog.class(t.oid)?;
        tags::parse(c.comment.as_deref()).description
    }

    fn column_comment(&self, t: &Table, col: &str) -> Option<String> {
        let c = self.catalog.class(t.oid)?;
        let a = c.attributes.iter().find(|a| a.name == col)?;
        tags::parse(a.comment.as_deref()).description
    }

    fn proc_comment(&self, f: &Function) -> Option<String> {
        let p = self.catalog.proc(f.oid)?;
        tags::parse(p.comment.as_deref()).description
    }

    fn emit_types(&mut self) -> Result<(), BuildError> {
        let mut query_fields = vec![FieldDef {
            name: "query".into(),
            description: Some("Exposes the root query type nested one level down. This is helpful for Relay 1 which can only query top level fields if they are in a particular form.".into()),
            ty: TypeRef::named("Query").non_null(),
            args: vec![],
            kind: FieldKind::Query,
        }];
        let has_nodes = self.model.tables.iter().enumerate().any(|(i, t)| {
            t.primary_key.is_some() && !t.is_composite() && self.jwt_table != Some(i)
        });
        if has_nodes {
            query_fields.push(field(
                "nodeId",
                TypeRef::named("ID").non_null(),
                FieldKind::NodeId,
                "The root query type must be a `Node` to work well with Relay 1 mutations. This just resolves to `query`.",
            ));
            query_fields.push(FieldDef {
                name: "node".into(),
                description: Some("Fetches an object given its globally unique `ID`.".into()),
                ty: TypeRef::named("Node"),
                args: vec![node_id_arg("The globally unique `ID`.")],
                kind: FieldKind::Node,
            });
            self.insert(TypeDef::Interface(InterfaceDef {
                name: "Node".into(),
                description: Some("An object with a globally unique `ID`.".into()),
                fields: vec![field("nodeId", TypeRef::named("ID").non_null(), FieldKind::NodeId, "A globally unique identifier. Can be used in various places throughout the system to identify this single value.")],
            }))?;
        }
        let mut mutation_fields = vec![];
        let mut needs_page_info = false;

        for ti in 0..self.model.tables.len() {
            if self.jwt_table == Some(ti) {
                continue;
            }
            let object = self.row_object(ti)?;
            self.insert(TypeDef::Object(object))?;
            let t = self.model.tables[ti].clone();
            if t.is_composite() {
                continue;
            }
            needs_page_info = true;
            self.connection_types(ti)?;
            if !t.omit.all && !t.omit.read {
                query_fields.push(FieldDef {
                    name: inflect::all_rows(&t.inflect_name),
                    description: Some(format!(
                        "Reads and enables pagination through a set of `{}`.",
                        t.type_name
                    )),
                    ty: TypeRef::named(inflect::connection_type(&t.inflect_name)),
                    args: self.connection_args(ti),
                    kind: FieldKind::AllRows { table: ti },
                });
            }
            let lookups = if t.omit.read {
                &[][..]
            } else {
                &t.unique_keys[..]
            };
            for key in t.primary_key.iter().filter(|_| !t.omit.read).chain(lookups) {
                let names: Vec<&str> = key
                    .iter()
                    .map(|&c| t.columns[c].inflect_name.as_str())
                    .collect();
                let mut args = vec![];
                for &c in key {
                    let ty = self.gql_input_type(&t.columns[c].codec).non_null();
                    args.push(ArgDef {
                        name: t.columns[c].field.clone(),
                        description: None,
                        ty,
                        default: None,
                    });
                }
                query_fields.push(FieldDef {
                    name: inflect::row_by_unique(&t.inflect_name, &names),
                    description: None,
                    ty: TypeRef::named(t.type_name.clone()),
                    args,
                    kind: FieldKind::RowByKey {
                        table: ti,
                        columns: key.clone(),
                    },
                });
            }
            if t.primary_key.is_some() && !t.omit.read {
                query_fields.push(FieldDef {
                    name: inflect::row_by_node_id(&t.inflect_name),
                    description: Some(format!(
                        "Reads a single `{}` using its globally unique `ID`.",
                        t.type_name
                    )),
                    ty: TypeRef::named(t.type_name.clone()),
                    args: vec![node_id_arg(&format!(
                        "The globally unique `ID` to be used in selecting a single `{}`.",
                        t.type_name
                    ))],
                    kind: FieldKind::RowByNodeId { table: ti },
                });
            }
            if (t.kind == 'r' || t.kind == 'p') && !self.opts.disable_default_mutations {
                let omit = t.omit;
                let wanted = |f: &FieldDef| match f.kind {
                    FieldKind::Create { .. } | FieldKind::CreateMany { .. } => !omit.create,
                    FieldKind::Upsert { .. } => !omit.create && !omit.update,
                    FieldKind::Update { .. } | FieldKind::UpdateByNodeId { .. } => !omit.update,
                    FieldKind::Delete { .. } | FieldKind::DeleteByNodeId { .. } => !omit.delete,
                    _ => true,
                };
                mutation_fields.extend(self.crud_mutations(ti)?.into_iter().filter(wanted));
            }
        }

        for fi in 0..self.model.functions.len() {
            let f = self.model.functions[fi].clone();
            if self.computed_column_of(&f).is_some() {
                continue;
            }
            if f.volatile {
                mutation_fields.push(self.function_mutation(fi)?);
            } else {
                let Some((ty, args)) = self.function_field(fi, 0)? else {
                    continue;
                };
                needs_page_info |= f.returns_set;
                query_fields.push(FieldDef {
                    name: inflect::function(&f.inflect_name),
                    description: self.proc_comment(&f),
                    ty,
                    args,
                    kind: FieldKind::Function { function: fi },
                });
            }
        }

        if needs_page_info {
            self.used_scalars.insert("Cursor");
            let page_info = ObjectDef {
                interfaces: vec![],
                name: "PageInfo".into(),
                description: Some("Information about pagination in a connection.".into()),
                fields: vec![
                    field(
                        "hasNextPage",
                        TypeRef::named("Boolean").non_null(),
                        FieldKind::HasNextPage,
                        "When paginating forwards, are there more items?",
                    ),
                    field(
                        "hasPreviousPage",
                        TypeRef::named("Boolean").non_null(),
                        FieldKind::HasPreviousPage,
                        "When paginating backwards, are there more items?",
                    ),
                    field(
                        "startCursor",
                        TypeRef::named("Cursor"),
                        FieldKind::StartCursor,
                        "When paginating backwards, the cursor to continue.",
                    ),
                    field(
                        "endCursor",
                        TypeRef::named("Cursor"),
                        FieldKind::EndCursor,
                        "When paginating forwards, the cursor to continue.",
                    ),
                ],
            };
            self.insert(TypeDef::Object(page_info))?;
        }

        self.insert(TypeDef::Object(ObjectDef {
            interfaces: if has_nodes {
                vec!["Node".into()]
            } else {
                vec![]
            },
            name: "Query".into(),
            description: Some(
                "The root query type which gives access points into the data universe.".into(),
            ),
            fields: names::dedupe_fields(&self.model, "Query", query_fields),
        }))?;
        if !mutation_fields.is_empty() {
            self.insert(TypeDef::Object(ObjectDef {
                interfaces: vec![],
                name: "Mutation".into(),
                description: Some(
                    "The root mutation type which contains root level fields which mutate data."
                        .into(),
                ),
                fields: names::dedupe_fields(&self.model, "Mutation", mutation_fields),
            }))?;
            self.model.mutation_type = Some("Mutation".into());
        }
        for (name, description) in SCALARS {
            if self.used_scalars.contains(name) {
                self.insert(TypeDef::Scalar(ScalarDef {
                    name: (*name).into(),
                    description: Some((*description).into()),
                }))?;
            }
        }
        Ok(())
    }

    /// Which table a function is a computed column of: STABLE, first argument that table's row.
    fn computed_column_of(&self, f: &Function) -> Option<usize> {
        if f.volatile {
            return None;
        }
        match f.args.first()?.codec {
            Codec::Row { table, .. }
                if !self.model.tables[table].is_composite()
                    && inflect::is_computed_column_name(
                        &f.name,
                        &self.model.tables[table].name,
                    ) =>
            {
                Some(table)
            }
            _ => None,
        }
    }

    /// v4's `Interval` and `IntervalInput`, once.
    fn interval_types(&mut self) {
        if self.model.types.contains_key(INTERVAL) {
            return;
        }
        let description =
            "An interval of time that has passed where the smallest distinct unit is a second.";
        let parts: Vec<(&str, &str, &str)> = INTERVAL_PARTS
            .iter()
            .map(|&(name, _)| {
                let ty = if name == "seconds" { "Float" } else { "Int" };
                let about = if name == "seconds" {
                    "A quantity of seconds. This is the only non-integer field, as all the other fields will dump their overflow into a smaller unit of time. Intervals don’t have a smaller unit than seconds."
                } else {
                    ""
                };
                (name, ty, about)
            })
            .collect();
        let fields = parts
            .iter()
            .map(|&(name, ty, about)| {
                let about = if about.is_empty() {
                    format!("A quantity of {name}.")
                } else {
                    about.to_string()
                };
                field(name, TypeRef::named(ty), FieldKind::IntervalPart, &about)
            })
            .collect();
        let input_fields = parts
            .iter()
            .map(|&(name, ty, _)| InputFieldDef {
                name: name.into(),
                description: Some(format!("A quantity of {name}.")),
                ty: TypeRef::named(ty),
                target: InputTarget::Nested,
            })
            .collect();
        let _ = self.insert(TypeDef::Object(ObjectDef {
            name: INTERVAL.into(),
            description: Some(description.into()),
            fields,
            interfaces: vec![],
        }));
        let _ = self.insert(TypeDef::Input(InputDef {
            name: INTERVAL_INPUT.into(),
            description: Some(description.into()),
            fields: input_fields,
        }));
    }

    /// The GraphQL input type of a codec: a composite type gets an input object of its
    /// attributes (`pair` → `PairInput`, as in v4), a table's row is the table's `XInput`, and
    /// every other type is its output type.
    fn gql_input_type(&mut self, codec: &Codec) -> TypeRef {
        match codec {
            Codec::Interval { .. } => {
                self.interval_types();
                TypeRef::named(INTERVAL_INPUT)
            }
            Codec::Array { element, .. } => self.gql_input_type(element).list(),
            Codec::Row { table, .. } | Codec::Jwt { table, .. } => {
                let t = self.model.tables[*table].clone();
                let name = inflect::input_type(&t.inflect_name);
                if t.is_composite() && !self.model.types.contains_key(&name) {
                    let mut fields = vec![];
                    for (ci, c) in t.columns.iter().enumerate() {
                        fields.push(InputFieldDef {
                            name: c.field.clone(),
                            description: self.column_comment(&t, &c.name),
                            ty: self.gql_input_type(&c.codec),
                            target: InputTarget::Column(ci),
                        });
                    }
                    let _ = self.insert(TypeDef::Input(InputDef {
                        name: name.clone(),
                        description: Some(format!("An input for a `{}` value.", t.type_name)),
                        fields,
                    }));
                }
                TypeRef::named(name)
            }
            other => self.gql_type(other),
        }
    }

    fn arg_type(&mut self, f: &Function, i: usize, codec: &Codec) -> TypeRef {
        let ty = self.gql_input_type(codec);
        let has_default = i >= f.args.len() - f.num_defaults.min(f.args.len());
        if f.strict && !has_default {
            ty.non_null()
        } else {
            ty
        }
    }

    /// The type and arguments of a function's field (the arguments after the first `skip`: a
    /// computed column's row); None when the function cannot be exposed.
    fn function_field(
        &mut self,
        fi: usize,
        skip: usize,
    ) -> Result<Option<(TypeRef, Vec<ArgDef>)>, BuildError> {
        let f = self.model.functions[fi].clone();
        let ty = self.function_return_type(fi);
        let mut args: Vec<ArgDef> = f
            .args
            .iter()
            .enumerate()
            .skip(skip)
            .map(|(i, a)| ArgDef {
                name: a.field.clone(),
                description: None,
                ty: self.arg_type(&f, i, &a.codec),
                default: None,
            })
            .collect();
        // A function's connection pages in the function's own order: no `orderBy` or
        // `condition` (v4 adds those only for `@sortable`/`@filterable` functions).
        if f.returns_set {
            match f.returns {
                Codec::Row { table, .. } if !self.model.tables[table].is_composite() => {
                    args.extend(page_args());
                }
                Codec::Row { .. } | Codec::Jwt { .. } => {}
                _ => {
                    if !self.scalar_connection_types(&f)? {
                        return Ok(None);
                    }
                    args.extend(page_args());
                }
            }
        }
        Ok(Some((ty, args)))
    }

    /// A function field's type; nullable, as in v4 (a function may return NULL or fail).
    fn function_return_type(&mut self, fi: usize) -> TypeRef {
        let f = self.model.functions[fi].clone();
        match (&f.returns, f.returns_set) {
            (Codec::Row { table, .. }, true) if !self.model.tables[*table].is_composite() => {
                TypeRef::named(inflect::connection_type(
                    &self.model.tables[*table].inflect_name,
                ))
            }
            (Codec::Row { .. } | Codec::Jwt { .. }, true) => self.gql_type(&f.returns).list(),
            (_, true) => TypeRef::named(inflect::scalar_function_connection(&f.inflect_name)),
            (c, false) => self.gql_type(c),
        }
    }

    fn row_object(&mut self, ti: usize) -> Result<ObjectDef, BuildError> {
        let t = self.model.tables[ti].clone();
        let mut fields = vec![];
        let is_node = t.primary_key.is_some() && !t.is_composite();
        if is_node {
            fields.push(field("nodeId", TypeRef::named("ID").non_null(), FieldKind::NodeId, "A globally unique identifier. Can be used in various places throughout the system to identify this single value."));
        }
        for (ci, c) in t.columns.iter().enumerate().filter(|(_, c)| !c.omit.read) {
            let mut ty = self.gql_type(&c.codec);
            if c.not_null && !t.is_composite() {
                ty = ty.non_null();
            }
            fields.push(FieldDef {
                name: c.field.clone(),
                description: self.column_comment(&t, &c.name),
                ty,
                args: vec![],
                kind: FieldKind::Column {
                    table: ti,
                    column: ci,
                },
            });
        }
        if t.is_composite() {
            return Ok(ObjectDef {
                interfaces: vec![],
                name: t.type_name.clone(),
                description: self.class_comment(&t),
                fields,
            });
        }
        for fi in 0..self.model.functions.len() {
            let f = self.model.functions[fi].clone();
            if self.computed_column_of(&f) != Some(ti) {
                continue;
            }
            let Some((ty, args)) = self.function_field(fi, 1)? else {
                continue;
            };
            fields.push(FieldDef {
                name: inflect::computed_column(&f.name, &t.name),
                description: self.proc_comment(&f),
                ty,
                args,
                kind: FieldKind::Computed { function: fi },
            });
        }
        for ri in 0..self.model.relations.len() {
            let r = self.model.relations[ri].clone();
            if r.table == ti && !self.model.tables[r.foreign_table].omit.read {
                let ft = &self.model.tables[r.foreign_table];
                let cols: Vec<&str> = r
                    .columns
                    .iter()
                    .map(|&c| t.columns[c].inflect_name.as_str())
                    .collect();
                fields.push(FieldDef {
                    name: inflect::forward_relation(&ft.inflect_name, &cols),
                    description: Some(format!(
                        "Reads a single `{}` that is related to this `{}`.",
                        ft.type_name, t.type_name
                    )),
                    ty: TypeRef::named(ft.type_name.clone()),
                    args: vec![],
                    kind: FieldKind::Forward { relation: ri },
                });
            }
            let rt_omit = self.model.tables[r.table].omit;
            if r.foreign_table == ti && !rt_omit.many && !rt_omit.read {
                let rt = self.model.tables[r.table].clone();
                let cols: Vec<&str> = r
                    .columns
                    .iter()
                    .map(|&c| rt.columns[c].inflect_name.as_str())
                    .collect();
                fields.push(FieldDef {
                    name: inflect::backward_relation(&rt.inflect_name, &cols, false),
                    description: Some(format!(
                        "Reads and enables pagination through a set of `{}`.",
                        rt.type_name
                    )),
                    ty: TypeRef::named(inflect::connection_type(&rt.inflect_name)).non_null(),
                    args: self.connection_args(r.table),
                    kind: FieldKind::Backward { relation: ri },
                });
            }
        }
        let description = self.class_comment(&t);
        let fields = names::dedupe_fields(&self.model, &t.type_name, fields);
        Ok(ObjectDef {
            interfaces: if is_node { vec!["Node".into()] } else { vec![] },
            name: t.type_name.clone(),
            description,
            fields,
        })
    }

    fn connection_args(&mut self, ti: usize) -> Vec<ArgDef> {
        let t = &self.model.tables[ti];
        let order = inflect::order_by_enum(&t.inflect_name);
        let default = if t.primary_key.is_some() {
            vec!["PRIMARY_KEY_ASC".to_string()]
        } else {
            vec!["NATURAL".to_string()]
        };
        let filterable = !t.omit.filter;
        let mut args = page_args();
        args.extend([
            ArgDef {
                name: "orderBy".into(),
                description: Some(format!("The method to use when ordering `{}`.", t.type_name)),
                ty: TypeRef::named(order).non_null().list(),
                default: Some(DefaultValue::EnumList(default)),
            },
            ArgDef {
                name: "condition".into(),
                description: Some("A condition to be used in determining which values should be returned by the collection.".into()),
                ty: TypeRef::named(inflect::condition_type(&t.inflect_name)),
                default: None,
            },
        ]);
        // `@omit filter` on the table: no `condition`.
        args.retain(|a| filterable || a.name != "condition");
        args
    }

    /// The connection and edge types of a function returning a set of scalars (PostGraphile
    /// v4 pages those too: `topTags { nodes totalCount }`); false, with a warning, when their
    /// names are taken (the function is then left out).
    fn scalar_connection_types(&mut self, f: &Function) -> Result<bool, BuildError> {
        let item = self.gql_type(&f.returns);
        let conn_name = inflect::scalar_function_connection(&f.inflect_name);
        let edge_name = inflect::scalar_function_edge(&f.inflect_name);
        if let Some(taken) = [&conn_name, &edge_name]
            .into_iter()
            .find(|n| self.model.types.contains_key(n.as_str()))
        {
            tracing::warn!(
                "function {}.{} is left out: the GraphQL type name `{taken}` its connection needs is taken; rename it with a `@name` smart comment or hide it with `@omit`",
                f.schema,
                f.name
            );
            return Ok(false);
        }
        let conn = ObjectDef {
            interfaces: vec![],
            name: conn_name,
            description: Some(format!("A connection to a list of `{item}` values.")),
            fields: vec![
                field(
                    "nodes",
                    item.clone().list().non_null(),
                    FieldKind::Nodes,
                    &format!("A list of `{item}` objects."),
                ),
                field(
                    "edges",
                    TypeRef::named(edge_name.clone()).non_null().list().non_null(),
                    FieldKind::Edges,
                    &format!(
                        "A list of edges which contains the `{item}` and cursor to aid in pagination."
                    ),
                ),
                // No `pageInfo`, as in v4's connections of scalars.
                field(
                    "totalCount",
                    TypeRef::named("Int").non_null(),
                    FieldKind::TotalCount,
                    &format!("The count of *all* `{item}` you could get from the connection."),
                ),
            ],
        };
        self.insert(TypeDef::Object(conn))?;
        let edge = ObjectDef {
            interfaces: vec![],
            name: edge_name,
            description: Some(format!("A `{item}` edge in the connection.")),
            fields: vec![
                field(
                    "cursor",
                    TypeRef::named("Cursor"),
                    FieldKind::Cursor,
                    "A cursor for use in pagination.",
                ),
                field(
                    "node",
                    item.clone(),
                    FieldKind::EdgeNode,
                    &format!("The `{item}` at the end of the edge."),
                ),
            ],
        };
        self.insert(TypeDef::Object(edge))?;
        Ok(true)
    }

    fn connection_types(&mut self, ti: usize) -> Result<(), BuildError> {
        let t = self.model.tables[ti].clone();
        let conn = ObjectDef {
            interfaces: vec![],
            name: inflect::connection_type(&t.inflect_name),
            description: Some(format!(
                "A connection to a list of `{}` values.",
                t.type_name
            )),
            fields: vec![
                field(
                    "nodes",
                    TypeRef::named(t.type_name.clone()).list().non_null(),
                    FieldKind::Nodes,
                    &format!("A list of `{}` objects.", t.type_name),
                ),
                field(
                    "edges",
                    TypeRef::named(inflect::edge_type(&t.inflect_name))
                        .non_null()
                        .list()
                        .non_null(),
                    FieldKind::Edges,
                    &format!(
                        "A list of edges which contains the `{}` and cursor to aid in pagination.",
                        t.type_name
                    ),
                ),
                field(
                    "pageInfo",
                    TypeRef::named("PageInfo").non_null(),
                    FieldKind::PageInfo,
                    "Information to aid in pagination.",
                ),
                field(
                    "totalCount",
                    TypeRef::named("Int").non_null(),
                    FieldKind::TotalCount,
                    &format!(
                        "The count of *all* `{}` you could get from the connection.",
                        t.type_name
                    ),
                ),
            ],
        };
        self.insert(TypeDef::Object(conn))?;
        let edge = ObjectDef {
            interfaces: vec![],
            name: inflect::edge_type(&t.inflect_name),
            description: Some(format!("A `{}` edge in the connection.", t.type_name)),
            fields: vec![
                field(
                    "cursor",
                    TypeRef::named("Cursor"),
                    FieldKind::Cursor,
                    "A cursor for use in pagination.",
                ),
                field(
                    "node",
                    TypeRef::named(t.type_name.clone()),
                    FieldKind::EdgeNode,
                    &format!("The `{}` at the end of the edge.", t.type_name),
                ),
            ],
        };
        self.insert(TypeDef::Object(edge))?;

        let mut values = vec![EnumValueDef {
            name: "NATURAL".into(),
            description: None,
            meaning: EnumMeaning::Natural,
        }];
        let mut condition_fields = vec![];
        for (ci, c) in t.columns.iter().enumerate() {
            if matches!(
                c.codec,
                Codec::Row { .. } | Codec::Jwt { .. } | Codec::Array { .. }
            ) {
                continue;
            }
            for asc in [true, false].into_iter().filter(|_| !c.omit.order) {
                values.push(EnumValueDef {
                    name: inflect::order_by_column(&c.inflect_name, asc),
                    description: None,
                    meaning: EnumMeaning::Column {
                        column: ci,
                        ascending: asc,
                    },
                });
            }
            if c.omit.filter {
                continue;
            }
            let ty = self.gql_input_type(&c.codec);
            condition_fields.push(InputFieldDef {
                name: c.field.clone(),
                description: Some(format!(
                    "Checks for equality with the object’s `{}` field.",
                    c.field
                )),
                ty,
                target: InputTarget::Column(ci),
            });
        }
        if t.primary_key.is_some() {
            for asc in [true, false] {
                values.push(EnumValueDef {
                    name: inflect::order_by_primary_key(asc).into(),
                    description: None,
                    meaning: EnumMeaning::PrimaryKey { ascending: asc },
                });
            }
        }
        self.insert(TypeDef::Enum(EnumDef {
            name: inflect::order_by_enum(&t.inflect_name),
            description: Some(format!("Methods to use when ordering `{}`.", t.type_name)),
            values,
        }))?;
        self.insert(TypeDef::Input(InputDef {
            name: inflect::condition_type(&t.inflect_name),
            description: Some(format!("A condition to be used against `{}` object types. All fields are tested for equality and combined with a logical ‘and.’", t.type_name)),
            fields: condition_fields,
        }))?;
        Ok(())
    }
}

fn node_id_arg(description: &str) -> ArgDef {
    ArgDef {
        name: "nodeId".into(),
        description: Some(description.into()),
        ty: TypeRef::named("ID").non_null(),
        default: None,
    }
}

/// The paging arguments every connection takes.
fn page_args() -> Vec<ArgDef> {
    let arg = |name: &str, ty: &str, description: &str| ArgDef {
        name: name.into(),
        description: Some(description.into()),
        ty: TypeRef::named(ty),
        default: None,
    };
    vec![
        arg("first", "Int", "Only read the first `n` values of the set."),
        arg("last", "Int", "Only read the last `n` values of the set."),
        arg("offset", "Int", "Skip the first `n` values from our `after` cursor, an alternative to cursor based pagination. May not be used with `last`."),
        arg("before", "Cursor", "Read all values in the set before (above) this cursor."),
        arg("after", "Cursor", "Read all values in the set after (below) this cursor."),
    ]
}

fn field(name: &str, ty: TypeRef, kind: FieldKind, description: &str) -> FieldDef {
    FieldDef {
        name: name.into(),
        description: (!description.is_empty()).then(|| description.into()),
        ty,
        args: vec![],
        kind,
    }
}

/// The reason of a `@deprecated` smart tag (a bare one gets v4's default reason).
fn deprecation(comment: Option<&str>) -> Option<String> {
    let tags = tags::parse(comment);
    tags.has("deprecated").then(|| {
        tags.value("deprecated")
            .unwrap_or("No longer supported")
            .to_string()
    })
}

fn class_kind(kind: char) -> &'static str {
    match kind {
        'v' => "view",
        'm' => "materialized view",
        'c' => "composite type",
        'f' => "foreign table",
        _ => "table",
    }
}
