//! The GraphQL schema model: what the API offers, built once from the catalog (see `build`),
//! named only through `inflect`. The juniper adapter and the planner both read this model.

pub mod aggregates;
pub mod build;
pub mod filter;
pub mod geometry;
pub mod inflect;
mod names;
mod prune;
pub mod tags;

use std::collections::{BTreeMap, HashSet};

pub use build::{build, BuildError, BuildOptions};

mod flags;
pub use flags::{LegacyRelations, SchemaFlags, SimpleCollections};

/// How a Postgres value crosses into JSON and back.
#[derive(Debug, Clone, PartialEq)]
pub enum Codec {
    /// `to_json` of the value is already right (numbers, booleans, strings, timestamps).
    Native { sql_type: String },
    /// float4/float8: `to_json` is right for finite values; NaN and ±Infinity, which GraphQL's
    /// Float cannot carry, come out as strings that the engine turns into field errors.
    Float { sql_type: String },
    /// interval: the `Interval` object of v4 (`years` ... `seconds`), `IntervalInput` as input.
    Interval { sql_type: String },
    /// point: v4's `Point` object (`x`, `y`), `PointInput` as input.
    Point { sql_type: String },
    /// line, lseg, box, path, polygon, circle with `--pg-geometric-types`: v4's objects.
    Geometry {
        sql_type: String,
        kind: geometry::Geometry,
    },
    /// Sent as its text form (a JSON string): BigInt, BigFloat, JSON (PostGraphile v4's
    /// default) and every type without a GraphQL type of its own.
    Text { sql_type: String },
    /// json/jsonb with `--dynamic-json`: the value itself goes out, and any input value is
    /// serialised to JSON text.
    Json { sql_type: String },
    /// A Postgres enum, or a column referencing an enum table (v4.8's `@enum` tables; its
    /// `sql_type` is the column's own, e.g. text): labels ↔ GraphQL enum values.
    Enum {
        sql_type: String,
        labels: Vec<(String, String)>,
        /// The enum table's place in `Catalog::enum_tables`; `None` for a Postgres enum.
        enum_table: Option<usize>,
    },
    /// An array of another codec.
    Array {
        sql_type: String,
        element: Box<Codec>,
    },
    /// A row type exposed as an object (a table's or a composite type's).
    Row { sql_type: String, table: usize },
    /// The configured JWT type: its attributes become the claims of a signed token.
    Jwt { sql_type: String, table: usize },
}

impl Codec {
    /// The schema-qualified, quoted type name used in casts.
    pub fn sql_type(&self) -> &str {
        match self {
            Codec::Native { sql_type }
            | Codec::Float { sql_type }
            | Codec::Interval { sql_type }
            | Codec::Point { sql_type }
            | Codec::Geometry { sql_type, .. }
            | Codec::Text { sql_type }
            | Codec::Json { sql_type }
            | Codec::Enum { sql_type, .. }
            | Codec::Array { sql_type, .. }
            | Codec::Row { sql_type, .. }
            | Codec::Jwt { sql_type, .. } => sql_type,
        }
    }
}

/// The fields of v4's `Interval` (in its order) and the `extract` field each reads.
pub const INTERVAL_PARTS: &[(&str, &str)] = &[
    ("seconds", "second"),
    ("minutes", "minute"),
    ("hours", "hour"),
    ("days", "day"),
    ("months", "month"),
    ("years", "year"),
];

/// The fields of v4's `Point` and the subscript of the point each reads.
pub const POINT_PARTS: &[(&str, u8)] = &[("x", 0), ("y", 1)];

/// A GraphQL type reference with its wrappers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Named(String),
    NonNull(Box<TypeRef>),
    List(Box<TypeRef>),
}

