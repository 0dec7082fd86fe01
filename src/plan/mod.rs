//! Selection tree + schema model → a typed plan of what to read or write: tables, columns,
//! relations, arguments checked and coerced to Postgres text values, enum values checked,
//! defaults applied. Pure: no SQL text here (see `sql`), no database.

pub mod fixups;
mod mutation;

pub use fixups::{Fixup, FixupPath};

use crate::graphql::document::{merge, FieldNode, OpKind, Operation, Value, VarPath};
use crate::schema::{
    Codec, EnumMeaning, FieldKind, InputTarget, Model, Table, TypeRef, INTERVAL_PARTS,
};

/// A value bound as a text parameter and cast to `sql_type` in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub value: Option<String>,
    pub sql_type: String,
    /// Set when the value came from a variable: how to bind the next request's value.
    pub source: Option<ParamSource>,
}

/// Where a parameter's value comes from in the variables, and how to coerce it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSource {
    pub var: VarPath,
    pub codec: Codec,
    /// Set when the variable is a cursor: which of its values this parameter is.
    pub cursor: Option<CursorPart>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CursorPart {
    pub spec: String,
    pub index: usize,
    pub columns: usize,
}

/// This request's value for a parameter that came from a variable (a cached plan re-binds).
pub fn bind(src: &ParamSource, leaf: &Value) -> std::result::Result<Option<String>, String> {
    match &src.cursor {
        None => coerce(&src.codec, leaf),
        Some(part) => match leaf.resolved() {
            Value::String(s) => Ok(json_text(
                &decode_cursor(s, &part.spec, part.columns)?[part.index],
            )),
            Value::Null => Ok(None),
            _ => Err("a cursor must be a string".into()),
        },
    }
}

