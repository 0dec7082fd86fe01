//! Catalog → schema model: decides which tables, relations and functions become which
//! GraphQL types and fields. Names come from `inflect`; nothing here talks to Postgres.

use super::*;
use super::{inflect, names, tags};
use crate::catalog::{Attribute, Catalog, Class, PgType, Proc};
use std::collections::{BTreeSet, HashMap};

mod aggregates;
mod connections;
mod filter;
mod functions;
mod mutations;
mod objects;
mod rbac;
mod roots;
mod tables;
mod types;

#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub schemas: Vec<String>,
    /// `(schema, type)` of the composite type signed into JWTs.
    pub jwt_type: Option<(String, String)>,
    /// `--disable-default-mutations`: no CRUD mutations (function mutations stay).
    pub disable_default_mutations: bool,
    /// `--simple-subscriptions`: the `Subscription` root with v4's `listen(topic:)`.
    pub simple_subscriptions: bool,
    /// `--simple-collections` and the other v4 schema options.
    pub flags: SchemaFlags,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("--jwt-token-identifier {0}: no such composite type in the database")]
    JwtTypeNotFound(String),
}

/// `pg_catalog.void`: a function returning nothing.
const VOID_OID: u32 = 2278;

const INTERVAL: &str = "Interval";
const INTERVAL_INPUT: &str = "IntervalInput";
const POINT: &str = "Point";
const POINT_INPUT: &str = "PointInput";

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

/// The `JSON` scalar's description with `--dynamic-json`.
const DYNAMIC_JSON: &str =
    "A JSON value: an object, a list, a string, a number, a boolean or null.";

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
    ("BitString", "A string representing a series of binary bits"),
    (
        "KeyValueHash",
        "A set of key/value pairs, keys are strings, values may be a string or null. Exposed as a JSON object.",
    ),
    ("CidrAddress", "An IPv4 or IPv6 CIDR address."),
    ("MacAddress", "A 6-byte MAC address."),
    ("MacAddress8", "An 8-byte MAC address."),
    ("JwtToken", "A JSON Web Token, signed by the server."),
    ("Cursor", "An opaque cursor for pagination."),
];

pub fn build(catalog: &Catalog, opts: &BuildOptions) -> Result<Model, BuildError> {
    let mut model = empty_model(catalog);
    model.node_id_field = inflect::node_id_field(opts.flags.classic_ids).into();
    model.dynamic_json = opts.flags.dynamic_json;
    model.filter = opts.flags.filter.clone();
    let mut b = Builder {
        catalog,
        opts,
        model,
        class_table: HashMap::new(),
        domain_table: HashMap::new(),
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
        subscription_type: None,
        tables: vec![],
        relations: vec![],
        functions: vec![],
        node_id_field: inflect::node_id_field(false).into(),
        dynamic_json: false,
        roles: catalog.roles.iter().cloned().collect(),
        filter: Default::default(),
    }
}

struct Builder<'a> {
    catalog: &'a Catalog,
    opts: &'a BuildOptions,
    model: Model,
    /// class oid → index in `model.tables`
    class_table: HashMap<u32, usize>,
    /// Domain type oid → its table (a domain over a composite type, see `DOMAIN_KIND`).
    domain_table: HashMap<u32, usize>,
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

    /// The type of one row of a set (a connection's node, an item of a set-returning
    /// function's list): non-null under `--no-setof-functions-contain-nulls`.
    fn set_row(&self, ty: TypeRef) -> TypeRef {
        if self.opts.flags.no_setof_functions_contain_nulls {
            ty.non_null()
        } else {
            ty
        }
    }

    fn is_jwt(&self, t: &PgType) -> bool {
        matches!(&self.opts.jwt_type, Some((s, n)) if *s == t.schema && *n == t.name)
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
}

fn node_id_arg(name: &str, description: &str) -> ArgDef {
    ArgDef {
        name: name.into(),
        description: Some(description.into()),
        ty: TypeRef::named("ID").non_null(),
        default: None,
    }
}

/// The paging arguments of a simple collection (a plain list): `first` and `offset`.
fn list_page_args() -> Vec<ArgDef> {
    let arg = |name: &str, description: &str| ArgDef {
        name: name.into(),
        description: Some(description.into()),
        ty: TypeRef::named("Int"),
        default: None,
    };
    vec![
        arg("first", "Only read the first `n` values of the set."),
        arg("offset", "Skip the first `n` values."),
    ]
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
        DOMAIN_KIND => "domain",
        'f' => "foreign table",
        _ => "table",
    }
}
