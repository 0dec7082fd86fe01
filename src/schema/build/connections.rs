//! Connections: their arguments, connection and edge types, `orderBy` enums and conditions.

use super::*;

impl<'a> Builder<'a> {
    pub(super) fn connection_args(&mut self, ti: usize) -> Vec<ArgDef> {
        self.collection_args(ti, false)
    }

    /// The arguments of a table's collection: a connection's, or a simple collection's
    /// (`list`: `first` and `offset` only, and no default order, as in v4).
    pub(super) fn collection_args(&mut self, ti: usize, list: bool) -> Vec<ArgDef> {
        let t = &self.model.tables[ti];
        let order = inflect::order_by_enum(&t.inflect_name);
        let default = if t.primary_key.is_some() {
            vec!["PRIMARY_KEY_ASC".to_string()]
        } else {
            vec!["NATURAL".to_string()]
        };
        // No `condition` when nothing may be compared (`@omit filter` on the table or on
        // every column, or `--no-ignore-indexes`): v4 leaves an empty input type out.
        let filterable = !t.omit.filter && t.columns.iter().any(condition_column);
        let mut args = if list { list_page_args() } else { page_args() };
        args.extend([
            ArgDef {
                name: "orderBy".into(),
                description: Some(format!("The method to use when ordering `{}`.", t.type_name)),
                ty: TypeRef::named(order).non_null().list(),
                default: (!list).then_some(DefaultValue::EnumList(default)),
            },
            ArgDef {
                name: "condition".into(),
                description: Some("A condition to be used in determining which values should be returned by the collection.".into()),
                ty: TypeRef::named(inflect::condition_type(&t.inflect_name)),
                default: None,
            },
        ]);
        args.retain(|a| filterable || a.name != "condition");
        args.extend(self.filter_arg(ti));
        args
    }

    /// The connection and edge types of a function returning a set of scalars (PostGraphile
    /// v4 pages those too: `topTags { nodes totalCount }`); false, with a warning, when their
    /// names are taken (the function is then left out).
    pub(super) fn scalar_connection_types(&mut self, f: &Function) -> Result<bool, BuildError> {
        let item = self.gql_type(&f.returns);
        // Rows of a record (OUT parameters, RETURNS TABLE) are never null under
        // `--no-setof-functions-contain-nulls`, as v4 makes them; scalars stay as they are.
        let record =
            matches!(f.returns, Codec::Row { table, .. } if self.model.tables[table].is_record());
        let row = if record {
            self.set_row(item.clone())
        } else {
            item.clone()
        };
        let conn_name = inflect::scalar_function_connection(&f.inflect_name);
        let edge_name = inflect::scalar_function_edge(&f.inflect_name);
        if let Some(taken) = [&conn_name, &edge_name]
            .into_iter()
            .find(|n| self.model.types.contains_key(n.as_str()))
        {
            tracing::warn!(
                "function {}.{} is left out: the GraphQL type name `{taken}` its connection needs is taken; rename it with a `@name` smart comment or hide it with `@omit`",
                f.schema,
                f.name
            );
            return Ok(false);
        }
        let conn = ObjectDef {
            interfaces: vec![],
            name: conn_name,
            description: Some(format!("A connection to a list of `{item}` values.")),
            fields: vec![
                field(
                    "nodes",
                    row.clone().list().non_null(),
                    FieldKind::Nodes,
                    &format!("A list of `{item}` objects."),
                ),
                field(
                    "edges",
                    TypeRef::named(edge_name.clone()).non_null().list().non_null(),
                    FieldKind::Edges,
                    &format!(
                        "A list of edges which contains the `{item}` and cursor to aid in pagination."
                    ),
                ),
                // No `pageInfo`, as in v4's connections of scalars.
                field(
                    "totalCount",
                    TypeRef::named("Int").non_null(),
                    FieldKind::TotalCount,
                    &format!("The count of *all* `{item}` you could get from the connection."),
                ),
            ],
        };
        self.insert(TypeDef::Object(conn))?;
        let edge = ObjectDef {
            interfaces: vec![],
            name: edge_name,
            description: Some(format!("A `{item}` edge in the connection.")),
            fields: vec![
                field(
                    "cursor",
                    TypeRef::named("Cursor"),
                    FieldKind::Cursor,
                    "A cursor for use in pagination.",
                ),
                field(
                    "node",
                    row,
                    FieldKind::EdgeNode,
                    &format!("The `{item}` at the end of the edge."),
                ),
            ],
        };
        self.insert(TypeDef::Object(edge))?;
        Ok(true)
    }

