//! The mutations a table and a VOLATILE function get: their input, patch and payload types
//! and the root fields (CRUD as PostGraphile v4 builds it, plus upsert and bulk create).

use super::*;

impl<'a> Builder<'a> {
    /// A table's CRUD mutations. One whose input would have no field at all (every column
    /// generated or `@omit`ted) is left out: GraphQL has no empty input objects.
    pub(super) fn crud_mutations(&mut self, ti: usize) -> Result<Vec<FieldDef>, BuildError> {
        let t = &self.model.tables[ti];
        let settable = |omitted: fn(&Column) -> bool| {
            t.columns
                .iter()
                .any(|c| c.writable && !matches!(c.codec, Codec::Jwt { .. }) && !omitted(c))
        };
        let (creatable, updatable) = (settable(|c| c.omit.create), settable(|c| c.omit.update));
        let out = self.all_crud_mutations(ti)?;
        Ok(self.keep_mutations(out, |f| match f.kind {
            FieldKind::Create { .. } | FieldKind::CreateMany { .. } => creatable,
            FieldKind::Upsert { .. } => creatable && updatable,
            FieldKind::Update { .. } | FieldKind::UpdateByNodeId { .. } => updatable,
            _ => true,
        }))
    }

    /// The mutations `keep` wants; the input and payload types of the others are forgotten,
    /// so that a function may take their names (v4 gives `create_organization()` the name
    /// `createOrganization` when the table's own create is `@omit`ted or not granted).
    pub(super) fn keep_mutations(
        &mut self,
        fields: Vec<FieldDef>,
        keep: impl Fn(&FieldDef) -> bool,
    ) -> Vec<FieldDef> {
        let (kept, dropped): (Vec<FieldDef>, Vec<FieldDef>) = fields.into_iter().partition(keep);
        let used: BTreeSet<&str> = kept
            .iter()
            .flat_map(|f| {
                f.args
                    .iter()
                    .map(|a| a.ty.innermost())
                    .chain([f.ty.innermost()])
            })
            .collect();
        let forget: Vec<String> = dropped
            .iter()
            .flat_map(|f| {
                f.args
                    .iter()
                    .map(|a| a.ty.innermost())
                    .chain([f.ty.innermost()])
            })
            .filter(|n| !used.contains(n))
            .map(str::to_string)
            .collect();
        for name in forget {
            self.model.types.remove(&name);
        }
        kept
    }

