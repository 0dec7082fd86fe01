//! The root types: `Query` (collections, lookups, node, query functions), `Mutation`,
//! `PageInfo`, the `Node` interface and the scalars in use.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn emit_types(&mut self) -> Result<(), BuildError> {
        let mut query_fields = vec![FieldDef {
            name: "query".into(),
            description: Some("Exposes the root query type nested one level down. This is helpful for Relay 1 which can only query top level fields if they are in a particular form.".into()),
            ty: TypeRef::named("Query").non_null(),
            args: vec![],
            kind: FieldKind::Query,
        }];
        let has_nodes = self.model.tables.iter().enumerate().any(|(i, t)| {
            t.primary_key.is_some() && !t.is_composite() && self.jwt_table != Some(i)
        });
        if has_nodes {
            query_fields.push(field(
                &self.model.node_id_field,
                TypeRef::named("ID").non_null(),
                FieldKind::NodeId,
                "The root query type must be a `Node` to work well with Relay 1 mutations. This just resolves to `query`.",
            ));
            query_fields.push(FieldDef {
                name: "node".into(),
                description: Some("Fetches an object given its globally unique `ID`.".into()),
                ty: TypeRef::named("Node"),
                args: vec![node_id_arg(
                    &self.model.node_id_field,
                    "The globally unique `ID`.",
                )],
                kind: FieldKind::Node,
            });
            self.insert(TypeDef::Interface(InterfaceDef {
                name: "Node".into(),
                description: Some("An object with a globally unique `ID`.".into()),
                fields: vec![field(&self.model.node_id_field, TypeRef::named("ID").non_null(), FieldKind::NodeId, "A globally unique identifier. Can be used in various places throughout the system to identify this single value.")],
            }))?;
        }
        let mut mutation_fields = vec![];
        let mut needs_page_info = false;

        for ti in 0..self.model.tables.len() {
            if self.jwt_table == Some(ti) {
                continue;
            }
            let object = self.row_object(ti)?;
            self.insert(TypeDef::Object(object))?;
            let t = self.model.tables[ti].clone();
            if t.is_composite() {
                continue;
            }
            needs_page_info = true;
            self.connection_types(ti)?;
            let collections = t
                .simple_collections
                .unwrap_or(self.opts.flags.simple_collections);
            if !t.omit.all && !t.omit.read && collections.connections() {
                query_fields.push(FieldDef {
                    name: inflect::all_rows(&t.inflect_name),
                    description: Some(format!(
                        "Reads and enables pagination through a set of `{}`.",
                        t.type_name
                    )),
                    ty: TypeRef::named(inflect::connection_type(&t.inflect_name)),
                    args: self.connection_args(ti),
                    kind: FieldKind::AllRows { table: ti },
                });
            }
            if !t.omit.all && !t.omit.read && collections.lists() {
                query_fields.push(FieldDef {
                    name: inflect::all_rows_list(&t.inflect_name),
                    description: Some(format!("Reads a set of `{}`.", t.type_name)),
                    ty: TypeRef::named(t.type_name.clone()).non_null().list(),
                    args: self.collection_args(ti, true),
                    kind: FieldKind::AllRowsList { table: ti },
                });
            }
            let lookups = if t.omit.read {
                &[][..]
            } else {
                &t.unique_keys[..]
            };
            for key in t.primary_key.iter().filter(|_| !t.omit.read).chain(lookups) {
                let names: Vec<&str> = key
                    .iter()
                    .map(|&c| t.columns[c].inflect_name.as_str())
                    .collect();
                let mut args = vec![];
                for &c in key {
                    let ty = self.gql_input_type(&t.columns[c].codec).non_null();
                    args.push(ArgDef {
                        name: t.columns[c].field.clone(),
                        description: None,
                        ty,
                        default: None,
                    });
                }
                query_fields.push(FieldDef {
                    name: inflect::row_by_unique(&t.inflect_name, &names),
                    description: None,
                    ty: TypeRef::named(t.type_name.clone()),
                    args,
                    kind: FieldKind::RowByKey {
                        table: ti,
                        columns: key.clone(),
                    },
                });
            }
            if t.primary_key.is_some() && !t.omit.read {
                query_fields.push(FieldDef {
                    name: inflect::row_by_node_id(&t.inflect_name),
                    description: Some(format!(
                        "Reads a single `{}` using its globally unique `ID`.",
                        t.type_name
                    )),
                    ty: TypeRef::named(t.type_name.clone()),
                    args: vec![node_id_arg(
                        &self.model.node_id_field,
                        &format!(
                            "The globally unique `ID` to be used in selecting a single `{}`.",
                            t.type_name
                        ),
                    )],
                    kind: FieldKind::RowByNodeId { table: ti },
                });
            }
            // Every relation but a composite type; what Postgres refuses (a view with a join,
            // a materialized view) is `@omit`ted already (rbac::updatability).
            if t.kind != 'c' && !self.opts.disable_default_mutations {
                let omit = t.omit;
                // Upsert's ON CONFLICT needs a real unique index: tables only.
                let table = t.kind == 'r' || t.kind == 'p';
                let wanted = |f: &FieldDef| match f.kind {
                    FieldKind::Create { .. } | FieldKind::CreateMany { .. } => !omit.create,
                    FieldKind::Upsert { .. } => table && !omit.create && !omit.update,
                    FieldKind::Update { .. } | FieldKind::UpdateByNodeId { .. } => !omit.update,
                    FieldKind::Delete { .. } | FieldKind::DeleteByNodeId { .. } => !omit.delete,
                    _ => true,
                };
                let crud = self.crud_mutations(ti)?;
                mutation_fields.extend(self.keep_mutations(crud, wanted));
            }
        }

        for fi in 0..self.model.functions.len() {
            let f = self.model.functions[fi].clone();
            if self.computed_column_of(&f).is_some() {
                continue;
            }
            if f.volatile {
                if self.function_mutation_clashes(&f, &mutation_fields) {
                    continue;
                }
                mutation_fields.push(self.function_mutation(fi)?);
            } else {
                let (connection, list) = self.function_collections(&f);
                if connection {
                    let Some((ty, args)) = self.function_field(fi, 0)? else {
                        continue;
                    };
                    needs_page_info |= f.returns_set;
                    query_fields.push(FieldDef {
                        name: inflect::function(&f.inflect_name),
                        description: self.proc_comment(&f),
                        ty,
                        args,
                        kind: FieldKind::Function { function: fi },
                    });
                }
                if list {
                    let (ty, args) = self.function_list_field(fi, 0);
                    query_fields.push(FieldDef {
                        name: inflect::function_list(&f.inflect_name),
                        description: self.proc_comment(&f),
                        ty,
                        args,
                        kind: FieldKind::FunctionList { function: fi },
                    });
                }
            }
        }

        if needs_page_info {
            self.used_scalars.insert("Cursor");
            let page_info = ObjectDef {
                interfaces: vec![],
                name: "PageInfo".into(),
                description: Some("Information about pagination in a connection.".into()),
                fields: vec![
                    field(
                        "hasNextPage",
                        TypeRef::named("Boolean").non_null(),
                        FieldKind::HasNextPage,
                        "When paginating forwards, are there more items?",
                    ),
                    field(
                        "hasPreviousPage",
                        TypeRef::named("Boolean").non_null(),
                        FieldKind::HasPreviousPage,
                        "When paginating backwards, are there more items?",
                    ),
                    field(
                        "startCursor",
                        TypeRef::named("Cursor"),
                        FieldKind::StartCursor,
                        "When paginating backwards, the cursor to continue.",
                    ),
                    field(
                        "endCursor",
                        TypeRef::named("Cursor"),
                        FieldKind::EndCursor,
                        "When paginating forwards, the cursor to continue.",
                    ),
                ],
            };
            self.insert(TypeDef::Object(page_info))?;
        }

        self.insert(TypeDef::Object(ObjectDef {
            interfaces: if has_nodes {
                vec!["Node".into()]
            } else {
                vec![]
            },
            name: "Query".into(),
            description: Some(
                "The root query type which gives access points into the data universe.".into(),
            ),
            fields: names::dedupe_fields(&self.model, "Query", query_fields),
        }))?;
        if !mutation_fields.is_empty() {
            self.insert(TypeDef::Object(ObjectDef {
                interfaces: vec![],
                name: "Mutation".into(),
                description: Some(
                    "The root mutation type which contains root level fields which mutate data."
                        .into(),
                ),
                fields: names::dedupe_fields(&self.model, "Mutation", mutation_fields),
            }))?;
            self.model.mutation_type = Some("Mutation".into());
        }
        if self.opts.simple_subscriptions {
            self.subscription_types(has_nodes)?;
        }
        for (name, description) in SCALARS {
            if self.used_scalars.contains(name) {
                let description = match *name {
                    "JSON" if self.opts.flags.dynamic_json => DYNAMIC_JSON,
                    _ => description,
                };
                self.insert(TypeDef::Scalar(ScalarDef {
                    name: (*name).into(),
                    description: Some(description.into()),
                }))?;
            }
        }
        Ok(())
    }

    /// v4's simple subscriptions: `Subscription.listen(topic: String!): ListenPayload!`, its
    /// payload carrying the node an event names (when the schema has nodes) and `query`.
    fn subscription_types(&mut self, has_nodes: bool) -> Result<(), BuildError> {
        let payload = inflect::listen_payload();
        let mut fields = vec![field(
            "query",
            TypeRef::named("Query"),
            FieldKind::Query,
            "Our root query field type. Allows us to run any query from our subscription payload.",
        )];
        if has_nodes {
            fields.push(field(
                "relatedNode",
                TypeRef::named("Node"),
                FieldKind::RelatedNode,
                "",
            ));
            fields.push(field(
                "relatedNodeId",
                TypeRef::named("ID"),
                FieldKind::RelatedNodeId,
                "",
            ));
        }
        self.insert(TypeDef::Object(ObjectDef {
            interfaces: vec![],
            name: payload.clone(),
            description: None,
            fields,
        }))?;
        self.insert(TypeDef::Object(ObjectDef {
            interfaces: vec![],
            name: inflect::SUBSCRIPTION_TYPE.into(),
            description: Some("The root subscription type: contains realtime events you can subscribe to with the `subscription` operation.".into()),
            fields: vec![FieldDef {
                name: inflect::listen(),
                description: None,
                ty: TypeRef::named(payload).non_null(),
                args: vec![ArgDef {
                    name: "topic".into(),
                    description: None,
                    ty: TypeRef::named("String").non_null(),
                    default: None,
                }],
                kind: FieldKind::Listen,
            }],
        }))?;
        self.model.subscription_type = Some(inflect::SUBSCRIPTION_TYPE.into());
        Ok(())
    }
}