    pub(super) fn connection_types(&mut self, ti: usize) -> Result<(), BuildError> {
        let t = self.model.tables[ti].clone();
        let aggregates = self.aggregate_connection_fields(ti)?;
        let mut conn = ObjectDef {
            interfaces: vec![],
            name: inflect::connection_type(&t.inflect_name),
            description: Some(format!(
                "A connection to a list of `{}` values.",
                t.type_name
            )),
            fields: vec![
                field(
                    "nodes",
                    self.set_row(TypeRef::named(t.type_name.clone()))
                        .list()
                        .non_null(),
                    FieldKind::Nodes,
                    &format!("A list of `{}` objects.", t.type_name),
                ),
                field(
                    "edges",
                    TypeRef::named(inflect::edge_type(&t.inflect_name))
                        .non_null()
                        .list()
                        .non_null(),
                    FieldKind::Edges,
                    &format!(
                        "A list of edges which contains the `{}` and cursor to aid in pagination.",
                        t.type_name
                    ),
                ),
                field(
                    "pageInfo",
                    TypeRef::named("PageInfo").non_null(),
                    FieldKind::PageInfo,
                    "Information to aid in pagination.",
                ),
                field(
                    "totalCount",
                    TypeRef::named("Int").non_null(),
                    FieldKind::TotalCount,
                    &format!(
                        "The count of *all* `{}` you could get from the connection.",
                        t.type_name
                    ),
                ),
            ],
        };
        conn.fields.extend(aggregates);
        self.insert(TypeDef::Object(conn))?;
        let edge = ObjectDef {
            interfaces: vec![],
            name: inflect::edge_type(&t.inflect_name),
            description: Some(format!("A `{}` edge in the connection.", t.type_name)),
            fields: vec![
                field(
                    "cursor",
                    TypeRef::named("Cursor"),
                    FieldKind::Cursor,
                    "A cursor for use in pagination.",
                ),
                field(
                    "node",
                    self.set_row(TypeRef::named(t.type_name.clone())),
                    FieldKind::EdgeNode,
                    &format!("The `{}` at the end of the edge.", t.type_name),
                ),
            ],
        };
        self.insert(TypeDef::Object(edge))?;

        let mut values = vec![EnumValueDef {
            name: "NATURAL".into(),
            description: None,
            meaning: EnumMeaning::Natural,
        }];
        let mut condition_fields = vec![];
        for (ci, c) in t.columns.iter().enumerate() {
            // Arrays and composites compare element by element (`=`, `<`), as in v4.
            if matches!(c.codec, Codec::Jwt { .. }) {
                continue;
            }
            for asc in [true, false].into_iter().filter(|_| !c.omit.order) {
                values.push(EnumValueDef {
                    name: inflect::order_by_column(&c.order_name, asc),
                    description: None,
                    meaning: EnumMeaning::Column {
                        column: ci,
                        ascending: asc,
                    },
                });
            }
            if !condition_column(c) {
                continue;
            }
            let ty = self.gql_input_type(&c.codec);
            condition_fields.push(InputFieldDef {
                name: c.field.clone(),
                description: Some(format!(
                    "Checks for equality with the object’s `{}` field.",
                    c.field
                )),
                ty,
                target: InputTarget::Column(ci),
            });
        }
        if t.primary_key.is_some() {
            for asc in [true, false] {
                values.push(EnumValueDef {
                    name: inflect::order_by_primary_key(asc).into(),
                    description: None,
                    meaning: EnumMeaning::PrimaryKey { ascending: asc },
                });
            }
        }
        values.extend(self.related_aggregate_orders(ti));
        self.insert(TypeDef::Enum(EnumDef {
            name: inflect::order_by_enum(&t.inflect_name),
            description: Some(format!("Methods to use when ordering `{}`.", t.type_name)),
            values,
        }))?;
        if condition_fields.is_empty() {
            return Ok(());
        }
        self.insert(TypeDef::Input(InputDef {
            name: inflect::condition_type(&t.inflect_name),
            description: Some(format!("A condition to be used against `{}` object types. All fields are tested for equality and combined with a logical ‘and.’", t.type_name)),
            fields: condition_fields,
        }))?;
        Ok(())
    }
}

/// Whether a column is a field of its table's `condition` input.
fn condition_column(c: &Column) -> bool {
    !c.omit.filter && !matches!(c.codec, Codec::Jwt { .. })
}