impl TypeRef {
    pub fn named(n: impl Into<String>) -> Self {
        TypeRef::Named(n.into())
    }
    pub fn non_null(self) -> Self {
        match self {
            TypeRef::NonNull(_) => self,
            t => TypeRef::NonNull(Box::new(t)),
        }
    }
    pub fn list(self) -> Self {
        TypeRef::List(Box::new(self))
    }
    pub fn innermost(&self) -> &str {
        match self {
            TypeRef::Named(n) => n,
            TypeRef::NonNull(t) | TypeRef::List(t) => t.innermost(),
        }
    }
    pub fn is_non_null(&self) -> bool {
        matches!(self, TypeRef::NonNull(_))
    }
    pub fn nullable(&self) -> &TypeRef {
        match self {
            TypeRef::NonNull(t) => t,
            t => t,
        }
    }
}

impl std::fmt::Display for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TypeRef::Named(n) => f.write_str(n),
            TypeRef::NonNull(t) => write!(f, "{t}!"),
            TypeRef::List(t) => write!(f, "[{t}]"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    pub types: BTreeMap<String, TypeDef>,
    pub query_type: String,
    pub mutation_type: Option<String>,
    /// `Subscription` with `--simple-subscriptions`.
    pub subscription_type: Option<String>,
    pub tables: Vec<Table>,
    pub relations: Vec<Relation>,
    pub functions: Vec<Function>,
    /// The field and argument holding global object identifiers: `nodeId` (`id` with
    /// `--classic-ids`).
    pub node_id_field: String,
    /// `--dynamic-json`: `JSON` values are JSON itself (objects and lists included).
    pub dynamic_json: bool,
    /// Roles a token's role claim may name (read at startup): those the connecting role may
    /// switch to, minus itself, superusers, BYPASSRLS roles and owners of exposed tables.
    pub roles: HashSet<String>,
    /// How `filter:` input is read (null and empty-object literals).
    pub filter: filter::FilterFlags,
}

