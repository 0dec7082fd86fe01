//! Selection tree + schema model → a typed plan of what to read or write: tables, columns,
//! relations, arguments checked and coerced to Postgres text values, enum values checked,
//! defaults applied. Pure: no SQL text here (see `sql`), no database.

mod aggregates;
mod arguments;
mod connections;
pub mod filter;
pub mod fixups;
mod mutation;
mod roots;
mod rows;

pub use aggregates::*;
pub use arguments::*;
pub use fixups::{Fixup, FixupPath, SESSION_KEY, TOO_MANY_GROUPS};

use crate::graphql::document::{merge, FieldNode, OpKind, Operation, Value, VarPath};
use crate::schema::geometry::{GeoPart, Geometry};
use crate::schema::{
    Codec, EnumMeaning, FieldKind, InputTarget, Model, Table, TypeRef, INTERVAL_PARTS, POINT_PARTS,
};

/// A field the planner rejects: the request is well-formed GraphQL but asks for something invalid.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    pub message: String,
    pub location: (usize, usize),
    /// The stable `extensions.code`: [`INVALID`] unless a more precise one applies.
    pub code: &'static str,
}

/// The code of a request the planner refuses: valid GraphQL asking for something invalid.
pub const INVALID: &str = "GRAPHQL_VALIDATION_FAILED";

/// What the planner needs beyond the model.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// The largest page a connection may return: an explicit `first`/`last` over it is
    /// refused, and a connection with neither returns at most this many rows (its
    /// `pageInfo.hasNextPage` tells whether there are more). None: no cap.
    pub max_page_size: Option<i64>,
    /// The most groups a `groupedAggregates` may return (more is a field error). None: no cap.
    pub max_groups: Option<i64>,
}

type Result<T> = std::result::Result<T, PlanError>;

fn err<T>(node: &FieldNode, message: impl Into<String>) -> Result<T> {
    Err(PlanError {
        message: message.into(),
        location: node.location,
        code: INVALID,
    })
}

#[derive(Debug, Clone)]
pub struct TableRef {
    pub schema: String,
    pub name: String,
}

impl From<&Table> for TableRef {
    fn from(t: &Table) -> Self {
        TableRef {
            schema: t.schema.clone(),
            name: t.name.clone(),
        }
    }
}

/// Fields of one object built from a row.
#[derive(Debug, Clone, Default)]
pub struct RowSel {
    pub fields: Vec<(String, RowField)>,
}

#[derive(Debug, Clone)]
pub enum RowField {
    Typename(String),
    Column {
        column: String,
        out: Out,
        /// NOT NULL: a value that cannot be sent nulls the row instead (GraphQL's rule).
        non_null: bool,
        /// The column is tagged `@refreshToken` (see `fixups`).
        refresh_token: bool,
    },
    /// A computed column: `function(row, args...)`, a set of composite values when
    /// `returns_set` (sets of table rows and of scalars are connections, `Backward`).
    Computed {
        function: TableRef,
        args: Vec<Param>,
        returns_set: bool,
        out: Out,
    },
    Forward(ForwardRow),
    /// A connection below the row: a backward relation, or a computed column returning a set.
    Backward(Box<Connection>),
    NodeId(NodeIdSpec),
}

/// The row a foreign key points to: `table.<foreign col> = parent.<local col>` per pair.
#[derive(Debug, Clone)]
pub struct ForwardRow {
    pub table: TableRef,
    pub join: Vec<(String, String)>,
    pub sel: RowSel,
}

/// How to build a row's global identifier: base64 of `["<identifier>", pk values...]`.
#[derive(Debug, Clone)]
pub struct NodeIdSpec {
    pub identifier: String,
    pub key: Vec<(String, Codec)>,
}

/// One column of a connection's order.
#[derive(Debug, Clone)]
pub struct OrderCol {
    pub column: String,
    pub asc: bool,
    pub sql_type: String,
    /// The cursor holds the value's text form (arrays, composites: their JSON is not what
    /// a cast back to the type parses), so it round-trips.
    pub text_cursor: bool,
    /// Not a column: an aggregate of the rows referring to this one.
    pub related: Option<RelatedOrder>,
}

impl OrderCol {
    pub fn of(column: &str, codec: &Codec, asc: bool) -> OrderCol {
        OrderCol {
            column: column.to_string(),
            asc,
            sql_type: codec.sql_type().to_string(),
            text_cursor: matches!(
                codec,
                Codec::Array { .. }
                    | Codec::Row { .. }
                    | Codec::Point { .. }
                    | Codec::Geometry { .. }
            ),
            related: None,
        }
    }
}

