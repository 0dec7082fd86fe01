//! Catalog: the database schema, read by one query (`sql/introspection.sql`) into typed structs.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use tokio_postgres::types::{FromSql, Type};
use tracing::Instrument;

mod enum_tables;
pub use enum_tables::{EnumTable, EnumTableValue};

pub use crate::sql::text::INTROSPECTION_SQL;

/// Everything the engine knows about the database, as returned by
/// [`INTROSPECTION_SQL`]. Every list is sorted by schema, then name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Catalog {
    pub classes: Vec<Class>,
    pub constraints: Vec<Constraint>,
    pub procs: Vec<Proc>,
    pub types: Vec<PgType>,
    pub roles: Vec<String>,
    pub server_version_num: i32,
    /// `@enum` tables and their rows, read by a second query (see [`enum_tables`]).
    #[serde(default)]
    pub enum_tables: Vec<EnumTable>,
    /// Lookup tables by oid, built on first use (or by [`Catalog::reindex`]).
    /// Public only so that a `Catalog` can be written as a struct literal
    /// with `..Default::default()`.
    #[serde(skip)]
    pub index: Index,
}

/// A table (`r`), view (`v`), materialized view (`m`), foreign table (`f`),
/// partitioned table (`p`) or composite type (`c`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Class {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub kind: String,
    /// A partition of a partitioned table.
    #[serde(default)]
    pub is_partition: bool,
    pub comment: Option<String>,
    pub type_oid: u32,
    /// Table-level privileges of the connecting role or a role it is a member of (v4's
    /// `aclSelectable`, ...); absent (a hand-written catalog): granted.
    #[serde(default = "granted")]
    pub acl_select: bool,
    #[serde(default = "granted")]
    pub acl_insert: bool,
    #[serde(default = "granted")]
    pub acl_update: bool,
    #[serde(default = "granted")]
    pub acl_delete: bool,
    /// What Postgres lets statements do to the relation (`pg_relation_is_updatable`, as v4
    /// reads it): tables yes, simple views yes, views with joins or aggregates and
    /// materialized views no; absent (a hand-written catalog): yes.
    #[serde(default = "granted")]
    pub insertable: bool,
    #[serde(default = "granted")]
    pub updatable: bool,
    #[serde(default = "granted")]
    pub deletable: bool,
    pub attributes: Vec<Attribute>,
}

fn granted() -> bool {
    true
}

/// A column of a [`Class`] (dropped and system columns are never listed).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Attribute {
    pub num: i16,
    pub name: String,
    pub type_oid: u32,
    pub type_modifier: i32,
    pub not_null: bool,
    pub has_default: bool,
    /// `"a"` (always), `"d"` (by default) or `""` (not an identity column).
    pub identity: String,
    /// `"s"` (stored generated column) or `""`.
    pub generated: String,
    pub comment: Option<String>,
    /// Column privileges (a table-level grant counts), as for [`Class::acl_select`].
    #[serde(default = "granted")]
    pub acl_select: bool,
    #[serde(default = "granted")]
    pub acl_insert: bool,
    #[serde(default = "granted")]
    pub acl_update: bool,
}

/// A primary key (`p`), unique (`u`), foreign key (`f`) or check (`c`) constraint.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Constraint {
    pub name: String,
    pub class_oid: u32,
    pub kind: String,
    /// Attribute numbers of the constrained columns, in constraint order.
    pub keys: Vec<i16>,
    pub foreign_class_oid: Option<u32>,
    /// Attribute numbers in the foreign class, paired with `keys`.
    pub foreign_keys: Vec<i16>,
    pub comment: Option<String>,
}

/// A function (`prokind = 'f'`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Proc {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    pub comment: Option<String>,
    /// Names of the input (IN, INOUT, VARIADIC) arguments, aligned with
    /// `arg_types`; `""` for an unnamed one; empty when no argument is named.
    pub arg_names: Vec<String>,
    /// Names of all arguments, outputs included, aligned with `all_arg_types` (`""` for an
    /// unnamed one; empty when no argument is named).
    #[serde(default)]
    pub all_arg_names: Vec<String>,
    /// Types of the input arguments (`proargtypes`).
    pub arg_types: Vec<u32>,
    /// Modes of all arguments (`i`, `o`, `b`, `v`, `t`), aligned with
    /// `all_arg_types`; empty when all arguments are IN.
    pub arg_modes: Vec<String>,
    /// Types of all arguments, outputs included; `None` when all are IN.
    pub all_arg_types: Option<Vec<u32>>,
    /// How many of the last input arguments have a default.
    pub num_defaults: i16,
    pub return_type_oid: u32,
    pub returns_set: bool,
    /// `i` (immutable), `s` (stable) or `v` (volatile).
    pub volatility: String,
    pub is_strict: bool,
    pub security_definer: bool,
    pub language: String,
    /// EXECUTE for the connecting role or a role it is a member of.
    #[serde(default = "granted")]
    pub acl_execute: bool,
}