    fn all_crud_mutations(&mut self, ti: usize) -> Result<Vec<FieldDef>, BuildError> {
        let t = self.model.tables[ti].clone();
        let writable: Vec<usize> = (0..t.columns.len())
            .filter(|&c| t.columns[c].writable && !matches!(t.columns[c].codec, Codec::Jwt { .. }))
            .collect();
        let mut input_fields = vec![];
        let mut patch_fields = vec![];
        for &ci in &writable {
            let c = &t.columns[ci];
            let ty = self.gql_input_type(&c.codec);
            let required = c.not_null && !c.has_default;
            if !c.omit.update {
                patch_fields.push(InputFieldDef {
                    name: c.field.clone(),
                    description: self.column_comment(&t, &c.name),
                    ty: ty.clone(),
                    target: InputTarget::Column(ci),
                });
            }
            if c.omit.create {
                continue;
            }
            input_fields.push(InputFieldDef {
                name: c.field.clone(),
                description: self.column_comment(&t, &c.name),
                ty: if required {
                    ty.clone().non_null()
                } else {
                    ty.clone()
                },
                target: InputTarget::Column(ci),
            });
        }
        self.insert(TypeDef::Input(InputDef {
            name: inflect::input_type(&t.inflect_name),
            description: Some(format!(
                "An input for mutations affecting `{}`",
                t.type_name
            )),
            fields: input_fields,
        }))?;
        self.insert(TypeDef::Input(InputDef {
            name: inflect::patch_type(&t.inflect_name),
            description: Some(format!(
                "Represents an update to a `{}`. Fields that are set will be updated.",
                t.type_name
            )),
            fields: patch_fields,
        }))?;

        let cmid = || {
            InputFieldDef {
            name: "clientMutationId".into(),
            description: Some("An arbitrary string value with no semantic meaning. Will be included in the payload verbatim. May be used to track mutations by the client.".into()),
            ty: TypeRef::named("String"),
            target: InputTarget::ClientMutationId,
        }
        };
        let row_field = inflect::payload_row(&t.inflect_name);
        let mut out = vec![];

        // create
        self.insert(TypeDef::Input(InputDef {
            name: inflect::create_input_type(&t.inflect_name),
            description: Some(format!(
                "All input for the create `{}` mutation.",
                t.type_name
            )),
            fields: vec![
                cmid(),
                InputFieldDef {
                    name: row_field.clone(),
                    description: Some(format!(
                        "The `{}` to be created by this mutation.",
                        t.type_name
                    )),
                    ty: TypeRef::named(inflect::input_type(&t.inflect_name)).non_null(),
                    target: InputTarget::Nested,
                },
            ],
        }))?;
        self.payload(ti, "create")?;
        out.push(FieldDef {
            name: inflect::create_mutation(&t.inflect_name),
            description: Some(format!("Creates a single `{}`.", t.type_name)),
            ty: TypeRef::named(inflect::create_payload_type(&t.inflect_name)),
            args: vec![ArgDef { name: "input".into(), description: Some("The exclusive input argument for this mutation. An object type, make sure to see documentation for this object’s fields.".into()), ty: TypeRef::named(inflect::create_input_type(&t.inflect_name)).non_null(), default: None }],
            kind: FieldKind::Create { table: ti },
        });

        // Beyond-v4 mutations never take a name a function mutation has in v4.
        let bulk_names = [
            inflect::bulk_create_mutation(&t.inflect_name),
            inflect::bulk_create_input_type(&t.inflect_name),
            inflect::bulk_create_payload_type(&t.inflect_name),
        ];
        if self.free_of_functions(&t, &bulk_names) {
            out.push(self.bulk_create(ti)?);
        }

        if t.primary_key.is_none() && t.unique_keys.is_empty() {
            return Ok(out);
        }
        let upsert_names = [
            inflect::upsert_mutation(&t.inflect_name),
            inflect::upsert_input_type(&t.inflect_name),
            inflect::upsert_payload_type(&t.inflect_name),
        ];
        if !t.upsert_keys().is_empty() && self.free_of_functions(&t, &upsert_names) {
            out.push(self.upsert(ti)?);
        }
        self.payload(ti, "update")?;
        self.payload(ti, "delete")?;
        if t.primary_key.is_some() {
            // By global identifier: `updatePost(input: {nodeId, postPatch})`, `deletePost(input: {nodeId})`.
            let node_id_field = self.model.node_id_field.clone();
            let node_field = || InputFieldDef {
                name: node_id_field.clone(),
                description: Some(format!(
                    "The globally unique `ID` which will identify a single `{}` to be updated.",
                    t.type_name
                )),
                ty: TypeRef::named("ID").non_null(),
                target: InputTarget::NodeId,
            };
            let update_input = inflect::update_by_node_id_input_type(&t.inflect_name);
            self.insert(TypeDef::Input(InputDef {
                name: update_input.clone(),
                description: Some(format!("All input for the `{}` mutation.", inflect::update_by_node_id(&t.inflect_name))),
                fields: vec![
                    cmid(),
                    node_field(),
                    InputFieldDef {
                        name: inflect::patch_field(&t.inflect_name),
                        description: Some(format!("An object where the defined keys will be set on the `{}` being updated.", t.type_name)),
                        ty: TypeRef::named(inflect::patch_type(&t.inflect_name)).non_null(),
                        target: InputTarget::Nested,
                    },
                ],
            }))?;
            out.push(FieldDef {
                name: inflect::update_by_node_id(&t.inflect_name),
                description: Some(format!("Updates a single `{}` using its globally unique id and a patch.", t.type_name)),
                ty: TypeRef::named(inflect::update_payload_type(&t.inflect_name)),
                args: vec![ArgDef { name: "input".into(), description: Some("The exclusive input argument for this mutation. An object type, make sure to see documentation for this object’s fields.".into()), ty: TypeRef::named(update_input).non_null(), default: None }],
                kind: FieldKind::UpdateByNodeId { table: ti },
            });
            let delete_input = inflect::delete_by_node_id_input_type(&t.inflect_name);
            self.insert(TypeDef::Input(InputDef {
                name: delete_input.clone(),
                description: Some(format!(
                    "All input for the `{}` mutation.",
                    inflect::delete_by_node_id(&t.inflect_name)
                )),
                fields: vec![cmid(), node_field()],
            }))?;
            out.push(FieldDef {
                name: inflect::delete_by_node_id(&t.inflect_name),
                description: Some(format!("Deletes a single `{}` using its globally unique id.", t.type_name)),
                ty: TypeRef::named(inflect::delete_payload_type(&t.inflect_name)),
                args: vec![ArgDef { name: "input".into(), description: Some("The exclusive input argument for this mutation. An object type, make sure to see documentation for this object’s fields.".into()), ty: TypeRef::named(delete_input).non_null(), default: None }],
                kind: FieldKind::DeleteByNodeId { table: ti },
            });
        }
        for key in t.primary_key.iter().chain(t.unique_keys.iter()) {
            let names: Vec<&str> = key
                .iter()
                .map(|&c| t.columns[c].inflect_name.as_str())
                .collect();
            let mut key_fields = vec![];
            for &c in key {
                let ty = self.gql_input_type(&t.columns[c].codec).non_null();
                key_fields.push(InputFieldDef {
                    name: t.columns[c].field.clone(),
                    description: None,
                    ty,
                    target: InputTarget::Key(c),
                });
            }
            let mut update_fields = vec![
                cmid(),
                InputFieldDef {
                    name: inflect::patch_field(&t.inflect_name),
                    description: Some(format!(
                        "An object where the defined keys will be set on the `{}` being updated.",
                        t.type_name
                    )),
                    ty: TypeRef::named(inflect::patch_type(&t.inflect_name)).non_null(),
                    target: InputTarget::Nested,
                },
            ];
            update_fields.extend(key_fields.clone());
            let update_input = inflect::update_by_unique_input_type(&t.inflect_name, &names);
            self.insert(TypeDef::Input(InputDef {
                name: update_input.clone(),
                description: Some(format!(
                    "All input for the `{}` mutation.",
                    inflect::update_by_unique(&t.inflect_name, &names)
                )),
                fields: update_fields,
            }))?;
            out.push(FieldDef {
                name: inflect::update_by_unique(&t.inflect_name, &names),
                description: Some(format!(
                    "Updates a single `{}` using a unique key and a patch.",
                    t.type_name
                )),
                ty: TypeRef::named(inflect::update_payload_type(&t.inflect_name)),
                args: vec![ArgDef {
                    name: "input".into(),
                    description: None,
                    ty: TypeRef::named(update_input).non_null(),
                    default: None,
                }],
                kind: FieldKind::Update {
                    table: ti,
                    columns: key.clone(),
                },
            });
            let mut delete_fields = vec![cmid()];
            delete_fields.extend(key_fields);
            let delete_input = inflect::delete_by_unique_input_type(&t.inflect_name, &names);
            self.insert(TypeDef::Input(InputDef {
                name: delete_input.clone(),
                description: Some(format!(
                    "All input for the `{}` mutation.",
                    inflect::delete_by_unique(&t.inflect_name, &names)
                )),
                fields: delete_fields,
            }))?;
            out.push(FieldDef {
                name: inflect::delete_by_unique(&t.inflect_name, &names),
                description: Some(format!(
                    "Deletes a single `{}` using a unique key.",
                    t.type_name
                )),
                ty: TypeRef::named(inflect::delete_payload_type(&t.inflect_name)),
                args: vec![ArgDef {
                    name: "input".into(),
                    description: None,
                    ty: TypeRef::named(delete_input).non_null(),
                    default: None,
                }],
                kind: FieldKind::Delete {
                    table: ti,
                    columns: key.clone(),
                },
            });
        }
        Ok(out)
    }