/// The text Postgres parses for a JSON value taken from a cursor or node id.
fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn decode_base64_json(s: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A cursor is base64 of `["<order alias>", ..., [values of the order columns]]` (PostGraphile
/// v4's form); `spec` is the comma-separated aliases of the ordering it must belong to.
/// The order of a function's connection (the function's own), and its cursors' name: a
/// cursor is `["natural",<row number>]`, as v4 writes it.
pub const NATURAL: &str = "natural";

pub fn decode_cursor(
    s: &str,
    spec: &str,
    columns: usize,
) -> std::result::Result<Vec<serde_json::Value>, String> {
    let invalid = || "Invalid cursor: it does not belong to this ordering".to_string();
    let v = decode_base64_json(s).ok_or_else(invalid)?;
    let parts = v.as_array().ok_or_else(invalid)?;
    if spec == NATURAL && columns == 1 {
        return match parts.as_slice() {
            [serde_json::Value::String(n), row @ serde_json::Value::Number(_)] if n == NATURAL => {
                Ok(vec![row.clone()])
            }
            _ => Err(invalid()),
        };
    }
    let Some((serde_json::Value::Array(values), aliases)) = parts.split_last() else {
        return Err(invalid());
    };
    let same_order = aliases.len() == spec.split(',').count()
        && aliases
            .iter()
            .zip(spec.split(','))
            .all(|(a, s)| a.as_str() == Some(s));
    if !same_order || values.len() != columns {
        return Err(invalid());
    }
    Ok(values.clone())
}

/// A node id is base64 of `["<table>", pk values...]`; returns the table and its key values.
pub fn decode_node_id(
    model: &Model,
    s: &str,
) -> std::result::Result<(usize, Vec<(String, Param)>), String> {
    let invalid = || format!("Invalid nodeId: {s:?}");
    let v = decode_base64_json(s).ok_or_else(invalid)?;
    let parts = v.as_array().ok_or_else(invalid)?;
    let (Some(serde_json::Value::String(identifier)), values) =
        (parts.first(), parts.get(1..).unwrap_or_default())
    else {
        return Err(invalid());
    };
    let table = model.node_table(identifier).ok_or_else(invalid)?;
    let t = &model.tables[table];
    let pk = t.primary_key.as_ref().ok_or_else(invalid)?;
    if pk.len() != values.len() {
        return Err(invalid());
    }
    let key = pk
        .iter()
        .zip(values)
        .map(|(&c, v)| {
            (
                t.columns[c].name.clone(),
                Param {
                    value: json_text(v),
                    sql_type: t.columns[c].codec.sql_type().to_string(),
                    source: None,
                },
            )
        })
        .collect();
    Ok((table, key))
}

/// Coerces a GraphQL input value to the text form Postgres parses for `codec`.
pub fn coerce(codec: &Codec, v: &Value) -> std::result::Result<Option<String>, String> {
    Ok(Some(match (codec, v.resolved()) {
        (_, Value::Null) => return Ok(None),
        (Codec::Enum { labels, .. }, Value::Enum(e) | Value::String(e)) => {
            match labels.iter().find(|(_, gql)| gql == e) {
                Some((label, _)) => label.clone(),
                None => return Err(format!("Value \"{e}\" does not exist in the enum")),
            }
        }
        (Codec::Array { element, .. }, Value::List(items)) => {
            let mut out = String::from("{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match coerce(element, item)? {
                    None => out.push_str("NULL"),
                    Some(s) => quote_element(&mut out, &s),
                }
            }
            out.push('}');
            out
        }
        // `IntervalInput`: Postgres reads `1 years 2.5 seconds`; no part given is no time.
        (Codec::Interval { .. }, Value::Object(fields)) => {
            let mut parts = vec![];
            for (k, v) in fields {
                if !INTERVAL_PARTS.iter().any(|(name, _)| name == k) {
                    return Err(format!("unknown interval field {k}"));
                }
                match v.resolved() {
                    Value::Null => {}
                    Value::Int(n) => parts.push(format!("{n} {k}")),
                    Value::Float(f) => parts.push(format!("{f} {k}")),
                    _ => return Err(format!("the interval field {k} takes a number")),
                }
            }
            if parts.is_empty() {
                "0 seconds".to_string()
            } else {
                parts.join(" ")
            }
        }
        // A single value where a list is expected: GraphQL input coercion makes it a list of one.
        (Codec::Array { .. }, single) => return coerce(codec, &Value::List(vec![single.clone()])),
        (Codec::Row { .. } | Codec::Jwt { .. }, _) => {
            return Err("composite-type arguments are not supported yet".into())
        }
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Int(i)) => i.to_string(),
        (_, Value::Float(f)) => f.to_string(),
        (_, Value::String(s)) => {
            if s.contains('\0') {
                return Err("strings may not contain NUL characters".into());
            }
            s.clone()
        }
        (_, Value::Enum(e)) => e.clone(),
        (_, Value::List(_) | Value::Object(_) | Value::Var(..)) => {
            return Err("a list or object was given where a scalar is expected".into())
        }
    }))
}

/// An element of an array or row literal, double-quoted (`"` and `\` escaped).
fn quote_element(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

/// Whether values of `codec` hold composite values (built by the planner, with the schema).
fn has_row(codec: &Codec) -> bool {
    match codec {
        Codec::Row { .. } | Codec::Jwt { .. } => true,
        Codec::Array { element, .. } => has_row(element),
        _ => false,
    }
}

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
}

/// How a value of some codec is rendered.
#[derive(Debug, Clone)]
pub enum Out {
    Scalar(Codec),
    /// An interval as v4's `Interval` object: response key → `extract` field (None:
    /// `__typename`).
    Interval(Vec<(String, Option<&'static str>)>),
    Row(RowSel),
    /// Rendered as its attributes; signed into a token after execution.
    Jwt,
    List(Box<Out>),
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
    },
}

/// What a function field reads: a connection (a set of table rows or of scalars), or values.
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
    /// `col = param` (or `col IS NULL` when the param is null).
    pub conditions: Vec<(String, Param)>,
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
}