/// A type (`pg_type` row).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PgType {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// `typtype`: `b` base, `c` composite, `d` domain, `e` enum, `p` pseudo,
    /// `r` range, `m` multirange.
    pub kind: String,
    /// `typcategory`, e.g. `A` array, `N` numeric, `S` string.
    pub category: String,
    /// Element type, for array types only.
    pub elem_oid: Option<u32>,
    pub array_oid: Option<u32>,
    /// Base type, for domains only.
    pub base_oid: Option<u32>,
    /// The [`Class`] of a composite type.
    pub class_oid: Option<u32>,
    /// Enum labels in declaration order (empty for non-enums).
    pub enum_values: Vec<String>,
    pub comment: Option<String>,
    /// A domain declared `NOT NULL`.
    pub not_null: bool,
}

/// Errors of the catalog layer.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("introspection query failed: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("introspection returned unexpected JSON: {0}")]
    Decode(#[from] serde_json::Error),
}

/// Runs the introspection query for `schemas` and decodes its result.
///
/// The query runs in its own short read-only transaction, so `client` must
/// not be inside one.
/// The schemas of `wanted` that the database does not have, and the ones it has.
pub async fn missing_schemas(
    client: &tokio_postgres::Client,
    wanted: &[String],
) -> Result<(Vec<String>, Vec<String>), CatalogError> {
    let existing: Vec<String> = client
        .query(crate::sql::text::USER_SCHEMAS, &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let missing = wanted
        .iter()
        .filter(|w| !existing.contains(w))
        .cloned()
        .collect();
    Ok((missing, existing))
}

pub async fn load(
    client: &tokio_postgres::Client,
    schemas: &[String],
) -> Result<Catalog, CatalogError> {
    let span = tracing::info_span!("introspect", schemas = ?schemas);
    async move {
        client
            .batch_execute(crate::sql::text::INTROSPECTION_BEGIN)
            .await?;
        let row = match client.query_one(INTROSPECTION_SQL, &[&schemas]).await {
            Ok(row) => row,
            Err(error) => {
                // Best effort: the query's error is the one worth reporting.
                let _ = client.batch_execute(crate::sql::text::ROLLBACK).await;
                return Err(error.into());
            }
        };
        let json: RawJson<'_> = row.try_get(0)?;
        let mut catalog: Catalog = match serde_json::from_slice(json.0) {
            Ok(catalog) => catalog,
            Err(error) => {
                let _ = client.batch_execute(crate::sql::text::ROLLBACK).await;
                return Err(error.into());
            }
        };
        catalog.reindex();
        // Enum tables' rows, in the same snapshot as the catalog.
        let found = {
            let tables = enum_tables::candidates(&catalog);
            match enum_tables::values_sql(&tables) {
                None => Ok(vec![]),
                Some(sql) => match client.query(&sql, &[]).await {
                    Ok(rows) => enum_tables::collect(&tables, &rows),
                    Err(error) => Err(error),
                },
            }
        };
        match found {
            Ok(found) => {
                catalog.enum_tables = found;
                client.batch_execute(crate::sql::text::COMMIT).await?;
            }
            // One unreadable enum table must not take the API down: the `@enum` tables stay
            // ordinary tables (the catalog is already read; the transaction only held it).
            Err(error) => {
                tracing::warn!(
                    "`@enum` tables left as ordinary tables: their rows could not be read ({error}); \
                     the connecting role needs USAGE on their schema and SELECT on them"
                );
                client.batch_execute(crate::sql::text::ROLLBACK).await?;
            }
        }
        tracing::info!(
            classes = catalog.classes.len(),
            constraints = catalog.constraints.len(),
            procs = catalog.procs.len(),
            types = catalog.types.len(),
            bytes = json.0.len(),
            "catalog loaded"
        );
        Ok(catalog)
    }
    .instrument(span)
    .await
}

/// The bytes of a `json` value, decoded by serde_json without an
/// intermediate `serde_json::Value`.
struct RawJson<'a>(&'a [u8]);

