//! Root fields: collections, lookups by key or node id, functions and their arguments.

use super::*;

impl<'m> Planner<'m> {
    pub(super) fn root_select(
        &self,
        node: &FieldNode,
        kind: &FieldKind,
        ty: &TypeRef,
    ) -> Result<Select> {
        Ok(match kind {
            FieldKind::Node | FieldKind::RowByNodeId { .. } => {
                let expected = match kind {
                    FieldKind::RowByNodeId { table } => Some(*table),
                    _ => None,
                };
                let id_arg = node.arg(&self.model.node_id_field);
                let id = id_arg.map(Value::resolved);
                // `node(nodeId: "query")` is the Query object, as in v4.
                if expected.is_none() && matches!(id, Some(Value::String(s)) if s == "query") {
                    return Ok(Select::Query(self.query_fields(node)?));
                }
                // A malformed id, or one of another type, finds nothing: null, no error (v4
                // catches the same failures). The id is part of the cached plan's key, so a
                // later request with a good id gets a plan of its own.
                match self.node_key(node, id_arg, expected) {
                    Ok((table, key)) if key_values_fit(self.table(table), &key) => Select::Row {
                        table: self.table(table).into(),
                        key,
                        sel: self.row_sel(node, table)?,
                    },
                    _ => Select::Null,
                }
            }
            FieldKind::Query => Select::Query(self.query_fields(node)?),
            FieldKind::AllRows { table } => Select::Connection(self.connection(
                node,
                Source::Table(self.table(*table).into()),
                *table,
                vec![],
            )?),
            FieldKind::AllRowsList { table } => Select::Connection(self.collection(
                node,
                Source::Table(self.table(*table).into()),
                *table,
                vec![],
                true,
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
            FieldKind::FunctionList { function } => {
                Select::Connection(self.call_list(node, *function, ty, false)?)
            }
            FieldKind::Function { function } => {
                match self.call(node, *function, ty, false, false)? {
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
                }
            }
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

    pub(super) fn query_fields(&self, node: &FieldNode) -> Result<Vec<(String, QueryField)>> {
        let query = self
            .model
            .object(&self.model.query_type)
            .expect("query type");
        let mut out = vec![];
        for child in &self.fields_for(&node.selection, &self.model.query_type) {
            let f = if child.name == "__typename" {
                QueryField::Typename
            } else if child.name == self.model.node_id_field {
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
    /// reads a connection or values, by what it returns; `list`: its simple collection.
    pub(super) fn call(
        &self,
        node: &FieldNode,
        function: usize,
        ty: &TypeRef,
        on_parent: bool,
        list: bool,
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
        // A set of a function's outputs (records) pages as a set of scalars does.
        let composite = match f.returns {
            Codec::Row { table, .. } => !self.table(table).is_record(),
            Codec::Jwt { .. } => true,
            _ => false,
        };
        if !list && (!f.returns_set || (composite && rows_of.is_none())) {
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
            rows: rows_of.is_some(),
        };
        let row = |n: &FieldNode| Ok(Item::Row(self.row_sel(n, rows_of.unwrap_or_default())?));
        let value = |n: &FieldNode| Ok(Item::Value(self.out(n, &f.returns)?));
        let item: &dyn Fn(&FieldNode) -> Result<Item> =
            if rows_of.is_some() { &row } else { &value };
        let mut connection =
            self.function_connection(node, source, ty.innermost(), item, list, rows_of)?;
        connection.filter = self.function_filter(node, function)?;
        Ok(Call::Connection(connection))
    }

    /// A set-returning function's simple collection (root or computed column).
    pub(super) fn call_list(
        &self,
        node: &FieldNode,
        function: usize,
        ty: &TypeRef,
        on_parent: bool,
    ) -> Result<Connection> {
        match self.call(node, function, ty, on_parent, true)? {
            Call::Connection(c) => Ok(c),
            Call::Value { .. } => err(node, format!("{} is not a collection", node.name)),
        }
    }

    /// The arguments after the first `skip` (a computed column's row).
    pub(super) fn function_args<'n>(
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
}

/// Whether a node id's key values can be read as its key columns' types (a value Postgres
/// would refuse, like `"x"` for an integer key, identifies no row).
fn key_values_fit(t: &Table, key: &[(String, Param)]) -> bool {
    key.iter().all(|(col, p)| {
        let Some(c) = t.columns.iter().find(|c| c.name == *col) else {
            return false;
        };
        let Some(v) = &p.value else { return true };
        let base = c.codec.sql_type().rsplit('.').next().unwrap_or_default();
        match base.trim_matches('"') {
            "int2" => v.parse::<i16>().is_ok(),
            "int4" => v.parse::<i32>().is_ok(),
            "int8" => v.parse::<i64>().is_ok(),
            "uuid" => {
                let hex: String = v
                    .chars()
                    .filter(|c| !matches!(c, '-' | '{' | '}'))
                    .collect();
                hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
            }
            _ => true,
        }
    })
}
