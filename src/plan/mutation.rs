//! Mutations: the write a mutation field asks for (insert, update, delete, function call)
//! with its input checked, and the payload built from what it wrote.

use super::*;

impl<'m> Planner<'m> {
    pub(super) fn mutation(&self, node: &FieldNode, kind: &FieldKind) -> Result<Mutation> {
        let input = node.arg("input").cloned().unwrap_or(Value::Null);
        let text = Codec::Text {
            sql_type: "text".into(),
        };
        let client_mutation_id = self.param(
            node,
            &text,
            input.field("clientMutationId").unwrap_or(&Value::Null),
        )?;
        let (write, table) = match kind {
            FieldKind::Create { table } => {
                let t = self.table(*table);
                let row_field = crate::schema::inflect::payload_row(&t.inflect_name);
                let values = self.column_values(node, *table, input.field(&row_field))?;
                (
                    Write::Insert {
                        table: t.into(),
                        values,
                    },
                    Some(*table),
                )
            }
            FieldKind::Upsert { table } => {
                let t = self.table(*table);
                let row_field = crate::schema::inflect::payload_row(&t.inflect_name);
                let values = self.column_values(node, *table, input.field(&row_field))?;
                let conflict: Vec<String> = self
                    .conflict_key(node, *table, input.field("onConflict"))?
                    .iter()
                    .map(|&c| t.columns[c].name.clone())
                    .collect();
                // A conflict updates the columns given, but never the key nor a column
                // `@omit update` keeps out of patches.
                let update = values
                    .iter()
                    .map(|(c, _)| c.clone())
                    .filter(|c| !conflict.contains(c))
                    .filter(|c| t.columns.iter().any(|tc| tc.name == *c && !tc.omit.update))
                    .collect();
                (
                    Write::Upsert {
                        table: t.into(),
                        values,
                        conflict,
                        update,
                    },
                    Some(*table),
                )
            }
            FieldKind::CreateMany { table } => {
                (self.insert_many(node, *table, &input)?, Some(*table))
            }
            FieldKind::Update { table, columns } => {
                let (set, key) = (
                    self.patch(node, *table, &input)?,
                    self.key_values(node, *table, columns, &input)?,
                );
                (
                    Write::Update {
                        table: self.table(*table).into(),
                        set,
                        key,
                    },
                    Some(*table),
                )
            }
            FieldKind::Delete { table, columns } => {
                let t = self.table(*table);
                (
                    Write::Delete {
                        table: t.into(),
                        key: self.key_values(node, *table, columns, &input)?,
                    },
                    Some(*table),
                )
            }
            FieldKind::UpdateByNodeId { table } => {
                let (_, key) =
                    self.node_key(node, input.field(&self.model.node_id_field), Some(*table))?;
                (
                    Write::Update {
                        table: self.table(*table).into(),
                        set: self.patch(node, *table, &input)?,
                        key,
                    },
                    Some(*table),
                )
            }
            FieldKind::DeleteByNodeId { table } => {
                let (_, key) =
                    self.node_key(node, input.field(&self.model.node_id_field), Some(*table))?;
                (
                    Write::Delete {
                        table: self.table(*table).into(),
                        key,
                    },
                    Some(*table),
                )
            }
            FieldKind::Function { function } => {
                let f = &self.model.functions[*function];
                let args = self.function_args(node, *function, 0, |name| input.field(name))?;
                (
                    Write::Call {
                        function: TableRef {
                            schema: f.schema.clone(),
                            name: f.name.clone(),
                        },
                        args,
                        returns: f.returns.clone(),
                        returns_set: f.returns_set,
                    },
                    match (&f.returns, f.returns_set) {
                        (Codec::Row { table, .. }, false) if !self.table(*table).is_composite() => {
                            Some(*table)
                        }
                        _ => None,
                    },
                )
            }
            other => return err(node, format!("{other:?} is not a mutation")),
        };
        let payload_type = self
            .model
            .object(self.model.mutation_type.as_deref().unwrap_or_default())
            .and_then(|o| o.field(&node.name))
            .map(|f| f.ty.innermost().to_string())
            .unwrap_or_default();
        let mut payload = vec![];
        for child in &self.fields_for(&node.selection, &payload_type) {
            if child.name == "__typename" {
                payload.push((
                    child.key.clone(),
                    PayloadField::Typename(payload_type.clone()),
                ));
                continue;
            }
            let def = self
                .model
                .object(&payload_type)
                .and_then(|o| o.field(&child.name));
            let Some(def) = def else {
                return err(child, format!("unknown field {}", child.name));
            };
            let f = match (&def.kind, &write) {
                (FieldKind::ClientMutationId, _) => PayloadField::ClientMutationId,
                (FieldKind::DeletedNodeId, _) => {
                    PayloadField::NodeId(self.node_id_spec(table.expect("table")))
                }
                (FieldKind::Query, _) => PayloadField::Query(self.query_fields(child)?),
                (FieldKind::PayloadRow, Write::InsertMany { .. }) => {
                    PayloadField::Result(Out::List(Box::new(Out::Row(
                        self.row_sel(child, table.expect("table"))?,
                    ))))
                }
                (FieldKind::PayloadRow, _) => {
                    PayloadField::Result(Out::Row(self.row_sel(child, table.expect("table"))?))
                }
                (FieldKind::PayloadResult, Write::Call { returns, .. }) => {
                    PayloadField::Result(self.out(child, returns)?)
                }
                (FieldKind::PayloadForward { relation }, _) => {
                    PayloadField::Forward(self.forward(child, *relation)?)
                }
                (FieldKind::PayloadEdge { table }, _) => {
                    PayloadField::Edge(self.payload_edge(child, *table)?)
                }
                _ => return err(child, format!("unknown field {}", child.name)),
            };
            payload.push((child.key.clone(), f));
        }
        let not_found = match (&write, table) {
            (Write::Update { .. } | Write::Delete { .. }, Some(t)) => {
                let mode = if matches!(write, Write::Update { .. }) {
                    "update"
                } else {
                    "delete"
                };
                Some(format!(
                    "No values were {mode}d in collection '{}' because no values you can {mode} were found matching these criteria.",
                    crate::schema::inflect::collection(&self.table(t).inflect_name)
                ))
            }
            _ => None,
        };
        if let Some(session) = self.session_out(&write) {
            payload.push((SESSION_KEY.to_string(), PayloadField::Result(session)));
        }
        Ok(Mutation {
            write,
            client_mutation_id,
            payload,
            not_found,
        })
    }