/// How a value of some codec is rendered.
#[derive(Debug, Clone)]
pub enum Out {
    Scalar(Codec),
    /// An interval as v4's `Interval` object: response key → `extract` field (None:
    /// `__typename`).
    Interval(Vec<(String, Option<&'static str>)>),
    /// A point as v4's `Point` object: response key → subscript (None: `__typename`).
    Point(Vec<(String, Option<u8>)>),
    /// A geometric value as v4's object (`--pg-geometric-types`): response key → its part.
    Geometry(Geometry, Vec<(String, GeoOut)>),
    Row(RowSel),
    /// Rendered as its attributes; signed into a token after execution.
    Jwt,
    List(Box<Out>),
}

/// A selected field of a geometric object.
#[derive(Debug, Clone)]
pub enum GeoOut {
    Typename,
    /// A point (`a`, `b`, `center`) or the points (`points`), with the point's selection.
    Point(GeoPart, Vec<(String, Option<u8>)>),
    /// `isOpen` or `radius`.
    Scalar(GeoPart),
}

#[derive(Debug, Clone)]
pub enum Source {
    Table(TableRef),
    /// A set-returning function (of table rows or of scalars), paged in the order it returns
    /// its rows; `on_parent`: a computed column, called with the parent row first.
    Function {
        function: TableRef,
        args: Vec<Param>,
        on_parent: bool,
        /// It returns table rows: their columns can be ordered and filtered on.
        rows: bool,
    },
}

/// What a function field reads: a connection (a set of table rows or of scalars), or values.
// Plans are built once per query text and cached; the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Call {
    Connection(Connection),
    Value {
        function: TableRef,
        args: Vec<Param>,
        returns_set: bool,
        out: Out,
    },
}

/// What a connection's nodes are: rows of a table, or values of a set of scalars.
#[derive(Debug, Clone)]
pub enum Item {
    Row(RowSel),
    Value(Out),
}

#[derive(Debug, Clone)]
pub struct Connection {
    pub source: Source,
    /// The columns a table's page reads when some may not be selected (`--no-ignore-rbac`
    /// with column grants); None: the whole row.
    pub columns: Option<Vec<String>>,
    /// `col = param` (or `col IS NULL` when the param is null).
    pub conditions: Vec<(String, Param)>,
    /// `filter:`, when given and not a no-op.
    pub filter: Option<filter::Filter>,
    /// `child.col = parent.col` pairs for backward relations.
    pub join: Vec<(String, String)>,
    pub order: Vec<OrderCol>,
    /// Names the order in cursors, so a cursor is only accepted by the ordering it came from.
    pub cursor_spec: String,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub offset: Option<i64>,
    /// Keyset bounds: the order columns' values of the `after` / `before` cursor.
    pub after: Option<Vec<Param>>,
    pub before: Option<Vec<Param>>,
    pub fields: Vec<(String, ConnField)>,
    /// The order is not unique (a table without a primary key): cursors carry the row's
    /// position in the page plus the offset, as v4's do (`["category_asc",3]`), and no
    /// `after`/`before` can resume from them.
    pub positional: bool,
    /// A table's rows in their natural order, numbered (`__ordinality`, after the filters)
    /// for v4's `["natural",<n>]` cursors.
    pub numbered: bool,
    /// A simple collection (`allPostsList`): the JSON list of the nodes, with no connection
    /// object around it; `fields` is then its one `Nodes` field.
    pub list: bool,
}

#[derive(Debug, Clone)]
pub enum ConnField {
    Typename(String),
    Nodes(Item),
    Edges(Vec<(String, EdgeField)>),
    TotalCount,
    PageInfo(Vec<(String, PageField)>),
    /// `aggregates` over the connection's rows (conditions applied, paging ignored).
    Aggregates(AggSel),
    /// `groupedAggregates`
    Grouped(Box<Grouped>),
}

#[derive(Debug, Clone)]
pub enum EdgeField {
    Typename(String),
    Cursor,
    Node(Item),
}

#[derive(Debug, Clone)]
pub enum PageField {
    Typename(String),
    HasNextPage,
    HasPreviousPage,
    StartCursor,
    EndCursor,
}

/// A read that renders to one JSON expression.
// Plans are built once per query text and cached; the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Select {
    Connection(Connection),
    Row {
        table: TableRef,
        key: Vec<(String, Param)>,
        sel: RowSel,
    },
    /// A function's result: scalar, row, or list of either.
    Function {
        function: TableRef,
        args: Vec<Param>,
        returns_set: bool,
        out: Out,
    },
    /// The `query` field: a nested Query object.
    Query(Vec<(String, QueryField)>),
    /// Known at plan time to find nothing (a lookup by a malformed node id).
    Null,
}

#[derive(Debug, Clone)]
pub enum QueryField {
    Typename,
    /// `Query.nodeId`: the constant `"query"`.
    NodeId,
    Select(Box<Select>),
}

