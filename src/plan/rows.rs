//! Rows of a table: their selected fields, forward relations and node ids.

use super::*;

impl<'m> Planner<'m> {
    /// The row a relation's foreign key points to: its table, the join pairs
    /// (foreign column, local column) and the selection on it.
    pub(super) fn forward(&self, node: &FieldNode, relation: usize) -> Result<ForwardRow> {
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

    /// The one row referring to this one over a unique foreign key: a lookup like a forward
    /// relation, the join reversed.
    pub(super) fn backward_single(&self, node: &FieldNode, relation: usize) -> Result<ForwardRow> {
        let r = &self.model.relations[relation];
        let (t, ft) = (self.table(r.table), self.table(r.foreign_table));
        let join = r
            .columns
            .iter()
            .zip(&r.foreign_columns)
            .map(|(&c, &fc)| (t.columns[c].name.clone(), ft.columns[fc].name.clone()))
            .collect();
        Ok(ForwardRow {
            table: t.into(),
            join,
            sel: self.row_sel(node, r.table)?,
        })
    }

    pub(super) fn node_id_spec(&self, table: usize) -> NodeIdSpec {
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
    pub(super) fn node_key(
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

    pub(super) fn out(&self, node: &FieldNode, codec: &Codec) -> Result<Out> {
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
            Codec::Point { .. } => Out::Point(self.point_sel(node)?),
            Codec::Geometry { kind, .. } => {
                let name = kind.names().0;
                let mut parts = vec![];
                for child in &self.fields_for(&node.selection, name) {
                    let part = match child.name.as_str() {
                        "__typename" => GeoOut::Typename,
                        f => match kind.fields().iter().find(|(n, _)| *n == f) {
                            Some((_, p @ (GeoPart::Point(_) | GeoPart::Points))) => {
                                GeoOut::Point(*p, self.point_sel(child)?)
                            }
                            Some((_, p)) => GeoOut::Scalar(*p),
                            None => return err(child, format!("unknown field {f} on {name}")),
                        },
                    };
                    parts.push((child.key.clone(), part));
                }
                Out::Geometry(*kind, parts)
            }
            c => Out::Scalar(c.clone()),
        })
    }

    /// The selection of a `Point`: response key → subscript (None: `__typename`).
    fn point_sel(&self, node: &FieldNode) -> Result<Vec<(String, Option<u8>)>> {
        let mut parts = vec![];
        for child in &self.fields_for(&node.selection, "Point") {
            let part = match child.name.as_str() {
                "__typename" => None,
                name => match POINT_PARTS.iter().find(|(n, _)| *n == name) {
                    Some((_, i)) => Some(*i),
                    None => return err(child, format!("unknown field {name} on Point")),
                },
            };
            parts.push((child.key.clone(), part));
        }
        Ok(parts)
    }

    pub(super) fn row_sel(&self, node: &FieldNode, table: usize) -> Result<RowSel> {
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
                        refresh_token: c.refresh_token,
                    }
                }
                // The first argument is the row itself; the rest come from the field's arguments.
                FieldKind::ComputedList { function } => {
                    RowField::Backward(Box::new(self.call_list(child, *function, &def.ty, true)?))
                }
                FieldKind::Computed { function } => {
                    match self.call(child, *function, &def.ty, true, false)? {
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
                FieldKind::BackwardSingle { relation } => {
                    RowField::Forward(self.backward_single(child, *relation)?)
                }
                FieldKind::Backward { relation } | FieldKind::BackwardList { relation } => {
                    let r = &self.model.relations[*relation];
                    let rt = self.table(r.table);
                    let join = r
                        .columns
                        .iter()
                        .zip(&r.foreign_columns)
                        .map(|(&c, &fc)| (rt.columns[c].name.clone(), t.columns[fc].name.clone()))
                        .collect();
                    let list = matches!(def.kind, FieldKind::BackwardList { .. });
                    RowField::Backward(Box::new(self.collection(
                        child,
                        Source::Table(rt.into()),
                        r.table,
                        join,
                        list,
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
}
