//! The object type of a table's rows: columns, computed columns, relations both ways.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn row_object(&mut self, ti: usize) -> Result<ObjectDef, BuildError> {
        let t = self.model.tables[ti].clone();
        let mut fields = vec![];
        let is_node = t.primary_key.is_some() && !t.is_composite();
        if is_node {
            fields.push(field(&self.model.node_id_field, TypeRef::named("ID").non_null(), FieldKind::NodeId, "A globally unique identifier. Can be used in various places throughout the system to identify this single value."));
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
        if t.is_record() {
            return Ok(ObjectDef {
                interfaces: vec![],
                name: t.type_name.clone(),
                description: self.record_description(ti),
                fields,
            });
        }
        for fi in self.computed_of(ti) {
            let f = self.model.functions[fi].clone();
            if self.computed_column_of(&f) != Some(ti) {
                continue;
            }
            let (connection, list) = self.function_collections(&f);
            if connection {
                let Some((ty, args)) = self.function_field(fi, 1)? else {
                    continue;
                };
                // A computed column's connection is never null (v4); a root one may be.
                let ty = match ty {
                    TypeRef::Named(_) if f.returns_set => ty.non_null(),
                    ty => ty,
                };
                fields.push(FieldDef {
                    name: inflect::computed_column(&f.name, &t.name),
                    description: self.proc_comment(&f),
                    ty,
                    args,
                    kind: FieldKind::Computed { function: fi },
                });
            }
            if list {
                let (ty, args) = self.function_list_field(fi, 1);
                fields.push(FieldDef {
                    name: inflect::computed_column_list(&f.name, &t.name),
                    description: self.proc_comment(&f),
                    ty,
                    args,
                    kind: FieldKind::ComputedList { function: fi },
                });
            }
        }
        // A composite type has computed fields (as v4 gives it) but no relations.
        if t.is_composite() {
            return Ok(ObjectDef {
                interfaces: vec![],
                name: t.type_name.clone(),
                description: self.class_comment(&t),
                fields: names::dedupe_fields(&self.model, &t.type_name, fields),
            });
        }
        for ri in self.relations_of(ti) {
            let r = self.model.relations[ri].clone();
            if r.table == ti && !self.model.tables[r.foreign_table].omit.read {
                let ft = &self.model.tables[r.foreign_table];
                fields.push(FieldDef {
                    name: self.model.forward_name(ri),
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
                // The foreign key's tag, else the referencing table's, else the flag (v4's order).
                let collections = r
                    .simple_collections
                    .or(rt.simple_collections)
                    .unwrap_or(self.opts.flags.simple_collections);
                // A unique key gives one row: v4 adds the single-row field, keeps the connection
                // (deprecated, pointing at it) and no list.
                let unique = self.model.relation_is_unique(ri);
                let legacy = self.opts.flags.legacy_relations;
                if unique && legacy != LegacyRelations::Only {
                    fields.push(FieldDef {
                        name: self.model.backward_single_name(ri),
                        description: Some(format!(
                            "Reads a single `{}` that is related to this `{}`.",
                            rt.type_name, t.type_name
                        )),
                        ty: TypeRef::named(rt.type_name.clone()),
                        args: vec![],
                        kind: FieldKind::BackwardSingle { relation: ri },
                    });
                }
                if collections.connections() && !(unique && legacy == LegacyRelations::Omit) {
                    fields.push(FieldDef {
                        name: self.model.backward_name(ri),
                        description: Some(format!(
                            "Reads and enables pagination through a set of `{}`.",
                            rt.type_name
                        )),
                        ty: TypeRef::named(inflect::connection_type(&rt.inflect_name)).non_null(),
                        args: self.connection_args(r.table),
                        kind: FieldKind::Backward { relation: ri },
                    });
                }
                if collections.lists() && !unique {
                    fields.push(FieldDef {
                        name: self.model.backward_list_name(ri),
                        description: Some(format!(
                            "Reads and enables pagination through a set of `{}`.",
                            rt.type_name
                        )),
                        ty: TypeRef::named(rt.type_name.clone())
                            .non_null()
                            .list()
                            .non_null(),
                        args: self.collection_args(r.table, true),
                        kind: FieldKind::BackwardList { relation: ri },
                    });
                }
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

    /// v4's description of a function's outputs type: "The return type of our `fnTable`
    /// query." (the field's name; `mutation` for a VOLATILE function).
    fn record_description(&self, ti: usize) -> Option<String> {
        let f = self
            .model
            .functions
            .iter()
            .find(|f| matches!(f.returns, Codec::Row { table, .. } if table == ti))?;
        let name = match self.computed_column_of(f) {
            Some(on) => inflect::computed_column(&f.name, &self.model.tables[on].name),
            None => inflect::function(&f.inflect_name),
        };
        let kind = if f.volatile { "mutation" } else { "query" };
        Some(format!("The return type of our `{name}` {kind}."))
    }
}
