//! `@graphile/pg-aggregates` 0.1's schema: a connection's `aggregates` and
//! `groupedAggregates(groupBy:, having:)`, their object, enum and input types, and the
//! `orderBy` values over related rows' aggregates. Names come from `inflect`.

use super::*;
use crate::schema::aggregates::{having_filter, AggSpec, HAVING_OPERATORS, TRUNCATIONS};

impl<'a> Builder<'a> {
    /// The base Postgres type (domains followed) of a codec's values: its name and category.
    fn aggregate_base(&self, codec: &Codec) -> Option<(String, String)> {
        if matches!(
            codec,
            Codec::Array { .. } | Codec::Row { .. } | Codec::Jwt { .. }
        ) {
            return None;
        }
        let mut t = self.types_by_name.get(codec.sql_type()).copied()?;
        while t.kind == "d" {
            t = self.catalog.type_(t.base_oid?)?;
        }
        let name = if t.schema == "pg_catalog" {
            t.name.clone()
        } else {
            String::new()
        };
        Some((name, t.category.clone()))
    }

    /// The codec of a `pg_catalog` type.
    fn builtin_codec(&mut self, name: &str) -> Option<Codec> {
        let oid = self.catalog.type_by_name("pg_catalog", name)?.oid;
        self.codec(oid)
    }

    /// The codec of an aggregate's result over values of `codec`; None: it does not apply
    /// (the plugin's rule: numbers only, but any column for a distinct count).
    pub(super) fn aggregate_result(&mut self, spec: AggSpec, codec: &Codec) -> Option<Codec> {
        self.result_where(spec, codec, AggSpec::applies)
    }

    /// The type an order by related rows' aggregate sorts on: any column Postgres can
    /// aggregate so.
    fn order_result(&mut self, spec: AggSpec, codec: &Codec) -> Option<Codec> {
        self.result_where(spec, codec, AggSpec::sql_applies)
    }

    fn result_where(
        &mut self,
        spec: AggSpec,
        codec: &Codec,
        applies: fn(AggSpec, &str) -> bool,
    ) -> Option<Codec> {
        let (base, category) = self.aggregate_base(codec)?;
        if !applies(spec, &category) {
            return None;
        }
        match spec.result_type(&base) {
            Some(t) => self.builtin_codec(t),
            None => Some(codec.clone()),
        }
    }

    /// The computed columns of a table an aggregate can read: scalar, not a set.
    pub(super) fn aggregate_functions(&self, ti: usize) -> Vec<usize> {
        (0..self.model.functions.len())
            .filter(|&fi| {
                let f = &self.model.functions[fi];
                !f.returns_set && self.computed_column_of(f) == Some(ti)
            })
            .collect()
    }

    /// The fields aggregates add to a table's connection type (none when the table has
    /// aggregates off), with their types.
    pub(super) fn aggregate_connection_fields(
        &mut self,
        ti: usize,
    ) -> Result<Vec<FieldDef>, BuildError> {
        let t = self.model.tables[ti].clone();
        if !t.aggregates || t.omit.read || t.is_composite() {
            return Ok(vec![]);
        }
        let container = inflect::aggregate_container_type(&t.inflect_name);
        let mut fields = vec![field(
            "keys",
            TypeRef::named("String").non_null().list(),
            FieldKind::AggregateKeys,
            "",
        )];
        for spec in AggSpec::ALL {
            if let Some(f) = self.aggregate_type(ti, spec)? {
                fields.push(f);
            }
        }
        self.insert(TypeDef::Object(ObjectDef {
            name: container.clone(),
            description: None,
            fields,
            interfaces: vec![],
        }))?;
        let mut out = vec![field(
            inflect::aggregates_field(),
            TypeRef::named(container.clone()),
            FieldKind::Aggregates { table: ti },
            "Aggregates across the matching connection (ignoring before/after/first/last/offset)",
        )];
        if t.omit.order || !self.group_by_enum(ti)? {
            return Ok(out);
        }
        let mut args = vec![ArgDef {
            name: "groupBy".into(),
            description: Some(format!(
                "The method to use when grouping `{}` for these aggregates.",
                t.type_name
            )),
            ty: TypeRef::named(inflect::group_by_type(&t.inflect_name))
                .non_null()
                .list()
                .non_null(),
            default: None,
        }];
        if let Some(having) = self.having_input(ti)? {
            args.push(ArgDef {
                name: "having".into(),
                description: Some("Conditions on the grouped aggregates.".into()),
                ty: TypeRef::named(having),
                default: None,
            });
        }
        out.push(FieldDef {
            name: inflect::grouped_aggregates_field().into(),
            description: Some("Grouped aggregates across the matching connection (ignoring before/after/first/last/offset)".into()),
            ty: TypeRef::named(container).non_null().list(),
            args,
            kind: FieldKind::GroupedAggregates { table: ti },
        });
        Ok(out)
    }