#[derive(Debug, Clone)]
pub enum ConnField {
    Typename(String),
    Nodes(Item),
    Edges(Vec<(String, EdgeField)>),
    TotalCount,
    PageInfo(Vec<(String, PageField)>),
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
                    OpKind::Query => {
                        let select = p.root_select(node, &def.kind, &def.ty)?;
                        let fixups = fixups::in_select(&select);
                        RootField::Select { select, fixups }
                    }
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

    /// The row a relation's foreign key points to: its table, the join pairs
    /// (foreign column, local column) and the selection on it.
    fn forward(&self, node: &FieldNode, relation: usize) -> Result<ForwardRow> {
        let r = &self.model.relations[relation];
        let (t, ft) = (self.table(r.table), self.table(r.foreign_table));
        let join = r
            .foreign_columns
            .iter()
            .zip(&r.columns)
            .map(|(&fc, &c)| (ft.columns[fc].name.clone(), t.columns[c].name.clone()))
            .collect();
        Ok(ForwardRow {
            table: ft.into(),
            join,
            sel: self.row_sel(node, r.foreign_table)?,
        })
    }

    fn node_id_spec(&self, table: usize) -> NodeIdSpec {
        let t = self.table(table);
        NodeIdSpec {
            identifier: t.node_identifier.clone(),
            key: t
                .primary_key
                .iter()
                .flatten()
                .map(|&c| (t.columns[c].name.clone(), t.columns[c].codec.clone()))
                .collect(),
        }
    }

    /// Decodes a node id argument; with `expected`, it must name that table.
    fn node_key(
        &self,
        node: &FieldNode,
        v: Option<&Value>,
        expected: Option<usize>,
    ) -> Result<(usize, Vec<(String, Param)>)> {
        let Some(Value::String(s)) = v.map(Value::resolved) else {
            return err(node, "nodeId must be a string");
        };
        let (table, key) = decode_node_id(self.model, s).map_err(|message| PlanError {
            message,
            location: node.location,
            code: INVALID,
        })?;
        if expected.is_some_and(|e| e != table) {
            return err(
                node,
                format!(
                    "Invalid nodeId: {s:?} does not identify a {}",
                    self.table(expected.unwrap_or(table)).type_name
                ),
            );
        }
        Ok((table, key))
    }

    fn root_select(&self, node: &FieldNode, kind: &FieldKind, ty: &TypeRef) -> Result<Select> {
        Ok(match kind {
            FieldKind::Node | FieldKind::RowByNodeId { .. } => {
                let expected = match kind {
                    FieldKind::RowByNodeId { table } => Some(*table),
                    _ => None,
                };
                let (table, key) = self.node_key(node, node.arg("nodeId"), expected)?;
                Select::Row {
                    table: self.table(table).into(),
                    key,
                    sel: self.row_sel(node, table)?,
                }
            }
            FieldKind::Query => Select::Query(self.query_fields(node)?),
            FieldKind::AllRows { table } => Select::Connection(self.connection(
                node,
                Source::Table(self.table(*table).into()),
                *table,
                vec![],
            )?),
            FieldKind::RowByKey { table, columns } => {
                let t = self.table(*table);
                let mut key = vec![];
                for &c in columns {
                    let col = &t.columns[c];
                    let v = node.arg(&col.field).unwrap_or(&Value::Null);
                    key.push((col.name.clone(), self.param(node, &col.codec, v)?));
                }
                Select::Row {
                    table: t.into(),
                    key,
                    sel: self.row_sel(node, *table)?,
                }
            }
            FieldKind::Function { function } => match self.call(node, *function, ty, false)? {
                Call::Connection(c) => Select::Connection(c),
                Call::Value {
                    function,
                    args,
                    returns_set,
                    out,
                } => Select::Function {
                    function,
                    args,
                    returns_set,
                    out,
                },
            },
            _ => {
                return err(
                    node,
                    format!(
                        "field {} of type {ty} cannot be selected at the root",
                        node.name
                    ),
                )
            }
        })
    }