    /// The tokens a function's result carries (a JWT, or a composite's JWT and `@refreshToken`
    /// attributes), read whatever the client selected: the cookies follow the result.
    fn session_out(&self, write: &Write) -> Option<Out> {
        let Write::Call {
            returns,
            returns_set: false,
            ..
        } = write
        else {
            return None;
        };
        match returns {
            Codec::Jwt { .. } => Some(Out::Jwt),
            Codec::Row { table, .. } => {
                let fields: Vec<(String, RowField)> = self
                    .table(*table)
                    .columns
                    .iter()
                    .filter(|c| c.refresh_token || matches!(c.codec, Codec::Jwt { .. }))
                    .map(|c| {
                        let out = match &c.codec {
                            Codec::Jwt { .. } => Out::Jwt,
                            other => Out::Scalar(other.clone()),
                        };
                        let column = RowField::Column {
                            column: c.name.clone(),
                            out,
                            non_null: false,
                            refresh_token: c.refresh_token,
                        };
                        (c.name.clone(), column)
                    })
                    .collect();
                (!fields.is_empty()).then_some(Out::Row(RowSel { fields }))
            }
            _ => None,
        }
    }

    /// `postEdge(orderBy:)`: the written row as an edge, its cursor in the order asked for
    /// (with no order, v4 names the primary key's).
    fn payload_edge(&self, node: &FieldNode, table: usize) -> Result<PayloadEdge> {
        let t = self.table(table);
        let (mut order, mut cursor_spec) = self.order(node, table)?;
        if order.is_empty() && t.primary_key.is_some() {
            order = t
                .primary_key
                .iter()
                .flatten()
                .map(|&c| OrderCol::of(&t.columns[c].name, &t.columns[c].codec, true))
                .collect();
            cursor_spec = "primary_key_asc".into();
        }
        let edge_type = crate::schema::inflect::edge_type(&t.inflect_name);
        let mut fields = vec![];
        for e in &self.fields_for(&node.selection, &edge_type) {
            let f = match e.name.as_str() {
                "__typename" => EdgeField::Typename(edge_type.clone()),
                "cursor" => EdgeField::Cursor,
                "node" => EdgeField::Node(Item::Row(self.row_sel(e, table)?)),
                _ => return err(e, format!("unknown field {}", e.name)),
            };
            fields.push((e.key.clone(), f));
        }
        Ok(PayloadEdge {
            order,
            cursor_spec,
            fields,
        })
    }