impl Model {
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        match self.types.get(name) {
            Some(TypeDef::Object(o)) => Some(o),
            _ => None,
        }
    }
    pub fn input(&self, name: &str) -> Option<&InputDef> {
        match self.types.get(name) {
            Some(TypeDef::Input(o)) => Some(o),
            _ => None,
        }
    }
    /// Whether a selection made on `on_type` applies to an object of `concrete` type.
    pub fn applies(&self, on_type: &str, concrete: &str) -> bool {
        on_type == concrete
            || self
                .object(concrete)
                .is_some_and(|o| o.interfaces.iter().any(|i| i == on_type))
    }
    /// The table with a primary key that a node id's identifier names: its node identifier
    /// or, as PostGraphile v4 also accepts, its GraphQL type name.
    pub fn node_table(&self, identifier: &str) -> Option<usize> {
        self.tables.iter().position(|t| {
            (t.node_identifier == identifier || t.type_name == identifier)
                && t.primary_key.is_some()
                && !t.is_composite()
        })
    }
    /// Why a field is deprecated: a column's or function's `@deprecated` smart tag, or (as
    /// v4's default legacy relations have it) a backward relation over a unique key given as
    /// a connection, beside its single-row field.
    pub fn deprecation(&self, kind: &FieldKind) -> Option<String> {
        match kind {
            FieldKind::Column { table, column } => {
                self.tables[*table].columns[*column].deprecated.clone()
            }
            FieldKind::Computed { function }
            | FieldKind::Function { function }
            | FieldKind::ComputedList { function }
            | FieldKind::FunctionList { function } => self.functions[*function].deprecated.clone(),
            FieldKind::Backward { relation } | FieldKind::BackwardList { relation }
                if self.relation_is_unique(*relation) =>
            {
                Some(format!(
                    "Please use {} instead",
                    self.backward_single_name(*relation)
                ))
            }
            _ => None,
        }
    }

    /// Whether a foreign key's columns are a key of their own table: each row is referred to
    /// by one row at most.
    pub fn relation_is_unique(&self, relation: usize) -> bool {
        let r = &self.relations[relation];
        let t = &self.tables[r.table];
        t.primary_key
            .iter()
            .chain(&t.unique_keys)
            .any(|k| *k == r.columns)
    }

    /// The inflection names of a relation's columns (in its own table).
    fn relation_columns(&self, relation: usize) -> Vec<&str> {
        let r = &self.relations[relation];
        let t = &self.tables[r.table];
        r.columns
            .iter()
            .map(|&c| t.columns[c].inflect_name.as_str())
            .collect()
    }

    /// The forward field of a relation: `userByAuthorId`, or its `@fieldName`.
    pub fn forward_name(&self, relation: usize) -> String {
        let r = &self.relations[relation];
        match &r.names.field {
            Some(name) => name.clone(),
            None => inflect::forward_relation(
                &self.tables[r.foreign_table].inflect_name,
                &self.relation_columns(relation),
            ),
        }
    }

    /// The backward connection of a relation: `postsByAuthorId`, or its `@foreignFieldName`.
    pub fn backward_name(&self, relation: usize) -> String {
        let r = &self.relations[relation];
        match &r.names.foreign_field {
            Some(name) => name.clone(),
            None => inflect::backward_relation(
                &self.tables[r.table].inflect_name,
                &self.relation_columns(relation),
                false,
            ),
        }
    }

    /// The backward list of a relation: `postsByAuthorIdList`, or its
    /// `@foreignSimpleFieldName` (else `@foreignFieldName`).
    pub fn backward_list_name(&self, relation: usize) -> String {
        let r = &self.relations[relation];
        match r
            .names
            .foreign_simple
            .as_ref()
            .or(r.names.foreign_field.as_ref())
        {
            Some(name) => name.clone(),
            None => inflect::backward_relation_list(
                &self.tables[r.table].inflect_name,
                &self.relation_columns(relation),
            ),
        }
    }

    /// The single-row backward field of a unique relation: `userProfileByUserId`, or its
    /// `@foreignSingleFieldName` (else `@foreignFieldName`).
    pub fn backward_single_name(&self, relation: usize) -> String {
        let r = &self.relations[relation];
        match r
            .names
            .foreign_single
            .as_ref()
            .or(r.names.foreign_field.as_ref())
        {
            Some(name) => name.clone(),
            None => inflect::backward_relation(
                &self.tables[r.table].inflect_name,
                &self.relation_columns(relation),
                true,
            ),
        }
    }
    pub fn enum_(&self, name: &str) -> Option<&EnumDef> {
        match self.types.get(name) {
            Some(TypeDef::Enum(o)) => Some(o),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum TypeDef {
    Object(ObjectDef),
    Interface(InterfaceDef),
    Input(InputDef),
    Enum(EnumDef),
    Scalar(ScalarDef),
}

#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub description: Option<String>,
    pub fields: Vec<FieldDef>,
    /// Interfaces it implements (`Node`).
    pub interfaces: Vec<String>,
}

/// An interface: `Node`, implemented by every table type with a primary key (and `Query`).
#[derive(Debug, Clone)]
pub struct InterfaceDef {
    pub name: String,
    pub description: Option<String>,
    pub fields: Vec<FieldDef>,
}

impl ObjectDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub args: Vec<ArgDef>,
    pub kind: FieldKind,
}