    /// The payload of a CRUD mutation (`mode`: create, update or delete), as v4 builds it:
    /// `clientMutationId`, the row, `deletedXId`, `query`, the rows its foreign keys point
    /// to and the row as an edge.
    fn payload(&mut self, ti: usize, mode: &str) -> Result<(), BuildError> {
        let t = self.model.tables[ti].clone();
        let name = match mode {
            "create" => inflect::create_payload_type(&t.inflect_name),
            "upsert" => inflect::upsert_payload_type(&t.inflect_name),
            "update" => inflect::update_payload_type(&t.inflect_name),
            _ => inflect::delete_payload_type(&t.inflect_name),
        };
        let mut fields = vec![
            field("clientMutationId", TypeRef::named("String"), FieldKind::ClientMutationId, "The exact same `clientMutationId` that was provided in the mutation input, unchanged and unused. May be used by a client to track mutations."),
            field(&inflect::payload_row(&t.inflect_name), TypeRef::named(t.type_name.clone()), FieldKind::PayloadRow, &format!("The `{}` that was {mode}d by this mutation.", t.type_name)),
        ];
        if mode == "delete" && t.primary_key.is_some() {
            fields.push(field(
                &inflect::deleted_node_id(&t.name),
                TypeRef::named("ID"),
                FieldKind::DeletedNodeId,
                "",
            ));
        }
        fields.push(field(
            "query",
            TypeRef::named("Query"),
            FieldKind::Query,
            "Our root query field type. Allows us to run any query from our mutation payload.",
        ));
        fields.extend(self.payload_row_fields(ti));
        let fields = names::dedupe_fields(&self.model, &name, fields);
        self.insert(TypeDef::Object(ObjectDef {
            interfaces: vec![],
            name,
            description: Some(format!(
                "The output of our {mode} `{}` mutation.",
                t.type_name
            )),
            fields,
        }))
    }