    /// The key an upsert conflicts on: the one `onConflict` names, else the primary key, else
    /// the first unique key.
    fn conflict_key(
        &self,
        node: &FieldNode,
        table: usize,
        v: Option<&Value>,
    ) -> Result<Vec<usize>> {
        let t = self.table(table);
        let keys = t.upsert_keys();
        let wanted = match v.map(Value::resolved) {
            None | Some(Value::Null) => {
                return Ok(keys.first().map(|(k, _)| (*k).clone()).unwrap_or_default())
            }
            Some(v) => enum_name(v).unwrap_or_default(),
        };
        for (key, primary) in keys {
            let cols: Vec<&str> = key
                .iter()
                .map(|&c| t.columns[c].inflect_name.as_str())
                .collect();
            if crate::schema::inflect::unique_key_value(&cols, primary) == wanted {
                return Ok(key.clone());
            }
        }
        err(
            node,
            format!(
                "Value \"{wanted}\" does not exist in \"{}\" enum.",
                crate::schema::inflect::unique_key_enum(&t.inflect_name)
            ),
        )
    }

    /// A bulk create: every row's values, over the union of the columns any row gives (the
    /// others take their DEFAULT).
    fn insert_many(&self, node: &FieldNode, table: usize, input: &Value) -> Result<Write> {
        let t = self.table(table);
        let field = crate::schema::inflect::bulk_rows_field(&t.inflect_name);
        let items = match input.field(&field).map(Value::resolved) {
            Some(Value::List(items)) => items.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => vec![],
        };
        if items.is_empty() {
            return err(node, format!("`{field}` is empty: nothing to create"));
        }
        let rows = items
            .iter()
            .map(|item| self.column_values(node, table, Some(item)))
            .collect::<Result<Vec<_>>>()?;
        let mut columns: Vec<String> = t
            .columns
            .iter()
            .map(|c| c.name.clone())
            .filter(|c| rows.iter().any(|r| r.iter().any(|(rc, _)| rc == c)))
            .collect();
        // Rows of defaults only still need a column to write DEFAULT into.
        if columns.is_empty() {
            columns.extend(t.columns.first().map(|c| c.name.clone()));
        }
        let rows = rows
            .into_iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| r.iter().find(|(rc, _)| rc == c).map(|(_, p)| p.clone()))
                    .collect()
            })
            .collect();
        Ok(Write::InsertMany {
            table: t.into(),
            columns,
            rows,
        })
    }

    /// The columns an update sets, from the input's patch; an empty patch is refused.
    fn patch(&self, node: &FieldNode, table: usize, input: &Value) -> Result<Vec<(String, Param)>> {
        let field = crate::schema::inflect::patch_field(&self.table(table).inflect_name);
        let set = self.column_values(node, table, input.field(&field))?;
        if set.is_empty() {
            return err(node, "the patch sets no field: nothing to update");
        }
        Ok(set)
    }

    fn column_values(
        &self,
        node: &FieldNode,
        table: usize,
        v: Option<&Value>,
    ) -> Result<Vec<(String, Param)>> {
        let t = self.table(table);
        let Some(Value::Object(pairs)) = v else {
            return Ok(vec![]);
        };
        let mut out = vec![];
        for (k, v) in pairs {
            let Some(ci) = t.columns.iter().position(|c| c.field == *k) else {
                return err(node, format!("unknown field {k}"));
            };
            let c = &t.columns[ci];
            out.push((c.name.clone(), self.param(node, &c.codec, v)?));
        }
        Ok(out)
    }

    fn key_values(
        &self,
        node: &FieldNode,
        table: usize,
        columns: &[usize],
        input: &Value,
    ) -> Result<Vec<(String, Param)>> {
        let t = self.table(table);
        columns
            .iter()
            .map(|&c| {
                let col = &t.columns[c];
                let v = input.field(&col.field).unwrap_or(&Value::Null);
                if v.is_null() {
                    return err(node, format!("`{}` is required", col.field));
                }
                Ok((col.name.clone(), self.param(node, &col.codec, v)?))
            })
            .collect()
    }
}