/// What a field means: the planner dispatches on this.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// `query: Query!` (root and payloads)
    Query,
    /// A column (or composite attribute) of the parent row.
    Column {
        table: usize,
        column: usize,
    },
    /// A STABLE function taking the parent row first.
    Computed {
        function: usize,
    },
    /// The row a foreign key of the parent points to.
    Forward {
        relation: usize,
    },
    /// The rows whose foreign key points to the parent (a connection).
    Backward {
        relation: usize,
    },
    /// `allPosts`
    AllRows {
        table: usize,
    },
    /// `allPostsList`: a simple collection, the rows as a plain list.
    AllRowsList {
        table: usize,
    },
    /// `postsByAuthorIdList`: a backward relation as a plain list.
    BackwardList {
        relation: usize,
    },
    /// `userProfileByUserId`: a backward relation over a unique key, the one row (v4's
    /// `singleRelationByKeysBackwards`).
    BackwardSingle {
        relation: usize,
    },
    /// `searchPostsList`: a set-returning function's rows (or values) as a plain list.
    FunctionList {
        function: usize,
    },
    /// A computed column returning a set, as a plain list.
    ComputedList {
        function: usize,
    },
    /// `postById`, `userByUsername`
    RowByKey {
        table: usize,
        columns: Vec<usize>,
    },
    /// The global object identifier of a row (`nodeId`), or of `Query` itself.
    NodeId,
    /// `node(nodeId:)`: any row by its global identifier.
    Node,
    /// `post(nodeId:)`
    RowByNodeId {
        table: usize,
    },
    UpdateByNodeId {
        table: usize,
    },
    DeleteByNodeId {
        table: usize,
    },
    /// `deletedPostId`: the global identifier of the deleted row.
    DeletedNodeId,
    /// `listen(topic:)`: v4's simple subscription (served over WebSocket only).
    Listen,
    /// `ListenPayload.relatedNodeId`: the node id the event's `__node__` names.
    RelatedNodeId,
    /// `ListenPayload.relatedNode`: that node, read under the subscriber's role.
    RelatedNode,
    /// A function: a query when STABLE/IMMUTABLE, a mutation when VOLATILE.
    Function {
        function: usize,
    },
    Create {
        table: usize,
    },
    /// `upsertPost`: insert, or update the row a key conflicts with.
    Upsert {
        table: usize,
    },
    /// `createPosts`: many rows, one statement.
    CreateMany {
        table: usize,
    },
    Update {
        table: usize,
        columns: Vec<usize>,
    },
    Delete {
        table: usize,
        columns: Vec<usize>,
    },
    // Connection, edge and page-info parts
    Nodes,
    Edges,
    TotalCount,
    PageInfo,
    Cursor,
    EdgeNode,
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
    // Mutation payload parts
    ClientMutationId,
    /// The row a CRUD mutation wrote.
    PayloadRow,
    /// The value a function mutation returned.
    PayloadResult,
    /// A part of an `Interval`: `years`, `months`, `days`, `hours`, `minutes` or `seconds`.
    IntervalPart,
    /// A coordinate of a `Point`: `x` or `y`.
    PointPart,
    /// A forward relation of the row a CRUD mutation wrote.
    PayloadForward {
        relation: usize,
    },
    /// `postEdge(orderBy:)`: the written row as an edge of its table's connection.
    PayloadEdge {
        table: usize,
    },
    /// `aggregates` of a connection over the table's rows.
    Aggregates {
        table: usize,
    },
    /// `groupedAggregates(groupBy:, having:)` of a connection.
    GroupedAggregates {
        table: usize,
    },
    /// `keys` of an aggregates object: the group's values as text.
    AggregateKeys,
    /// `sum`, `min`, ... of an aggregates object.
    Aggregate {
        table: usize,
        spec: aggregates::AggSpec,
    },
    /// A column under an aggregate: the aggregate of that column.
    AggregateColumn {
        table: usize,
        column: usize,
        spec: aggregates::AggSpec,
        /// How the aggregate's value is sent.
        result: Codec,
    },
    /// A computed column under an aggregate: the aggregate of the function's values.
    AggregateComputed {
        function: usize,
        spec: aggregates::AggSpec,
        result: Codec,
    },
}