/// A write and the payload built from the written row or the function's result.
#[derive(Debug, Clone)]
pub struct Mutation {
    pub write: Write,
    pub client_mutation_id: Param,
    pub payload: Vec<(String, PayloadField)>,
    /// The error when an update or delete finds no row the caller may change (v4's words).
    pub not_found: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Write {
    Insert {
        table: TableRef,
        values: Vec<(String, Param)>,
    },
    /// `insert ... on conflict (conflict) do update set` the `update` columns.
    Upsert {
        table: TableRef,
        values: Vec<(String, Param)>,
        conflict: Vec<String>,
        update: Vec<String>,
    },
    /// Many rows in one `insert`: per row a value for each column, None for its DEFAULT.
    InsertMany {
        table: TableRef,
        columns: Vec<String>,
        rows: Vec<Vec<Option<Param>>>,
    },
    Update {
        table: TableRef,
        set: Vec<(String, Param)>,
        key: Vec<(String, Param)>,
    },
    Delete {
        table: TableRef,
        key: Vec<(String, Param)>,
    },
    Call {
        function: TableRef,
        args: Vec<Param>,
        returns: Codec,
        returns_set: bool,
        /// A function's outputs (`RETURNS TABLE`, several OUT parameters): their names and
        /// types, which read the returned `record` back; empty otherwise.
        record: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone)]
pub enum PayloadField {
    Typename(String),
    ClientMutationId,
    /// The written row (or function result), rendered with `out`.
    Result(Out),
    Forward(ForwardRow),
    Query(Vec<(String, QueryField)>),
    /// `deletedPostId`
    NodeId(NodeIdSpec),
    /// `postEdge`
    Edge(PayloadEdge),
}

/// The written row as an edge of its table's connection: the order its cursor is in.
#[derive(Debug, Clone)]
pub struct PayloadEdge {
    pub order: Vec<OrderCol>,
    pub cursor_spec: String,
    pub fields: Vec<(String, EdgeField)>,
}

/// What to do for one root field of the operation.
// Plans are built once per query text and cached; the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum RootField {
    /// A string known at plan time (`__typename`, `Query.nodeId`).
    Constant(&'static str),
    /// `__schema` / `__type`: answered by juniper.
    Introspection,
    Select {
        select: Select,
        fixups: Vec<FixupPath>,
    },
    Mutation {
        mutation: Mutation,
        fixups: Vec<FixupPath>,
    },
    /// A field error known at plan time: the field is null, with this error.
    Error(PlanError),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub kind: OpKind,
    pub fields: Vec<(String, RootField)>,
}

impl Plan {
    pub fn has_introspection(&self) -> bool {
        self.fields
            .iter()
            .any(|(_, f)| matches!(f, RootField::Introspection))
    }
}

pub fn plan(model: &Model, op: &Operation) -> Result<Plan> {
    plan_with(model, op, &PlanOptions::default())
}

#[tracing::instrument(level = "debug", skip_all)]
pub fn plan_with(model: &Model, op: &Operation, options: &PlanOptions) -> Result<Plan> {
    let p = Planner {
        model,
        max_page_size: options.max_page_size,
        max_groups: options.max_groups,
    };
    let root_type = match op.kind {
        OpKind::Query => model.query_type.as_str(),
        OpKind::Mutation => model.mutation_type.as_deref().unwrap_or("Mutation"),
    };
    let mut fields = vec![];
    for node in &p.fields_for(&op.fields, root_type) {
        let f = match node.name.as_str() {
            "__typename" => RootField::Constant(if op.kind == OpKind::Query {
                "Query"
            } else {
                "Mutation"
            }),
            "__schema" | "__type" => RootField::Introspection,
            _ => {
                let def = model.object(root_type).and_then(|o| o.field(&node.name));
                let Some(def) = def else {
                    return err(node, format!("unknown field {}", node.name));
                };
                match op.kind {
                    OpKind::Query if def.kind == FieldKind::NodeId => RootField::Constant("query"),
                    OpKind::Query => match p.root_select(node, &def.kind, &def.ty) {
                        Ok(select) => {
                            let fixups = fixups::in_select(&select);
                            RootField::Select { select, fixups }
                        }
                        // A filter the plugin refuses, or a refused cursor, fails its root
                        // field only (v4: null with the error; the other fields answer).
                        Err(e)
                            if [filter::INVALID_FILTER, INVALID_CURSOR, INVALID_PAGINATION]
                                .contains(&e.code) =>
                        {
                            RootField::Error(e)
                        }
                        Err(e) => return Err(e),
                    },
                    OpKind::Mutation => {
                        let mutation = p.mutation(node, &def.kind)?;
                        let fixups = fixups::in_payload(&mutation);
                        RootField::Mutation { mutation, fixups }
                    }
                }
            }
        };
        fields.push((node.key.clone(), f));
    }
    Ok(Plan {
        kind: op.kind,
        fields,
    })
}

struct Planner<'m> {
    model: &'m Model,
    max_page_size: Option<i64>,
    max_groups: Option<i64>,
}

impl<'m> Planner<'m> {
    fn table(&self, i: usize) -> &'m Table {
        &self.model.tables[i]
    }

    /// The fields of a selection that apply to an object of type `concrete` (fragments on other
    /// types dropped), merged by response key.
    fn fields_for(&self, selection: &[FieldNode], concrete: &str) -> Vec<FieldNode> {
        let mut out: Vec<FieldNode> = vec![];
        for child in selection {
            if child
                .on_type
                .as_deref()
                .is_some_and(|t| !self.model.applies(t, concrete))
            {
                continue;
            }
            let mut child = child.clone();
            child.on_type = None;
            merge(&mut out, child);
        }
        out
    }
}

fn enum_name(v: &Value) -> Option<&str> {
    match v.resolved() {
        Value::Enum(s) | Value::String(s) => Some(s),
        _ => None,
    }
}