    /// `PostSumAggregates` and the field holding it; None when no column suits the aggregate.
    fn aggregate_type(&mut self, ti: usize, spec: AggSpec) -> Result<Option<FieldDef>, BuildError> {
        let t = self.model.tables[ti].clone();
        let mut fields = vec![];
        for (ci, c) in t.columns.iter().enumerate().filter(|(_, c)| !c.omit.read) {
            let Some(result) = self.aggregate_result(spec, &c.codec) else {
                continue;
            };
            let mut ty = self.gql_type(&result);
            if spec.non_null() {
                ty = ty.non_null();
            }
            fields.push(field(
                &c.field,
                ty,
                FieldKind::AggregateColumn {
                    table: ti,
                    column: ci,
                    spec,
                    result,
                },
                &format!(
                    "{} of {} across the matching connection",
                    spec.label(),
                    c.field
                ),
            ));
        }
        for fi in self.aggregate_functions(ti) {
            let f = self.model.functions[fi].clone();
            let Some(result) = self.aggregate_result(spec, &f.returns) else {
                continue;
            };
            let Some((_, args)) = self.function_field(fi, 1)? else {
                continue;
            };
            // Nullable even for sum (still 0 for no rows), as the plugin types computed columns.
            let ty = self.gql_type(&result);
            let mut description = format!(
                "{} of this field across the matching connection.",
                spec.label()
            );
            if let Some(d) = self.proc_comment(&f) {
                description.push_str(&format!("\n\n---\n\n{d}"));
            }
            fields.push(FieldDef {
                name: inflect::computed_column(&f.name, &t.name),
                description: Some(description),
                ty,
                args,
                kind: FieldKind::AggregateComputed {
                    function: fi,
                    spec,
                    result,
                },
            });
        }
        if fields.is_empty() {
            return Ok(None);
        }
        let name = inflect::aggregate_type(&t.inflect_name, spec.id());
        let fields = names::dedupe_fields(&self.model, &name, fields);
        self.insert(TypeDef::Object(ObjectDef {
            name: name.clone(),
            description: None,
            fields,
            interfaces: vec![],
        }))?;
        Ok(Some(field(
            &inflect::aggregate_field(spec.id()),
            TypeRef::named(name),
            FieldKind::Aggregate { table: ti, spec },
            &format!(
                "{} aggregates across the matching connection (ignoring before/after/first/last/offset)",
                spec.label()
            ),
        )))
    }