#[derive(Debug, Clone)]
pub struct ArgDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    pub default: Option<DefaultValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    EnumList(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct InputDef {
    pub name: String,
    pub description: Option<String>,
    pub fields: Vec<InputFieldDef>,
}

impl InputDef {
    pub fn field(&self, name: &str) -> Option<&InputFieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct InputFieldDef {
    pub name: String,
    pub description: Option<String>,
    pub ty: TypeRef,
    /// Which column (of the input's table) or function argument this field feeds.
    pub target: InputTarget,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InputTarget {
    Column(usize),
    FunctionArg(usize),
    /// `clientMutationId`
    ClientMutationId,
    /// A nested input object (`post: PostInput!`, `postPatch: PostPatch!`).
    Nested,
    /// A key column of an update/delete mutation's input.
    Key(usize),
    /// The global identifier of the row an update/delete mutation targets.
    NodeId,
    /// A field of a `filter:` input type.
    Filter(filter::FilterField),
    /// The key an upsert's conflict is on.
    ConflictKey,
    /// A computed column (the function's index) in a `having` condition.
    Computed(usize),
}

#[derive(Debug, Clone)]
pub struct EnumDef {
    pub name: String,
    pub description: Option<String>,
    pub values: Vec<EnumValueDef>,
}

#[derive(Debug, Clone)]
pub struct EnumValueDef {
    pub name: String,
    pub description: Option<String>,
    pub meaning: EnumMeaning,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EnumMeaning {
    /// A Postgres enum label.
    Label(String),
    Natural,
    PrimaryKey {
        ascending: bool,
    },
    Column {
        column: usize,
        ascending: bool,
    },
    /// A `groupBy` value: a column, or a timestamp column truncated (`date_trunc` unit).
    GroupBy {
        column: usize,
        truncate: Option<&'static str>,
    },
    /// An `orderBy` value over the rows referring to this one by `relation`: their count
    /// (`aggregate` None) or an aggregate of one of their columns.
    Related {
        relation: usize,
        aggregate: Option<(aggregates::AggSpec, usize)>,
        ascending: bool,
        /// The value's type (cursors cast back to it).
        result: Codec,
    },
}

#[derive(Debug, Clone)]
pub struct ScalarDef {
    pub name: String,
    pub description: Option<String>,
}

/// A table, view or composite type whose rows are GraphQL objects.
#[derive(Debug, Clone)]
pub struct Table {
    /// The class oid in the catalog.
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// `'r'` table, `'v'` view, `'m'` materialized view, `'c'` composite type, ...
    pub kind: char,
    pub type_name: String,
    /// The name its GraphQL names are made from: its `@name` smart tag, or its Postgres name.
    pub inflect_name: String,
    /// What its `@omit` smart tag leaves out.
    pub omit: tags::Omit,
    /// Names the table in its rows' node ids (`inflect::node_identifier`).
    pub node_identifier: String,
    pub columns: Vec<Column>,
    pub primary_key: Option<Vec<usize>>,
    pub unique_keys: Vec<Vec<usize>>,
    /// Its `@simpleCollections` smart tag, if any.
    pub simple_collections: Option<SimpleCollections>,
    /// The keys only a smart tag declares (`@primaryKey`, `@unique`), with no constraint
    /// behind them: lookups work, `ON CONFLICT` cannot use them.
    pub tag_keys: Vec<Vec<usize>>,
    /// A view's column that makes any order unique (v4's `viewUniqueKey`, `@uniqueKey`).
    pub view_unique_key: Option<usize>,
    /// Whether its connections offer aggregates (`@aggregates off`/`on`, `--aggregates-opt-in`).
    pub aggregates: bool,
}

/// The kind of a [`Table`] standing for a function's outputs (`RETURNS TABLE`, several OUT
/// parameters): its `<Function>Record` object type.
pub const RECORD_KIND: char = 'R';

/// The kind of a [`Table`] standing for a domain over a composite type: the composite's
/// fields under the domain's name (its `oid` is the composite's class).
pub const DOMAIN_KIND: char = 'D';

impl Table {
    /// A composite value with no rows of its own: a composite type (or a domain over one), or
    /// a function's outputs.
    pub fn is_composite(&self) -> bool {
        matches!(self.kind, 'c' | DOMAIN_KIND | RECORD_KIND)
    }

    /// A function's outputs (see [`RECORD_KIND`]).
    pub fn is_record(&self) -> bool {
        self.kind == RECORD_KIND
    }

    /// The keys an upsert may conflict on, the primary key first (flagged `true`): unique
    /// constraints (not smart-tag keys, which `ON CONFLICT` cannot name) whose columns an
    /// insert can supply. A key Postgres alone fills in (an identity column `GENERATED
    /// ALWAYS`) never conflicts, and its column may not even be set to itself.
    pub fn upsert_keys(&self) -> Vec<(&Vec<usize>, bool)> {
        self.primary_key
            .iter()
            .map(|k| (k, true))
            .chain(self.unique_keys.iter().map(|k| (k, false)))
            .filter(|(k, _)| !self.tag_keys.contains(k))
            .filter(|(k, _)| k.iter().all(|&c| self.columns[c].writable))
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// The name its GraphQL names are made from: its `@name` smart tag, or its Postgres name
    /// (`row_id` for `id` with `--classic-ids`).
    pub inflect_name: String,
    /// The name its `orderBy` values are made from (v4 keeps `ID_ASC` with classic ids).
    pub order_name: String,
    /// What its `@omit` smart tag leaves out.
    pub omit: tags::Omit,
    /// The reason of its `@deprecated` smart tag.
    pub deprecated: Option<String>,
    /// Its `@refreshToken` smart tag: the attribute of a mutation's result that is the refresh
    /// token (carried in the refresh cookie with `--jwt-refresh-cookie`).
    pub refresh_token: bool,
    pub field: String,
    pub codec: Codec,
    pub not_null: bool,
    pub has_default: bool,
    /// Whether a mutation may write it: not a generated column nor `GENERATED ALWAYS AS
    /// IDENTITY` (Postgres alone fills those in).
    pub writable: bool,
    /// Whether the role may select it: false only under `--no-ignore-rbac` for a column
    /// without SELECT (reads then name the readable columns instead of the whole row).
    pub readable: bool,
}

/// A foreign key: `table.columns` reference `foreign_table.foreign_columns`.
#[derive(Debug, Clone)]
pub struct Relation {
    pub table: usize,
    pub columns: Vec<usize>,
    pub foreign_table: usize,
    pub foreign_columns: Vec<usize>,
    /// The foreign key's `@simpleCollections` smart tag, if any.
    pub simple_collections: Option<SimpleCollections>,
    /// Field names its smart tags give (v4's `@fieldName`, `@foreignFieldName`, ...).
    pub names: RelationNames,
}

/// A relation's field names from smart tags on its constraint (or in its `@foreignKey`
/// after `|`): the forward field, and the backward connection, single row and list.
#[derive(Debug, Clone, Default)]
pub struct RelationNames {
    pub field: Option<String>,
    pub foreign_field: Option<String>,
    pub foreign_single: Option<String>,
    pub foreign_simple: Option<String>,
}

impl RelationNames {
    pub fn from_tags(tags: &tags::Tags) -> RelationNames {
        let get = |k: &str| tags.value(k).map(str::to_string);
        RelationNames {
            field: get("fieldName"),
            foreign_field: get("foreignFieldName"),
            foreign_single: get("foreignSingleFieldName"),
            foreign_simple: get("foreignSimpleFieldName"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Function {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// The name its GraphQL names are made from: its `@name` smart tag, or its Postgres name.
    pub inflect_name: String,
    pub args: Vec<FunctionArg>,
    pub returns: Codec,
    pub returns_set: bool,
    /// `RETURNS void`: a mutation's payload has no result field.
    pub returns_void: bool,
    /// The name of its one named output (OUT parameter): a mutation's result field.
    pub single_output: Option<String>,
    pub volatile: bool,
    pub strict: bool,
    pub num_defaults: usize,
    /// The reason of its `@deprecated` smart tag.
    pub deprecated: Option<String>,
    /// Its `@simpleCollections` smart tag, if any.
    pub simple_collections: Option<SimpleCollections>,
    /// `@sortable`: a set of table rows takes `orderBy`.
    pub sortable: bool,
    /// `@filterable`: a set of table rows takes `condition`.
    pub filterable: bool,
}

#[derive(Debug, Clone)]
pub struct FunctionArg {
    pub name: String,
    pub field: String,
    pub codec: Codec,
}