impl<'a> FromSql<'a> for RawJson<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawJson(raw))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON
    }
}

/// Lookup tables of a [`Catalog`] (positions in its vectors, keyed by oid).
#[derive(Clone, Default)]
pub struct Index(OnceLock<Maps>);

#[derive(Clone, Default)]
struct Maps {
    classes: HashMap<u32, usize>,
    types: HashMap<u32, usize>,
    procs: HashMap<u32, usize>,
    constraints_by_class: HashMap<u32, Vec<usize>>,
    constraints_by_foreign_class: HashMap<u32, Vec<usize>>,
}

impl fmt::Debug for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Index")
            .field("built", &self.0.get().is_some())
            .finish()
    }
}

impl Maps {
    fn build(catalog: &Catalog) -> Maps {
        let positions = |oids: &mut dyn Iterator<Item = u32>| -> HashMap<u32, usize> {
            oids.enumerate().map(|(i, oid)| (oid, i)).collect()
        };
        let mut maps = Maps {
            classes: positions(&mut catalog.classes.iter().map(|c| c.oid)),
            types: positions(&mut catalog.types.iter().map(|t| t.oid)),
            procs: positions(&mut catalog.procs.iter().map(|p| p.oid)),
            ..Maps::default()
        };
        for (i, constraint) in catalog.constraints.iter().enumerate() {
            maps.constraints_by_class
                .entry(constraint.class_oid)
                .or_default()
                .push(i);
            if let Some(foreign) = constraint.foreign_class_oid {
                maps.constraints_by_foreign_class
                    .entry(foreign)
                    .or_default()
                    .push(i);
            }
        }
        maps
    }
}

impl Catalog {
    /// Decodes the JSON produced by [`INTROSPECTION_SQL`] (e.g. a test fixture).
    pub fn from_json(json: &str) -> Result<Catalog, serde_json::Error> {
        let mut catalog: Catalog = serde_json::from_str(json)?;
        catalog.reindex();
        Ok(catalog)
    }

    /// (Re)builds the lookup tables; call after changing the vectors of an
    /// already indexed catalog. Lookups build them on first use otherwise.
    pub fn reindex(&mut self) {
        let maps = Maps::build(self);
        self.index = Index(OnceLock::from(maps));
    }

    fn maps(&self) -> &Maps {
        self.index.0.get_or_init(|| Maps::build(self))
    }

    /// The class with this oid.
    pub fn class(&self, oid: u32) -> Option<&Class> {
        self.maps().classes.get(&oid).map(|&i| &self.classes[i])
    }

    /// Whether this class is an `@enum` table (or view) read as an enum, not exposed itself.
    pub fn is_enum_table(&self, class_oid: u32) -> bool {
        self.enum_tables
            .iter()
            .any(|t| t.class_oid == class_oid && t.whole_table)
    }

    /// The enum made of this key column of a class (v4.8's `@enum` tables and constraints),
    /// with its place in [`Catalog::enum_tables`].
    pub fn enum_of_key(&self, class_oid: u32, key: i16) -> Option<(usize, &EnumTable)> {
        self.enum_tables
            .iter()
            .enumerate()
            .find(|(_, t)| t.class_oid == class_oid && t.key == key)
    }

    /// The type with this oid.
    pub fn type_(&self, oid: u32) -> Option<&PgType> {
        self.maps().types.get(&oid).map(|&i| &self.types[i])
    }

    /// The function with this oid.
    pub fn proc(&self, oid: u32) -> Option<&Proc> {
        self.maps().procs.get(&oid).map(|&i| &self.procs[i])
    }

