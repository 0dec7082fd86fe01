//! Connections: paging arguments, cursors, `orderBy`, and the selected connection fields.

use super::*;

impl<'m> Planner<'m> {
    pub(super) fn connection(
        &self,
        node: &FieldNode,
        source: Source,
        table: usize,
        join: Vec<(String, String)>,
    ) -> Result<Connection> {
        self.collection(node, source, table, join, false)
    }

    /// A table's rows as a connection, or (`list`) as a simple collection: the same paging,
    /// conditions and order, the nodes as a plain list.
    pub(super) fn collection(
        &self,
        node: &FieldNode,
        source: Source,
        table: usize,
        join: Vec<(String, String)>,
        list: bool,
    ) -> Result<Connection> {
        let t = self.table(table);
        let (first, last, offset) = self.page_args(node)?;
        let conditions = self.conditions(node, table)?;
        let filter = self.table_filter(node, table)?;
        let (mut order, mut cursor_spec) = self.order(node, table)?;
        // A view's unique key (v4's `viewUniqueKey`) ends an order that is not unique; the
        // natural order's cursors are then v4's `["view_unique_key_asc",[values]]`.
        if let Some(key) = t.view_unique_key {
            if !self.order_is_unique(table, &order) {
                let col = &t.columns[key];
                if !order.iter().any(|o| o.column == col.name) {
                    order.push(OrderCol::of(&col.name, &col.codec, true));
                }
                if cursor_spec == NATURAL {
                    cursor_spec = "view_unique_key_asc".into();
                }
            }
        }
        // v4's cursors: the key values of a unique order; else the row's position
        // (`natural`: in the table's own order, numbered; otherwise in the page).
        let numbered = order.is_empty() && cursor_spec == NATURAL;
        if numbered {
            order.push(natural_order());
        }
        let positional = !numbered && !order.is_empty() && !self.order_is_unique(table, &order);
        if positional {
            for arg in ["after", "before"] {
                if node.arg(arg).is_some_and(|v| !v.resolved().is_null()) {
                    return Err(PlanError {
                        message: "The order supplied is not unique, so before/after cursors cannot be used. Please ensure the supplied order includes all the columns from the primary key or a unique constraint.".into(),
                        location: node.location,
                        code: INVALID_CURSOR,
                    });
                }
            }
        }
        if order.is_empty() {
            cursor_spec = String::new();
        }
        let after = self.cursor(node, "after", &order, &cursor_spec)?;
        let before = self.cursor(node, "before", &order, &cursor_spec)?;
        let conn_type = crate::schema::inflect::connection_type(&t.inflect_name);
        let edge_type = crate::schema::inflect::edge_type(&t.inflect_name);
        let fields = if list {
            vec![(
                String::new(),
                ConnField::Nodes(Item::Row(self.row_sel(node, table)?)),
            )]
        } else {
            self.connection_fields(node, &conn_type, &edge_type, &|n| {
                Ok(Item::Row(self.row_sel(n, table)?))
            })?
        };
        // With column grants a whole-row read is refused: name the readable columns.
        let columns = t.columns.iter().any(|c| !c.readable).then(|| {
            t.columns
                .iter()
                .filter(|c| c.readable)
                .map(|c| c.name.clone())
                .collect()
        });
        Ok(Connection {
            source,
            columns,
            conditions,
            filter,
            join,
            order,
            cursor_spec,
            positional,
            numbered,
            first,
            last,
            offset,
            after,
            before,
            fields,
            list,
        })
    }

    /// `condition`: `column = value` per field given (a null value: `is null`).
    fn conditions(&self, node: &FieldNode, table: usize) -> Result<Vec<(String, Param)>> {
        let t = self.table(table);
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
        Ok(conditions)
    }

    /// A connection over what a function returns, paged in the function's own order (its
    /// row number), whose cursors are v4's `natural` ones. A function returning rows of
    /// table `rows_of` may take `orderBy` (`@sortable`: then the table's order, with the
    /// primary key, else the row number, breaking ties) and `condition` (`@filterable`).
    /// With `list`, a simple collection: `conn_type` is unused and the nodes are the list.
    pub(super) fn function_connection(
        &self,
        node: &FieldNode,
        source: Source,
        conn_type: &str,
        item: &dyn Fn(&FieldNode) -> Result<Item>,
        list: bool,
        rows_of: Option<usize>,
    ) -> Result<Connection> {
        let (first, last, offset) = self.page_args(node)?;
        let natural = natural_order();
        let sorted = match rows_of {
            Some(t) if node.arg("orderBy").is_some() => Some(self.order(node, t)?),
            _ => None,
        };
        let (order, cursor_spec) = match sorted {
            Some((mut order, spec)) if !order.is_empty() => {
                if rows_of.is_some_and(|t| self.table(t).primary_key.is_none()) {
                    order.push(natural);
                }
                (order, spec)
            }
            _ => (vec![natural], NATURAL.to_string()),
        };
        let conditions = match rows_of {
            Some(t) => self.conditions(node, t)?,
            None => vec![],
        };
        let after = self.cursor(node, "after", &order, &cursor_spec)?;
        let before = self.cursor(node, "before", &order, &cursor_spec)?;
        let fields = if list {
            vec![(String::new(), ConnField::Nodes(item(node)?))]
        } else {
            let edge_type = self
                .model
                .object(conn_type)
                .and_then(|o| o.field("edges"))
                .map(|f| f.ty.innermost())
                .expect("connection type with edges");
            self.connection_fields(node, conn_type, edge_type, item)?
        };
        Ok(Connection {
            source,
            columns: None,
            conditions,
            filter: None,
            join: vec![],
            order,
            cursor_spec,
            positional: false,
            numbered: false,
            first,
            last,
            offset,
            after,
            before,
            fields,
            list,
        })
    }