    fn query_fields(&self, node: &FieldNode) -> Result<Vec<(String, QueryField)>> {
        let query = self
            .model
            .object(&self.model.query_type)
            .expect("query type");
        let mut out = vec![];
        for child in &self.fields_for(&node.selection, &self.model.query_type) {
            let f = if child.name == "__typename" {
                QueryField::Typename
            } else if child.name == "nodeId" {
                QueryField::NodeId
            } else {
                let Some(def) = query.field(&child.name) else {
                    return err(child, format!("unknown field {}", child.name));
                };
                QueryField::Select(Box::new(self.root_select(child, &def.kind, &def.ty)?))
            };
            out.push((child.key.clone(), f));
        }
        Ok(out)
    }

    /// A function field (root or computed column, `on_parent`): its arguments, and whether it
    /// reads a connection or values, by what it returns.
    fn call(
        &self,
        node: &FieldNode,
        function: usize,
        ty: &TypeRef,
        on_parent: bool,
    ) -> Result<Call> {
        let f = &self.model.functions[function];
        let skip = usize::from(on_parent);
        let args = self.function_args(node, function, skip, |name| node.arg(name))?;
        let fref = TableRef {
            schema: f.schema.clone(),
            name: f.name.clone(),
        };
        let rows_of = match &f.returns {
            Codec::Row { table, .. } if !self.table(*table).is_composite() => Some(*table),
            _ => None,
        };
        // Sets of table rows or of scalars are connections; single values and sets of
        // composite values are values.
        let composite = matches!(f.returns, Codec::Row { .. } | Codec::Jwt { .. });
        if !f.returns_set || (composite && rows_of.is_none()) {
            return Ok(Call::Value {
                function: fref,
                args,
                returns_set: f.returns_set,
                out: self.out(node, &f.returns)?,
            });
        }
        let source = Source::Function {
            function: fref,
            args,
            on_parent,
        };
        let row = |n: &FieldNode| Ok(Item::Row(self.row_sel(n, rows_of.unwrap_or_default())?));
        let value = |n: &FieldNode| Ok(Item::Value(self.out(n, &f.returns)?));
        let item: &dyn Fn(&FieldNode) -> Result<Item> =
            if rows_of.is_some() { &row } else { &value };
        Ok(Call::Connection(self.function_connection(
            node,
            source,
            ty.innermost(),
            item,
        )?))
    }