    /// `PostsGroupBy`: every column that is not a key of its own, and the truncations of
    /// timestamps; false when there is none.
    fn group_by_enum(&mut self, ti: usize) -> Result<bool, BuildError> {
        let t = self.model.tables[ti].clone();
        let mut values = vec![];
        for (ci, c) in t.columns.iter().enumerate() {
            let unique = t
                .primary_key
                .iter()
                .chain(&t.unique_keys)
                .any(|k| k.as_slice() == [ci]);
            if c.omit.order || c.omit.read || unique {
                continue;
            }
            values.push(EnumValueDef {
                name: inflect::group_by_value(&c.inflect_name, None),
                description: None,
                meaning: EnumMeaning::GroupBy {
                    column: ci,
                    truncate: None,
                },
            });
            let base = self.aggregate_base(&c.codec).map(|(b, _)| b);
            if matches!(base.as_deref(), Some("timestamp" | "timestamptz")) {
                for &(suffix, unit) in TRUNCATIONS {
                    values.push(EnumValueDef {
                        name: inflect::group_by_value(&c.inflect_name, Some(suffix)),
                        description: None,
                        meaning: EnumMeaning::GroupBy {
                            column: ci,
                            truncate: Some(unit),
                        },
                    });
                }
            }
        }
        if values.is_empty() {
            return Ok(false);
        }
        self.insert(TypeDef::Enum(EnumDef {
            name: inflect::group_by_type(&t.inflect_name),
            description: Some(format!(
                "Grouping methods for `{}` for usage during aggregation.",
                t.type_name
            )),
            values,
        }))?;
        Ok(true)
    }

    /// `PostsHavingInput` with `AND`, `OR` and one input per aggregate.
    fn having_input(&mut self, ti: usize) -> Result<Option<String>, BuildError> {
        let t = self.model.tables[ti].clone();
        let name = inflect::having_input_type(&t.inflect_name);
        let list = TypeRef::named(name.clone()).non_null().list();
        let mut fields = vec![
            InputFieldDef {
                name: "AND".into(),
                description: None,
                ty: list.clone(),
                target: InputTarget::Nested,
            },
            InputFieldDef {
                name: "OR".into(),
                description: None,
                ty: list,
                target: InputTarget::Nested,
            },
        ];
        for spec in AggSpec::ALL {
            let mut spec_fields = vec![];
            for (ci, c) in t.columns.iter().enumerate().filter(|(_, c)| !c.omit.read) {
                // Not a sum of timestamps, nor a count compared with one, which the plugin
                // offers and Postgres refuses.
                let applies = self
                    .aggregate_base(&c.codec)
                    .is_some_and(|(_, category)| spec.having_applies(&category));
                let Some(filter) = self.having_filter_type(&c.codec).filter(|_| applies) else {
                    continue;
                };
                spec_fields.push(InputFieldDef {
                    name: c.field.clone(),
                    description: None,
                    ty: TypeRef::named(filter),
                    target: InputTarget::Column(ci),
                });
            }
            for fi in self.aggregate_functions(ti) {
                let f = self.model.functions[fi].clone();
                let applies = self
                    .aggregate_base(&f.returns)
                    .is_some_and(|(_, category)| spec.having_applies(&category));
                if !applies {
                    continue;
                }
                let Some(filter) = self.having_filter_type(&f.returns) else {
                    continue;
                };
                let mut inner = vec![];
                let args: Vec<InputFieldDef> = (1..f.args.len())
                    .map(|i| InputFieldDef {
                        name: f.args[i].field.clone(),
                        description: None,
                        ty: self.arg_type(&f, i, &f.args[i].codec),
                        target: InputTarget::FunctionArg(i),
                    })
                    .collect();
                if !args.is_empty() {
                    let args_name = inflect::having_computed_args_input_type(
                        &t.inflect_name,
                        spec.id(),
                        &f.name,
                    );
                    self.insert(TypeDef::Input(InputDef {
                        name: args_name.clone(),
                        description: None,
                        fields: args,
                    }))?;
                    inner.push(InputFieldDef {
                        name: "args".into(),
                        description: None,
                        ty: TypeRef::named(args_name),
                        target: InputTarget::Nested,
                    });
                }
                inner.push(InputFieldDef {
                    name: "filter".into(),
                    description: None,
                    ty: TypeRef::named(filter),
                    target: InputTarget::Nested,
                });
                let input_name =
                    inflect::having_computed_input_type(&t.inflect_name, spec.id(), &f.name);
                self.insert(TypeDef::Input(InputDef {
                    name: input_name.clone(),
                    description: None,
                    fields: inner,
                }))?;
                spec_fields.push(InputFieldDef {
                    name: inflect::computed_column(&f.name, &t.name),
                    description: None,
                    ty: TypeRef::named(input_name),
                    target: InputTarget::Computed(fi),
                });
            }
            if spec_fields.is_empty() {
                continue;
            }
            let spec_name = inflect::having_aggregate_input_type(&t.inflect_name, spec.id());
            self.insert(TypeDef::Input(InputDef {
                name: spec_name.clone(),
                description: None,
                fields: spec_fields,
            }))?;
            fields.push(InputFieldDef {
                name: inflect::aggregate_field(spec.id()),
                description: None,
                ty: TypeRef::named(spec_name),
                target: InputTarget::Nested,
            });
        }
        self.insert(TypeDef::Input(InputDef {
            name: name.clone(),
            description: Some(format!("Conditions for `{}` aggregates.", t.type_name)),
            fields,
        }))?;
        Ok(Some(name))
    }