    /// Whether no VOLATILE function's mutation, input or payload is named like one of
    /// `names` (a function `create_posts` keeps `createPosts`, as in v4); warns otherwise.
    fn free_of_functions(&self, t: &Table, names: &[String]) -> bool {
        // The names are made once per build, not once per table.
        let taken = self.volatile_names.get_or_init(|| {
            let mut taken = HashMap::new();
            for (fi, f) in self
                .model
                .functions
                .iter()
                .enumerate()
                .filter(|(_, f)| f.volatile)
            {
                for n in [
                    inflect::function(&f.name),
                    inflect::function_input_type(&f.name),
                    inflect::function_payload_type(&f.name),
                ] {
                    taken.entry(n).or_insert(fi);
                }
            }
            taken
        });
        let clash = names
            .iter()
            .filter_map(|n| taken.get(n).copied())
            .min()
            .map(|fi| &self.model.functions[fi]);
        match clash {
            Some(f) => {
                tracing::warn!(
                    "table {}.{}: `{}` is left out: function {}.{} has that name",
                    t.schema,
                    t.name,
                    names[0],
                    f.schema,
                    f.name
                );
                false
            }
            None => true,
        }
    }

    /// Whether a VOLATILE function's mutation field, or its input or payload type, is named
    /// like something built before (a table's `createPost` and `create_post()`): the
    /// function is then left out, with a warning naming both and the smart tags that help.
    pub(super) fn function_mutation_clashes(&self, f: &Function, built: &[FieldDef]) -> bool {
        let field_name = inflect::function(&f.inflect_name);
        let holder = match built.iter().find(|b| b.name == field_name) {
            Some(b) => Some((field_name, names::origin(&self.model, &b.kind))),
            None => [
                inflect::function_input_type(&f.inflect_name),
                inflect::function_payload_type(&f.inflect_name),
            ]
            .into_iter()
            .find(|n| self.model.types.contains_key(n))
            .map(|n| {
                let holder = self.claimed.get(&n).cloned();
                (n, holder.unwrap_or_else(|| "another type".into()))
            }),
        };
        let Some((name, holder)) = holder else {
            return false;
        };
        tracing::warn!(
            "function {}.{} left out: the GraphQL name `{name}` its mutation needs is taken by \
             {holder}; rename the function with a `@name` smart comment, or hide one of them \
             with `@omit` (`@omit create` on a table gives up its `create` mutation)",
            f.schema,
            f.name
        );
        true
    }