    /// Constraints of a class, sorted by name.
    pub fn class_constraints(&self, class_oid: u32) -> impl Iterator<Item = &Constraint> + '_ {
        self.constraints_at(self.maps().constraints_by_class.get(&class_oid))
    }

    /// Foreign keys referencing a class (from any class), sorted by
    /// referencing schema, class and constraint name.
    pub fn foreign_keys_to(&self, class_oid: u32) -> impl Iterator<Item = &Constraint> + '_ {
        self.constraints_at(self.maps().constraints_by_foreign_class.get(&class_oid))
    }

    fn constraints_at<'a>(
        &'a self,
        positions: Option<&'a Vec<usize>>,
    ) -> impl Iterator<Item = &'a Constraint> + 'a {
        positions
            .into_iter()
            .flatten()
            .map(move |&i| &self.constraints[i])
    }

    /// The primary key of a class, if it has one.
    pub fn primary_key(&self, class_oid: u32) -> Option<&Constraint> {
        self.class_constraints(class_oid)
            .find(|c| c.is_primary_key())
    }

    /// The class of a composite type (`None` for other types and for
    /// composite types whose class is not exposed).
    pub fn type_class(&self, type_oid: u32) -> Option<&Class> {
        self.class(self.type_(type_oid)?.class_oid?)
    }

    /// The class named `schema.name` (linear search: for configuration, not
    /// per-request use).
    pub fn class_by_name(&self, schema: &str, name: &str) -> Option<&Class> {
        self.classes
            .iter()
            .find(|c| c.schema == schema && c.name == name)
    }

    /// The type named `schema.name` (linear search: for configuration, e.g.
    /// the JWT token type, not per-request use).
    pub fn type_by_name(&self, schema: &str, name: &str) -> Option<&PgType> {
        self.types
            .iter()
            .find(|t| t.schema == schema && t.name == name)
    }

    /// Follows domains down to their base type (cycles cannot exist in
    /// PostgreSQL; a missing base type stops the walk).
    pub fn base_type(&self, type_oid: u32) -> Option<&PgType> {
        let mut ty = self.type_(type_oid)?;
        while let Some(base) = ty.base_oid.and_then(|oid| self.type_(oid)) {
            ty = base;
        }
        Some(ty)
    }
}

impl Class {
    /// The attribute with this number.
    pub fn attribute(&self, num: i16) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.num == num)
    }

    /// The attribute with this name.
    pub fn attribute_by_name(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The attributes with these numbers (e.g. a constraint's `keys`), in
    /// that order; `None` if one is missing.
    pub fn attributes_of(&self, nums: &[i16]) -> Option<Vec<&Attribute>> {
        nums.iter().map(|&n| self.attribute(n)).collect()
    }

    /// A table: ordinary, partitioned or foreign.
    pub fn is_table(&self) -> bool {
        matches!(self.kind.as_str(), "r" | "p" | "f")
    }

    /// A view or materialized view.
    pub fn is_view(&self) -> bool {
        matches!(self.kind.as_str(), "v" | "m")
    }

    /// A standalone composite type (`CREATE TYPE ... AS (...)`).
    pub fn is_composite_type(&self) -> bool {
        self.kind == "c"
    }
}

impl Attribute {
    /// `GENERATED ... AS IDENTITY`.
    pub fn is_identity(&self) -> bool {
        !self.identity.is_empty()
    }

    /// `GENERATED ALWAYS AS (...) STORED`.
    pub fn is_generated(&self) -> bool {
        !self.generated.is_empty()
    }

    /// Whether INSERT/UPDATE may set this column explicitly (not a generated
    /// column, not `GENERATED ALWAYS AS IDENTITY`).
    pub fn is_writable(&self) -> bool {
        !self.is_generated() && self.identity != "a"
    }
}

impl Constraint {
    pub fn is_primary_key(&self) -> bool {
        self.kind == "p"
    }

    pub fn is_unique(&self) -> bool {
        self.kind == "u"
    }

    pub fn is_foreign_key(&self) -> bool {
        self.kind == "f"
    }

    pub fn is_check(&self) -> bool {
        self.kind == "c"
    }
}

/// `pg_catalog.record`.
const RECORD_OID: u32 = 2249;

/// An input argument of a [`Proc`] (IN, INOUT or VARIADIC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputArg<'a> {
    /// Position among the input arguments, from 0.
    pub position: usize,
    /// `None` when the argument is unnamed.
    pub name: Option<&'a str>,
    pub type_oid: u32,
    pub variadic: bool,
    pub has_default: bool,
}

impl Proc {
    /// The input arguments (IN, INOUT, VARIADIC), in call order.
    pub fn input_args(&self) -> impl Iterator<Item = InputArg<'_>> + '_ {
        let first_default = self
            .arg_types
            .len()
            .saturating_sub(usize::try_from(self.num_defaults).unwrap_or(0));
        let mut input_modes = self
            .arg_modes
            .iter()
            .filter(|m| matches!(m.as_str(), "i" | "b" | "v"));
        self.arg_types
            .iter()
            .enumerate()
            .map(move |(position, &type_oid)| InputArg {
                position,
                name: self
                    .arg_names
                    .get(position)
                    .map(String::as_str)
                    .filter(|n| !n.is_empty()),
                type_oid,
                variadic: input_modes.next().is_some_and(|m| m == "v"),
                has_default: position >= first_default,
            })
    }

    pub fn is_volatile(&self) -> bool {
        self.volatility == "v"
    }