    /// `HavingIntFilter` and its kin (once each), for values of `codec`; None when `having`
    /// cannot compare them.
    fn having_filter_type(&mut self, codec: &Codec) -> Option<String> {
        let (base, _) = self.aggregate_base(codec)?;
        let (kind, operand) = having_filter(&base)?;
        let name = inflect::having_filter_type(kind);
        if !self.model.types.contains_key(&name) {
            let operand = self.builtin_codec(operand)?;
            let ty = self.gql_input_type(&operand);
            let fields = HAVING_OPERATORS
                .iter()
                .map(|(op, _)| InputFieldDef {
                    name: (*op).into(),
                    description: None,
                    ty: ty.clone(),
                    target: InputTarget::Nested,
                })
                .collect();
            let _ = self.insert(TypeDef::Input(InputDef {
                name: name.clone(),
                description: None,
                fields,
            }));
        }
        Some(name)
    }

    /// The `orderBy` values of table `ti` over the rows referring to it by a foreign key that
    /// is not unique: their count, and each aggregate of each of their columns.
    pub(super) fn related_aggregate_orders(&mut self, ti: usize) -> Vec<EnumValueDef> {
        let mut values = vec![];
        for ri in 0..self.model.relations.len() {
            let r = self.model.relations[ri].clone();
            let rt = self.model.tables[r.table].clone();
            if r.foreign_table != ti
                || !rt.aggregates
                || rt.omit.read
                || self.model.relation_is_unique(ri)
            {
                continue;
            }
            let cols: Vec<&str> = r
                .columns
                .iter()
                .map(|&c| rt.columns[c].inflect_name.as_str())
                .collect();
            let relation = inflect::backward_relation(&rt.inflect_name, &cols, false);
            let mut push = |base: String, aggregate: Option<(AggSpec, usize)>, result: Codec| {
                for ascending in [true, false] {
                    values.push(EnumValueDef {
                        name: inflect::ascending_descending(&base, ascending),
                        description: None,
                        meaning: EnumMeaning::Related {
                            relation: ri,
                            aggregate,
                            ascending,
                            result: result.clone(),
                        },
                    });
                }
            };
            let Some(count) = self.builtin_codec("int8") else {
                continue;
            };
            push(inflect::order_by_related_count(&relation), None, count);
            for spec in AggSpec::ALL {
                // Every column Postgres can aggregate so (the plugin offers all of them).
                for (ci, c) in rt.columns.iter().enumerate().filter(|(_, c)| !c.omit.read) {
                    if let Some(result) = self.order_result(spec, &c.codec) {
                        push(
                            inflect::order_by_related_aggregate(
                                &relation,
                                spec.id(),
                                &c.inflect_name,
                            ),
                            Some((spec, ci)),
                            result,
                        );
                    }
                }
            }
        }
        values
    }
}