    /// `upsertPost(input: {post, onConflict})` (beyond v4): one `insert ... on conflict (key)
    /// do update` of the columns given; `onConflict` names the key (default: the primary key,
    /// else the first unique key).
    fn upsert(&mut self, ti: usize) -> Result<FieldDef, BuildError> {
        let t = self.model.tables[ti].clone();
        let keys = t.upsert_keys();
        let key_enum = inflect::unique_key_enum(&t.inflect_name);
        let values = keys
            .iter()
            .map(|(key, primary)| {
                let cols: Vec<&str> = key
                    .iter()
                    .map(|&c| t.columns[c].inflect_name.as_str())
                    .collect();
                let name = inflect::unique_key_value(&cols, *primary);
                EnumValueDef {
                    description: Some(format!(
                        "A conflict on ({}).",
                        key.iter()
                            .map(|&c| t.columns[c].name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    meaning: EnumMeaning::Label(name.clone()),
                    name,
                }
            })
            .collect();
        self.insert(TypeDef::Enum(EnumDef {
            name: key_enum.clone(),
            description: Some(format!(
                "The keys of `{}` an upsert may conflict on.",
                t.type_name
            )),
            values,
        }))?;
        let input = inflect::upsert_input_type(&t.inflect_name);
        self.insert(TypeDef::Input(InputDef {
            name: input.clone(),
            description: Some(format!("All input for the upsert `{}` mutation.", t.type_name)),
            fields: vec![
                cmid(),
                InputFieldDef {
                    name: inflect::payload_row(&t.inflect_name),
                    description: Some(format!(
                        "The `{}` to be created, or updated where its key is taken.",
                        t.type_name
                    )),
                    ty: TypeRef::named(inflect::input_type(&t.inflect_name)).non_null(),
                    target: InputTarget::Nested,
                },
                InputFieldDef {
                    name: "onConflict".into(),
                    description: Some("The key whose conflict turns the insert into an update of the columns given (default: the primary key).".into()),
                    ty: TypeRef::named(key_enum),
                    target: InputTarget::ConflictKey,
                },
            ],
        }))?;
        self.payload(ti, "upsert")?;
        Ok(FieldDef {
            name: inflect::upsert_mutation(&t.inflect_name),
            description: Some(format!(
                "Creates a single `{}`, or updates the one whose key it repeats.",
                t.type_name
            )),
            ty: TypeRef::named(inflect::upsert_payload_type(&t.inflect_name)),
            args: vec![input_arg(input)],
            kind: FieldKind::Upsert { table: ti },
        })
    }

    /// `createPosts(input: {posts: [...]})` (beyond v4): all rows in one statement, all or
    /// none.
    fn bulk_create(&mut self, ti: usize) -> Result<FieldDef, BuildError> {
        let t = self.model.tables[ti].clone();
        let rows = inflect::bulk_rows_field(&t.inflect_name);
        let input = inflect::bulk_create_input_type(&t.inflect_name);
        let payload = inflect::bulk_create_payload_type(&t.inflect_name);
        self.insert(TypeDef::Input(InputDef {
            name: input.clone(),
            description: Some(format!(
                "All input for the bulk create `{}` mutation.",
                t.type_name
            )),
            fields: vec![
                cmid(),
                InputFieldDef {
                    name: rows.clone(),
                    description: Some(format!(
                        "The `{}` rows to be created, all or none.",
                        t.type_name
                    )),
                    ty: TypeRef::named(inflect::input_type(&t.inflect_name))
                        .non_null()
                        .list()
                        .non_null(),
                    target: InputTarget::Nested,
                },
            ],
        }))?;
        self.insert(TypeDef::Object(ObjectDef {
            interfaces: vec![],
            name: payload.clone(),
            description: Some(format!(
                "The output of our bulk create `{}` mutation.",
                t.type_name
            )),
            fields: vec![
                field("clientMutationId", TypeRef::named("String"), FieldKind::ClientMutationId, "The exact same `clientMutationId` that was provided in the mutation input, unchanged and unused. May be used by a client to track mutations."),
                field(&rows, TypeRef::named(t.type_name.clone()).non_null().list(), FieldKind::PayloadRow, &format!("The `{}` rows that were created by this mutation, in input order.", t.type_name)),
                field("query", TypeRef::named("Query"), FieldKind::Query, "Our root query field type. Allows us to run any query from our mutation payload."),
            ],
        }))?;
        Ok(FieldDef {
            name: inflect::bulk_create_mutation(&t.inflect_name),
            description: Some(format!(
                "Creates many `{}` rows in one statement: all of them, or none.",
                t.type_name
            )),
            ty: TypeRef::named(payload),
            args: vec![input_arg(input)],
            kind: FieldKind::CreateMany { table: ti },
        })
    }

    /// What a payload holding one row of table `ti` offers besides the row: the rows its
    /// foreign keys point to (`userByAuthorId`) and the row as an edge (`postEdge(orderBy:)`).
    fn payload_row_fields(&mut self, ti: usize) -> Vec<FieldDef> {
        let t = self.model.tables[ti].clone();
        let mut fields = vec![];
        for (ri, r) in self
            .model
            .relations
            .iter()
            .enumerate()
            .filter(|(_, r)| r.table == ti)
        {
            let ft = &self.model.tables[r.foreign_table];
            if ft.omit.read {
                continue;
            }
            fields.push(field(
                &self.model.forward_name(ri),
                TypeRef::named(ft.type_name.clone()),
                FieldKind::PayloadForward { relation: ri },
                &format!(
                    "Reads a single `{}` that is related to this `{}`.",
                    ft.type_name, t.type_name
                ),
            ));
        }
        if !(t.omit.read || t.omit.all && t.omit.many) {
            let default = if t.primary_key.is_some() {
                "PRIMARY_KEY_ASC"
            } else {
                "NATURAL"
            };
            fields.push(FieldDef {
                name: inflect::payload_edge(&t.inflect_name),
                description: Some(format!(
                    "An edge for our `{}`. May be used by Relay 1.",
                    t.type_name
                )),
                ty: TypeRef::named(inflect::edge_type(&t.inflect_name)),
                args: vec![ArgDef {
                    name: "orderBy".into(),
                    description: Some(format!(
                        "The method to use when ordering `{}`.",
                        t.type_name
                    )),
                    ty: TypeRef::named(inflect::order_by_enum(&t.inflect_name))
                        .non_null()
                        .list(),
                    default: Some(DefaultValue::EnumList(vec![default.into()])),
                }],
                kind: FieldKind::PayloadEdge { table: ti },
            });
        }
        fields
    }

    pub(super) fn function_mutation(&mut self, fi: usize) -> Result<FieldDef, BuildError> {
        let f = self.model.functions[fi].clone();
        let mut input_fields = vec![InputFieldDef {
            name: "clientMutationId".into(),
            description: Some("An arbitrary string value with no semantic meaning. Will be included in the payload verbatim. May be used to track mutations by the client.".into()),
            ty: TypeRef::named("String"),
            target: InputTarget::ClientMutationId,
        }];
        for (i, a) in f.args.iter().enumerate() {
            let ty = self.arg_type(&f, i, &a.codec);
            input_fields.push(InputFieldDef {
                name: a.field.clone(),
                description: None,
                ty,
                target: InputTarget::FunctionArg(i),
            });
        }
        let input = inflect::function_input_type(&f.inflect_name);
        let payload = inflect::function_payload_type(&f.inflect_name);
        self.insert(TypeDef::Input(InputDef {
            name: input.clone(),
            description: Some(format!(
                "All input for the `{}` mutation.",
                inflect::function(&f.inflect_name)
            )),
            fields: input_fields,
        }))?;
        let result_ty = match (&f.returns, f.returns_set) {
            // v4 leaves a mutation's set of records (OUT parameters) nullable, even with
            // `--no-setof-functions-contain-nulls`.
            (c @ Codec::Row { table, .. }, true) if self.model.tables[*table].is_record() => {
                self.gql_type(c).list()
            }
            (c @ (Codec::Row { .. } | Codec::Jwt { .. }), true) => {
                let item = self.gql_type(c);
                self.set_row(item).list()
            }
            (c, true) => self.gql_type(c).list(),
            (c, false) => self.gql_type(c),
        };
        let plural = f.returns_set || matches!(f.returns, Codec::Array { .. });
        let record =
            matches!(f.returns, Codec::Row { table, .. } if self.model.tables[table].is_record());
        let result_name = inflect::function_result_field(
            f.single_output.as_deref(),
            record,
            result_ty.innermost(),
            plural,
        );
        let mut fields = vec![field(
            "clientMutationId",
            TypeRef::named("String"),
            FieldKind::ClientMutationId,
            "The exact same `clientMutationId` that was provided in the mutation input, unchanged and unused. May be used by a client to track mutations.",
        )];
        // `RETURNS void`: nothing to show (v4 has no result field then).
        if !f.returns_void {
            fields.push(field(&result_name, result_ty, FieldKind::PayloadResult, ""));
        }
        fields.push(field(
            "query",
            TypeRef::named("Query"),
            FieldKind::Query,
            "Our root query field type. Allows us to run any query from our mutation payload.",
        ));
        // One row of a table: its relations and its edge too, as v4 gives them.
        if let (Codec::Row { table, .. }, false) = (&f.returns, f.returns_set) {
            if !self.model.tables[*table].is_composite() {
                fields.extend(self.payload_row_fields(*table));
            }
        }
        let fields = names::dedupe_fields(&self.model, &payload, fields);
        self.insert(TypeDef::Object(ObjectDef {
            interfaces: vec![],
            name: payload.clone(),
            description: Some(format!(
                "The output of our `{}` mutation.",
                inflect::function(&f.inflect_name)
            )),
            fields,
        }))?;
        Ok(FieldDef {
            name: inflect::function(&f.inflect_name),
            description: self.proc_comment(&f),
            ty: TypeRef::named(payload),
            args: vec![ArgDef { name: "input".into(), description: Some("The exclusive input argument for this mutation. An object type, make sure to see documentation for this object’s fields.".into()), ty: TypeRef::named(input).non_null(), default: None }],
            kind: FieldKind::Function { function: fi },
        })
    }
}

/// `clientMutationId` of a mutation's input.
fn cmid() -> InputFieldDef {
    InputFieldDef {
        name: "clientMutationId".into(),
        description: Some("An arbitrary string value with no semantic meaning. Will be included in the payload verbatim. May be used to track mutations by the client.".into()),
        ty: TypeRef::named("String"),
        target: InputTarget::ClientMutationId,
    }
}

/// A mutation's one `input` argument.
fn input_arg(input: String) -> ArgDef {
    ArgDef {
        name: "input".into(),
        description: Some("The exclusive input argument for this mutation. An object type, make sure to see documentation for this object’s fields.".into()),
        ty: TypeRef::named(input).non_null(),
        default: None,
    }
}