    /// Whether an order names each row once: it holds the primary key (which `order` adds
    /// to any order of a table that has one) or a one-column unique key (v4's rule).
    fn order_is_unique(&self, table: usize, order: &[OrderCol]) -> bool {
        let t = self.table(table);
        let has = |c: usize| order.iter().any(|o| o.column == t.columns[c].name);
        t.primary_key.iter().any(|k| k.iter().all(|&c| has(c)))
            || t.unique_keys.iter().any(|k| k.len() == 1 && has(k[0]))
            || t.view_unique_key.is_some_and(has)
    }

    /// `first`, `last` and `offset`, checked against each other and the page size limit;
    /// without `first`/`last` a connection is bounded by the limit all the same.
    pub(super) fn page_args(
        &self,
        node: &FieldNode,
    ) -> Result<(Option<i64>, Option<i64>, Option<i64>)> {
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
        // v4's words; like a refused cursor, its root field only fails.
        let refuse = |message: &str| PlanError {
            message: message.into(),
            location: node.location,
            code: INVALID_PAGINATION,
        };
        if first.is_some() && last.is_some() {
            return Err(refuse("We don't support setting both first and last"));
        }
        if last.is_some() && offset.is_some() {
            return Err(refuse("We don't support setting both offset and last"));
        }
        Ok((first, last, offset))
    }

    /// The selected fields of a connection; `item` plans a node.
    pub(super) fn connection_fields(
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
                name => {
                    let kind = self
                        .model
                        .object(conn_type)
                        .and_then(|o| o.field(name))
                        .map(|f| &f.kind);
                    match kind {
                        Some(FieldKind::Aggregates { table }) => {
                            ConnField::Aggregates(self.aggregates(child, *table)?)
                        }
                        Some(FieldKind::GroupedAggregates { table }) => {
                            ConnField::Grouped(Box::new(self.grouped_aggregates(child, *table)?))
                        }
                        _ => return err(child, format!("unknown field {}", child.name)),
                    }
                }
            };
            fields.push((child.key.clone(), f));
        }
        Ok(fields)
    }

    /// The `after`/`before` cursor as parameters, one per order column. A cursor from the
    /// variables stays re-bindable: each parameter knows which value of it to take.
    pub(super) fn cursor(
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
            code: INVALID_CURSOR,
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

    /// `orderBy` values (enum literals are not checked by juniper: checked here), then the
    /// primary key so pages are stable; and the spec naming this order in cursors.
    pub(super) fn order(&self, node: &FieldNode, table: usize) -> Result<(Vec<OrderCol>, String)> {
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
        let push = |order: &mut Vec<OrderCol>, c: usize, asc: bool| {
            let col = &t.columns[c];
            if !order.iter().any(|o| o.column == col.name) {
                order.push(OrderCol::of(&col.name, &col.codec, asc));
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
                        push(&mut order, c, *ascending);
                    }
                }
                EnumMeaning::Column { column, ascending } => push(&mut order, *column, *ascending),
                EnumMeaning::Related {
                    relation,
                    aggregate,
                    ascending,
                    result,
                } => {
                    let mut o = OrderCol::of("", result, *ascending);
                    o.related = Some(self.related_order(*relation, *aggregate));
                    order.push(o);
                }
                EnumMeaning::GroupBy { .. } => return Err(bad()),
            }
        }
        // Natural order has no cursors' stability to keep; any other gets the key as tiebreak.
        if !values.iter().all(|v| *v == "NATURAL") {
            for &c in t.primary_key.iter().flatten() {
                push(&mut order, c, true);
            }
        }
        // v4 names its own orders in lower case in cursors, pg-aggregates' in upper case.
        let related = |v: &str| {
            e.values
                .iter()
                .any(|d| d.name == v && matches!(d.meaning, EnumMeaning::Related { .. }))
        };
        let spec = values
            .iter()
            .map(|v| {
                if related(v) {
                    v.to_string()
                } else {
                    v.to_lowercase()
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        Ok((order, spec))
    }
}

/// The natural order: the row number a function's rows (or a table's, `numbered`) carry.
fn natural_order() -> OrderCol {
    OrderCol {
        column: ORDINALITY.into(),
        asc: true,
        sql_type: "pg_catalog.int8".into(),
        text_cursor: false,
        related: None,
    }
}