    /// The arguments after the first `skip` (a computed column's row).
    fn function_args<'n>(
        &self,
        node: &FieldNode,
        function: usize,
        skip: usize,
        get: impl Fn(&str) -> Option<&'n Value>,
    ) -> Result<Vec<Param>> {
        let f = &self.model.functions[function];
        let mut args = vec![];
        // Trailing arguments left out use the function's own defaults (they are not passed);
        // as in v4, an explicit null for one of them counts as left out.
        let required = f.args.len() - f.num_defaults.min(f.args.len());
        let mut last_given = skip;
        for (i, a) in f.args.iter().enumerate().skip(skip) {
            if get(&a.field).is_some_and(|v| !v.resolved().is_null()) {
                last_given = i + 1;
            }
        }
        for a in f.args.iter().take(last_given.max(required)).skip(skip) {
            let v = get(&a.field).unwrap_or(&Value::Null);
            args.push(self.param(node, &a.codec, v)?);
        }
        Ok(args)
    }

    fn out(&self, node: &FieldNode, codec: &Codec) -> Result<Out> {
        Ok(match codec {
            Codec::Row { table, .. } => Out::Row(self.row_sel(node, *table)?),
            Codec::Jwt { .. } => Out::Jwt,
            Codec::Array { element, .. } => Out::List(Box::new(self.out(node, element)?)),
            Codec::Interval { .. } => {
                let mut parts = vec![];
                for child in &self.fields_for(&node.selection, "Interval") {
                    let part = match child.name.as_str() {
                        "__typename" => None,
                        name => match INTERVAL_PARTS.iter().find(|(n, _)| *n == name) {
                            Some((_, extract)) => Some(*extract),
                            None => return err(child, format!("unknown field {name} on Interval")),
                        },
                    };
                    parts.push((child.key.clone(), part));
                }
                Out::Interval(parts)
            }
            c => Out::Scalar(c.clone()),
        })
    }

    fn row_sel(&self, node: &FieldNode, table: usize) -> Result<RowSel> {
        let t = self.table(table);
        let obj = self.model.object(&t.type_name).expect("row type");
        let mut fields = vec![];
        for child in &self.fields_for(&node.selection, &t.type_name) {
            if child.name == "__typename" {
                fields.push((child.key.clone(), RowField::Typename(t.type_name.clone())));
                continue;
            }
            let Some(def) = obj.field(&child.name) else {
                return err(
                    child,
                    format!("unknown field {} on {}", child.name, t.type_name),
                );
            };
            let f = match &def.kind {
                FieldKind::NodeId => RowField::NodeId(self.node_id_spec(table)),
                FieldKind::Column { column, .. } => {
                    let c = &t.columns[*column];
                    RowField::Column {
                        column: c.name.clone(),
                        out: self.out(child, &c.codec)?,
                        non_null: def.ty.is_non_null(),
                    }
                }
                // The first argument is the row itself; the rest come from the field's arguments.
                FieldKind::Computed { function } => {
                    match self.call(child, *function, &def.ty, true)? {
                        Call::Connection(c) => RowField::Backward(Box::new(c)),
                        Call::Value {
                            function,
                            args,
                            returns_set,
                            out,
                        } => RowField::Computed {
                            function,
                            args,
                            returns_set,
                            out,
                        },
                    }
                }
                FieldKind::Forward { relation } => {
                    RowField::Forward(self.forward(child, *relation)?)
                }
                FieldKind::Backward { relation } => {
                    let r = &self.model.relations[*relation];
                    let rt = self.table(r.table);
                    let join = r
                        .columns
                        .iter()
                        .zip(&r.foreign_columns)
                        .map(|(&c, &fc)| (rt.columns[c].name.clone(), t.columns[fc].name.clone()))
                        .collect();
                    RowField::Backward(Box::new(self.connection(
                        child,
                        Source::Table(rt.into()),
                        r.table,
                        join,
                    )?))
                }
                other => {
                    return err(
                        child,
                        format!("field {} ({other:?}) is not supported on rows", child.name),
                    )
                }
            };
            fields.push((child.key.clone(), f));
        }
        Ok(RowSel { fields })
    }

    fn connection(
        &self,
        node: &FieldNode,
        source: Source,
        table: usize,
        join: Vec<(String, String)>,
    ) -> Result<Connection> {
        let t = self.table(table);
        let (first, last, offset) = self.page_args(node)?;
        let mut conditions = vec![];
        if let Some(cond) = node.arg("condition").filter(|v| !v.is_null()) {
            let input = self
                .model
                .input(&crate::schema::inflect::condition_type(&t.inflect_name))
                .expect("condition type");
            let Value::Object(pairs) = cond else {
                return err(node, "condition must be an object");
            };
            for (k, v) in pairs {
                let Some(InputTarget::Column(c)) = input.field(k).map(|f| &f.target) else {
                    return err(node, format!("unknown condition field {k}"));
                };
                let col = &t.columns[*c];
                conditions.push((col.name.clone(), self.param(node, &col.codec, v)?));
            }
        }
        let (order, cursor_spec) = self.order(node, table)?;
        let after = self.cursor(node, "after", &order, &cursor_spec)?;
        let before = self.cursor(node, "before", &order, &cursor_spec)?;
        let conn_type = crate::schema::inflect::connection_type(&t.inflect_name);
        let edge_type = crate::schema::inflect::edge_type(&t.inflect_name);
        let fields = self.connection_fields(node, &conn_type, &edge_type, &|n| {
            Ok(Item::Row(self.row_sel(n, table)?))
        })?;
        Ok(Connection {
            source,
            conditions,
            join,
            order,
            cursor_spec,
            first,
            last,
            offset,
            after,
            before,
            fields,
        })
    }

    /// A connection over what a function returns: no conditions nor `orderBy` (as in v4
    /// without `@sortable`/`@filterable`); the function's own order (its row number) pages it
    /// and names the cursors, as v4's `natural` cursors do.
    fn function_connection(
        &self,
        node: &FieldNode,
        source: Source,
        conn_type: &str,
        item: &dyn Fn(&FieldNode) -> Result<Item>,
    ) -> Result<Connection> {
        let edge_type = self
            .model
            .object(conn_type)
            .and_then(|o| o.field("edges"))
            .map(|f| f.ty.innermost())
            .expect("connection type with edges");
        let (first, last, offset) = self.page_args(node)?;
        let order = vec![OrderCol {
            column: "ordinality".into(),
            asc: true,
            sql_type: "pg_catalog.int8".into(),
        }];
        let cursor_spec = NATURAL.to_string();
        let after = self.cursor(node, "after", &order, &cursor_spec)?;
        let before = self.cursor(node, "before", &order, &cursor_spec)?;
        let fields = self.connection_fields(node, conn_type, edge_type, item)?;
        Ok(Connection {
            source,
            conditions: vec![],
            join: vec![],
            order,
            cursor_spec,
            first,
            last,
            offset,
            after,
            before,
            fields,
        })
    }

    /// `first`, `last` and `offset`, checked against each other and the page size limit;
    /// without `first`/`last` a connection is bounded by the limit all the same.
    fn page_args(&self, node: &FieldNode) -> Result<(Option<i64>, Option<i64>, Option<i64>)> {
        let first = self.count_arg(node, "first")?;
        let last = self.count_arg(node, "last")?;
        let offset = self.count_arg(node, "offset")?;
        if let Some(max) = self.max_page_size {
            for (name, n) in [("first", first), ("last", last)] {
                if n.is_some_and(|n| n > max) {
                    return Err(PlanError {
                        message: format!(
                            "`{name}: {}` on `{}` is over the page size limit of {max}; page through with `after`/`before`",
                            n.unwrap_or_default(),
                            node.key
                        ),
                        location: node.location,
                        code: "PAGE_SIZE_TOO_LARGE",
                    });
                }
            }
        }
        let first = first.or(self.max_page_size.filter(|_| last.is_none()));
        if first.is_some() && last.is_some() {
            return err(node, "`first` and `last` cannot be combined");
        }
        if last.is_some() && offset.is_some() {
            return err(node, "`offset` may not be used with `last`");
        }
        Ok((first, last, offset))
    }

    /// The selected fields of a connection; `item` plans a node.
    fn connection_fields(
        &self,
        node: &FieldNode,
        conn_type: &str,
        edge_type: &str,
        item: &dyn Fn(&FieldNode) -> Result<Item>,
    ) -> Result<Vec<(String, ConnField)>> {
        let mut fields = vec![];
        for child in &self.fields_for(&node.selection, conn_type) {
            let f = match child.name.as_str() {
                "__typename" => ConnField::Typename(conn_type.to_string()),
                "nodes" => ConnField::Nodes(item(child)?),
                "totalCount" => ConnField::TotalCount,
                "edges" => {
                    let mut edge = vec![];
                    for e in &self.fields_for(&child.selection, edge_type) {
                        let f = match e.name.as_str() {
                            "__typename" => EdgeField::Typename(edge_type.to_string()),
                            "cursor" => EdgeField::Cursor,
                            "node" => EdgeField::Node(item(e)?),
                            _ => return err(e, format!("unknown field {}", e.name)),
                        };
                        edge.push((e.key.clone(), f));
                    }
                    ConnField::Edges(edge)
                }
                "pageInfo" => {
                    let mut page = vec![];
                    for e in &self.fields_for(&child.selection, "PageInfo") {
                        let f = match e.name.as_str() {
                            "__typename" => PageField::Typename("PageInfo".into()),
                            "hasNextPage" => PageField::HasNextPage,
                            "hasPreviousPage" => PageField::HasPreviousPage,
                            "startCursor" => PageField::StartCursor,
                            "endCursor" => PageField::EndCursor,
                            _ => return err(e, format!("unknown field {}", e.name)),
                        };
                        page.push((e.key.clone(), f));
                    }
                    ConnField::PageInfo(page)
                }
                _ => return err(child, format!("unknown field {}", child.name)),
            };
            fields.push((child.key.clone(), f));
        }
        Ok(fields)
    }

    /// The `after`/`before` cursor as parameters, one per order column. A cursor from the
    /// variables stays re-bindable: each parameter knows which value of it to take.
    fn cursor(
        &self,
        node: &FieldNode,
        arg: &str,
        order: &[OrderCol],
        spec: &str,
    ) -> Result<Option<Vec<Param>>> {
        let Some(v) = node.arg(arg).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let Value::String(s) = v.resolved() else {
            return err(node, format!("`{arg}` must be a cursor string"));
        };
        if order.is_empty() {
            return err(node, "cursors need an ordering: pass orderBy");
        }
        let values = decode_cursor(s, spec, order.len()).map_err(|message| PlanError {
            message,
            location: node.location,
            code: INVALID,
        })?;
        let params = order
            .iter()
            .zip(&values)
            .enumerate()
            .map(|(index, (col, value))| Param {
                value: json_text(value),
                sql_type: col.sql_type.clone(),
                source: match v {
                    Value::Var(_, path) => Some(ParamSource {
                        var: path.clone(),
                        codec: Codec::Text {
                            sql_type: col.sql_type.clone(),
                        },
                        cursor: Some(CursorPart {
                            spec: spec.to_string(),
                            index,
                            columns: order.len(),
                        }),
                    }),
                    _ => None,
                },
            })
            .collect();
        Ok(Some(params))
    }

    fn count_arg(&self, node: &FieldNode, name: &str) -> Result<Option<i64>> {
        match node.arg(name).map(Value::resolved) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Int(n)) if *n >= 0 => Ok(Some(*n)),
            Some(_) => err(node, format!("`{name}` must be a non-negative integer")),
        }
    }

    /// `orderBy` values (enum literals are not checked by juniper: checked here), then the
    /// primary key so pages are stable; and the spec naming this order in cursors.
    fn order(&self, node: &FieldNode, table: usize) -> Result<(Vec<OrderCol>, String)> {
        let t = self.table(table);
        let e = self
            .model
            .enum_(&crate::schema::inflect::order_by_enum(&t.inflect_name))
            .expect("order enum");
        let bad = || PlanError {
            message: "orderBy takes enum values".into(),
            location: node.location,
            code: INVALID,
        };
        let values: Vec<&str> = match node.arg("orderBy").map(Value::resolved) {
            None => vec![if t.primary_key.is_some() {
                "PRIMARY_KEY_ASC"
            } else {
                "NATURAL"
            }],
            Some(Value::Null) => vec![],
            Some(Value::List(items)) => items
                .iter()
                .map(enum_name)
                .collect::<Option<_>>()
                .ok_or_else(bad)?,
            Some(v) => vec![enum_name(v).ok_or_else(bad)?],
        };
        let mut order: Vec<OrderCol> = vec![];
        let mut push = |c: usize, asc: bool| {
            let col = &t.columns[c];
            if !order.iter().any(|o| o.column == col.name) {
                order.push(OrderCol {
                    column: col.name.clone(),
                    asc,
                    sql_type: col.codec.sql_type().to_string(),
                });
            }
        };
        for v in &values {
            let Some(def) = e.values.iter().find(|d| d.name == *v) else {
                return err(
                    node,
                    format!("Value \"{v}\" does not exist in \"{}\" enum.", e.name),
                );
            };
            match &def.meaning {
                EnumMeaning::Natural | EnumMeaning::Label(_) => {}
                EnumMeaning::PrimaryKey { ascending } => {
                    for &c in t.primary_key.iter().flatten() {
                        push(c, *ascending);
                    }
                }
                EnumMeaning::Column { column, ascending } => push(*column, *ascending),
            }
        }
        // Natural order has no cursors' stability to keep; any other gets the key as tiebreak.
        if !values.iter().all(|v| *v == "NATURAL") {
            for &c in t.primary_key.iter().flatten() {
                push(c, true);
            }
        }
        let spec = values
            .iter()
            .map(|v| v.to_lowercase())
            .collect::<Vec<_>>()
            .join(",");
        Ok((order, spec))
    }

    /// Coerces a GraphQL input value to the text form Postgres parses for `codec`; a value
    /// from the variables remembers where it came from, so a cached plan can re-bind it.
    fn param(&self, node: &FieldNode, codec: &Codec, v: &Value) -> Result<Param> {
        let composite = has_row(codec);
        let value = if composite {
            self.composite_text(codec, v)
        } else {
            coerce(codec, v)
        }
        .map_err(|message| PlanError {
            message,
            location: node.location,
            code: INVALID,
        })?;
        // A composite value is built with the schema at hand, so it is planned in (its
        // variables then choose the cached plan) rather than re-bound from the variables.
        let source = match v {
            Value::Var(_, path) if !composite => Some(ParamSource {
                var: path.clone(),
                codec: codec.clone(),
                cursor: None,
            }),
            _ => None,
        };
        Ok(Param {
            value,
            sql_type: codec.sql_type().to_string(),
            source,
        })
    }

    /// The text Postgres parses for a value of a codec holding composite values: a row
    /// literal `(a,"b c",)` of the attributes given by their GraphQL names (absent or null:
    /// NULL), or an array of them.
    fn composite_text(
        &self,
        codec: &Codec,
        v: &Value,
    ) -> std::result::Result<Option<String>, String> {
        match (codec, v.resolved()) {
            (_, Value::Null) => Ok(None),
            (Codec::Row { table, .. } | Codec::Jwt { table, .. }, Value::Object(fields)) => {
                let t = self.table(*table);
                if let Some((k, _)) = fields
                    .iter()
                    .find(|(k, _)| !t.columns.iter().any(|c| &c.field == k))
                {
                    return Err(format!("unknown field {k} for a `{}` value", t.type_name));
                }
                let mut out = String::from("(");
                for (i, c) in t.columns.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let given = fields.iter().find(|(k, _)| k == &c.field).map(|(_, v)| v);
                    let text = match given {
                        None => None,
                        Some(v) if has_row(&c.codec) => self.composite_text(&c.codec, v)?,
                        Some(v) => coerce(&c.codec, v)?,
                    };
                    if let Some(text) = text {
                        quote_element(&mut out, &text);
                    }
                }
                out.push(')');
                Ok(Some(out))
            }
            (Codec::Row { .. } | Codec::Jwt { .. }, _) => {
                Err("an object is expected for a composite value".into())
            }
            (Codec::Array { element, .. }, Value::List(items)) => {
                let mut out = String::from("{");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match self.composite_text(element, item)? {
                        None => out.push_str("NULL"),
                        Some(text) => quote_element(&mut out, &text),
                    }
                }
                out.push('}');
                Ok(Some(out))
            }
            (Codec::Array { .. }, single) => {
                self.composite_text(codec, &Value::List(vec![single.clone()]))
            }
            (other, v) => coerce(other, v),
        }
    }
}

fn enum_name(v: &Value) -> Option<&str> {
    match v.resolved() {
        Value::Enum(s) | Value::String(s) => Some(s),
        _ => None,
    }
}