    /// The outputs (OUT, INOUT and TABLE parameters) in order: name (`None` when unnamed)
    /// and type.
    pub fn output_args(&self) -> Vec<(Option<&str>, u32)> {
        let types = self.all_arg_types.as_deref().unwrap_or_default();
        self.arg_modes
            .iter()
            .zip(types)
            .enumerate()
            .filter(|(_, (m, _))| matches!(m.as_str(), "o" | "b" | "t"))
            .map(|(i, (_, &t))| {
                let name = self.all_arg_names.get(i).map(String::as_str);
                (name.filter(|n| !n.is_empty()), t)
            })
            .collect()
    }

    /// Whether the function returns `record` described by its outputs (several OUT
    /// parameters or `RETURNS TABLE`).
    pub fn returns_record(&self) -> bool {
        self.return_type_oid == RECORD_OID
    }

    /// Whether the function has OUT/INOUT/TABLE arguments.
    pub fn has_output_args(&self) -> bool {
        self.arg_modes
            .iter()
            .any(|m| matches!(m.as_str(), "o" | "b" | "t"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = r#"{
      "classes": [
        {"oid": 100, "schema": "app", "name": "posts", "kind": "r", "comment": null, "type_oid": 101,
         "attributes": [
           {"num": 1, "name": "id", "type_oid": 23, "type_modifier": -1, "not_null": true, "has_default": true, "identity": "a", "generated": "", "comment": null},
           {"num": 2, "name": "author_id", "type_oid": 23, "type_modifier": -1, "not_null": true, "has_default": false, "identity": "", "generated": "", "comment": "author"},
           {"num": 4, "name": "len", "type_oid": 23, "type_modifier": -1, "not_null": false, "has_default": true, "identity": "", "generated": "s", "comment": null}
         ]},
        {"oid": 200, "schema": "app", "name": "users", "kind": "v", "comment": "people", "type_oid": 201, "attributes": []}
      ],
      "constraints": [
        {"name": "posts_author_fkey", "class_oid": 100, "kind": "f", "keys": [2], "foreign_class_oid": 200, "foreign_keys": [1], "comment": null},
        {"name": "posts_pkey", "class_oid": 100, "kind": "p", "keys": [1], "foreign_class_oid": null, "foreign_keys": [], "comment": null}
      ],
      "procs": [
        {"oid": 300, "schema": "app", "name": "f", "comment": null, "arg_names": ["a", "", "c", "d"],
         "arg_types": [23, 25, 1007, 23], "arg_modes": [], "all_arg_types": null, "num_defaults": 2,
         "return_type_oid": 25, "returns_set": false, "volatility": "s", "is_strict": false,
         "security_definer": false, "language": "sql"},
        {"oid": 301, "schema": "app", "name": "g", "comment": null, "arg_names": ["a", "c", "d"],
         "arg_types": [23, 25, 1007], "arg_modes": ["i", "o", "b", "v"], "all_arg_types": [23, 23, 25, 1007],
         "num_defaults": 0, "return_type_oid": 2249, "returns_set": false, "volatility": "v",
         "is_strict": true, "security_definer": true, "language": "plpgsql"},
        {"oid": 302, "schema": "app", "name": "h", "comment": null, "arg_names": [],
         "arg_types": [23], "arg_modes": [], "all_arg_types": null, "num_defaults": 0,
         "return_type_oid": 23, "returns_set": true, "volatility": "i", "is_strict": false,
         "security_definer": false, "language": "sql"}
      ],
      "types": [
        {"oid": 23, "schema": "pg_catalog", "name": "int4", "kind": "b", "category": "N", "elem_oid": null, "array_oid": 1007, "base_oid": null, "class_oid": null, "enum_values": [], "comment": null, "not_null": false},
        {"oid": 101, "schema": "app", "name": "posts", "kind": "c", "category": "C", "elem_oid": null, "array_oid": null, "base_oid": null, "class_oid": 100, "enum_values": [], "comment": null, "not_null": false},
        {"oid": 500, "schema": "app", "name": "positive", "kind": "d", "category": "N", "elem_oid": null, "array_oid": null, "base_oid": 23, "class_oid": null, "enum_values": [], "comment": null, "not_null": false},
        {"oid": 501, "schema": "app", "name": "small_positive", "kind": "d", "category": "N", "elem_oid": null, "array_oid": null, "base_oid": 500, "class_oid": null, "enum_values": [], "comment": null, "not_null": true},
        {"oid": 600, "schema": "app", "name": "status", "kind": "e", "category": "E", "elem_oid": null, "array_oid": null, "base_oid": null, "class_oid": null, "enum_values": ["draft", "published"], "comment": null, "not_null": false}
      ],
      "roles": ["anon", "postgres"],
      "server_version_num": 150018
    }"#;

    fn catalog() -> Catalog {
        Catalog::from_json(FIXTURE).expect("fixture decodes")
    }

    #[test]
    fn lookups_by_oid() {
        let c = catalog();
        assert_eq!(c.class(100).map(|c| c.name.as_str()), Some("posts"));
        assert!(c.class(999).is_none());
        assert_eq!(c.type_(600).unwrap().enum_values, ["draft", "published"]);
        assert_eq!(c.proc(301).map(|p| p.name.as_str()), Some("g"));
        assert_eq!(c.type_class(101).map(|c| c.oid), Some(100));
        assert!(c.type_class(23).is_none());
        assert_eq!(c.base_type(501).map(|t| t.name.as_str()), Some("int4"));
        assert_eq!(c.type_by_name("app", "status").map(|t| t.oid), Some(600));
        assert_eq!(c.class_by_name("app", "users").map(|c| c.oid), Some(200));
    }

    #[test]
    fn constraints_by_class() {
        let c = catalog();
        let names: Vec<_> = c.class_constraints(100).map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["posts_author_fkey", "posts_pkey"]);
        assert_eq!(c.class_constraints(200).count(), 0);
        assert_eq!(c.primary_key(100).unwrap().keys, [1]);
        let to_users: Vec<_> = c.foreign_keys_to(200).map(|c| c.name.as_str()).collect();
        assert_eq!(to_users, ["posts_author_fkey"]);
    }

    #[test]
    fn lazy_index_for_struct_literals() {
        let decoded = catalog();
        let c = Catalog {
            classes: decoded.classes.clone(),
            ..Default::default()
        };
        assert_eq!(c.class(200).map(|c| c.name.as_str()), Some("users"));
        assert!(c.type_(23).is_none());
    }

    #[test]
    fn class_and_attribute_helpers() {
        let c = catalog();
        let posts = c.class(100).unwrap();
        assert!(posts.is_table() && !posts.is_view() && !posts.is_composite_type());
        assert!(c.class(200).unwrap().is_view());
        assert_eq!(posts.attribute(2).unwrap().name, "author_id");
        assert!(posts.attribute(3).is_none());
        assert_eq!(posts.attribute_by_name("len").unwrap().num, 4);
        let keys = posts.attributes_of(&[2, 1]).unwrap();
        assert_eq!(keys[0].name, "author_id");
        assert!(posts.attributes_of(&[3]).is_none());
        let id = posts.attribute(1).unwrap();
        assert!(id.is_identity() && !id.is_writable());
        let len = posts.attribute(4).unwrap();
        assert!(len.is_generated() && !len.is_writable());
        assert!(posts.attribute(2).unwrap().is_writable());
    }

    #[test]
    fn input_args_with_defaults_and_unnamed() {
        let c = catalog();
        let args: Vec<_> = c.proc(300).unwrap().input_args().collect();
        assert_eq!(args.len(), 4);
        assert_eq!(args[0].name, Some("a"));
        assert_eq!(args[1].name, None);
        assert_eq!(args[2].type_oid, 1007);
        assert_eq!(
            args.iter().map(|a| a.has_default).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        assert!(args.iter().all(|a| !a.variadic));
    }

    #[test]
    fn input_args_skip_out_args() {
        let c = catalog();
        let g = c.proc(301).unwrap();
        assert!(g.is_volatile() && g.has_output_args());
        let args: Vec<_> = g
            .input_args()
            .map(|a| (a.name, a.type_oid, a.variadic))
            .collect();
        assert_eq!(
            args,
            [
                (Some("a"), 23, false),
                (Some("c"), 25, false),
                (Some("d"), 1007, true)
            ]
        );
        let h = c.proc(302).unwrap();
        assert!(!h.has_output_args());
        let args: Vec<_> = h.input_args().collect();
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].name, None);
        assert_eq!(args[0].position, 0);
    }

    #[test]
    fn round_trips_through_serde() {
        let c = catalog();
        let json = serde_json::to_string(&c).unwrap();
        let again = Catalog::from_json(&json).unwrap();
        assert_eq!(again.classes.len(), 2);
        assert_eq!(again.server_version_num, 150018);
        assert_eq!(again.roles, ["anon", "postgres"]);
    }
}
