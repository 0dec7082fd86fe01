//! Postgres type → codec (how a value crosses into JSON) and its GraphQL type.

use super::*;
use crate::schema::geometry::{GeoPart, Geometry, IS_OPEN_DESCRIPTION};

impl<'a> Builder<'a> {
    /// The codec for a Postgres type, or None when the type cannot be exposed.
    pub(super) fn codec(&mut self, oid: u32) -> Option<Codec> {
        let cat = self.catalog;
        let t = cat.type_(oid)?;
        let sql_type = qualified(&t.schema, &t.name);
        if let Some(elem) = t.elem_oid.filter(|_| t.category == "A") {
            let element = self.codec(elem)?;
            return Some(Codec::Array {
                sql_type,
                element: Box::new(element),
            });
        }
        match t.kind.as_str() {
            "d" => {
                // A domain behaves as its base type; casts go to the domain so its checks run.
                let base = self.codec(t.base_oid?)?;
                Some(match base {
                    Codec::Native { .. } => Codec::Native { sql_type },
                    Codec::Float { .. } => Codec::Float { sql_type },
                    Codec::Interval { .. } => Codec::Interval { sql_type },
                    Codec::Point { .. } => Codec::Point { sql_type },
                    Codec::Geometry { kind, .. } => Codec::Geometry { sql_type, kind },
                    Codec::Text { .. } => Codec::Text { sql_type },
                    Codec::Json { .. } => Codec::Json { sql_type },
                    // Over a composite type: the domain's own object type (v4).
                    Codec::Row { table, .. } => Codec::Row {
                        table: self.domain_table.get(&oid).copied().unwrap_or(table),
                        sql_type,
                    },
                    other => other,
                })
            }
            "e" => Some(Codec::Enum {
                sql_type,
                labels: t
                    .enum_values
                    .iter()
                    .map(|l| (l.clone(), inflect::enum_value(l)))
                    .collect(),
                enum_table: None,
            }),
            "c" => {
                let table = *self.class_table.get(&t.class_oid?)?;
                if self.is_jwt(t) {
                    self.used_scalars.insert("JwtToken");
                    self.jwt_table = Some(table);
                    Some(Codec::Jwt { sql_type, table })
                } else {
                    Some(Codec::Row { sql_type, table })
                }
            }
            _ if t.schema == "pg_catalog" && self.opts.flags.pg_geometric_types => {
                match Geometry::of_pg(&t.name) {
                    // A table may hold the name already (`boxes` → `Box`): v4 refuses to start
                    // then; here the type stays a string.
                    Some(kind) if self.geometry_names_free(kind) => {
                        Some(Codec::Geometry { sql_type, kind })
                    }
                    _ => self.scalar_codec(t, sql_type),
                }
            }
            _ => self.scalar_codec(t, sql_type),
        }
    }

    /// The codec of a base type (not an array, domain, enum or composite). Only types whose
    /// `to_json` is the GraphQL value are native (numbers, booleans, strings, ISO dates and
    /// times); every other type goes out as its text form, so a `String` field always holds a
    /// string (int8 and numeric keep their precision, JSON is a JSON-encoded string as in
    /// PostGraphile v4).
    fn scalar_codec(&self, t: &PgType, sql_type: String) -> Option<Codec> {
        {
            Some(match t.name.as_str() {
                // money is a Float in v4 (sent as its numeric value).
                "float4" | "float8" | "money" if t.schema == "pg_catalog" => {
                    Codec::Float { sql_type }
                }
                "interval" if t.schema == "pg_catalog" => Codec::Interval { sql_type },
                // Only `point` is an object in v4 by default; the other geometric types
                // (line, lseg, box, path, polygon, circle) are strings unless its
                // `pgGeometricTypes` (`--pg-geometric-types`) makes them objects too.
                "point" if t.schema == "pg_catalog" => Codec::Point { sql_type },
                name if t.schema == "pg_catalog" && NATIVE_JSON.contains(&name) => {
                    Codec::Native { sql_type }
                }
                "json" | "jsonb" if t.schema == "pg_catalog" && self.opts.flags.dynamic_json => {
                    Codec::Json { sql_type }
                }
                // hstore is v4's `KeyValueHash`: a JSON object out (its cast to json), the
                // same in (see `plan::arguments::coerce`).
                "hstore" if t.kind == "b" => Codec::Json { sql_type },
                _ => Codec::Text { sql_type },
            })
        }
    }

    /// The GraphQL type of a codec (never wrapped in NonNull).
    pub(super) fn gql_type(&mut self, codec: &Codec) -> TypeRef {
        match codec {
            Codec::Array { element, .. } => self.gql_type(element).list(),
            Codec::Row { table, .. } => TypeRef::named(self.model.tables[*table].type_name.clone()),
            Codec::Jwt { .. } => TypeRef::named("JwtToken"),
            Codec::Enum {
                sql_type,
                labels,
                enum_table,
            } => {
                let cat = self.catalog;
                let t = self.types_by_name.get(sql_type.as_str()).copied();
                let et = enum_table.and_then(|i| cat.enum_tables.get(i));
                let class = et.and_then(|et| cat.class(et.class_oid));
                let comment = match class {
                    Some(c) => c.comment.as_deref(),
                    None => t.and_then(|t| t.comment.as_deref()),
                };
                let tags = tags::parse(comment);
                let name = match (class, et) {
                    (Some(c), Some(et)) => {
                        // v4 merges the constraint's tags over the table's.
                        let con_tags = tags::parse(et.constraint_comment.as_deref());
                        let tag = |key: &str| con_tags.value(key).or(tags.value(key));
                        match tag("enumName") {
                            Some(n) => n.to_string(),
                            None => inflect::enum_table(
                                tag("name").unwrap_or(&c.name),
                                et.constraint.as_deref(),
                            ),
                        }
                    }
                    _ => inflect::pg_type(
                        tags.value("name")
                            .or(t.map(|t| t.name.as_str()))
                            .unwrap_or("Enum"),
                    ),
                };
                let sql_type = match class {
                    Some(c) => qualified(&c.schema, &c.name),
                    None => sql_type.clone(),
                };
                // An enum table's rows may describe their values (its `description` column).
                let described = |label: &str| -> Option<String> {
                    et?.values
                        .iter()
                        .find(|v| v.value == label)?
                        .description
                        .clone()
                };
                if !inflect::is_valid_name(&name) {
                    tracing::warn!("enum {sql_type} is exposed as String: `{name}` is not a valid GraphQL name");
                    return TypeRef::named("String");
                }
                let mut seen = BTreeSet::new();
                if let Some((label, _)) = labels
                    .iter()
                    .find(|(_, v)| !inflect::is_valid_name(v) || !seen.insert(v.as_str()))
                {
                    tracing::warn!("enum {sql_type} is exposed as String: its value `{label}` has no GraphQL name of its own");
                    return TypeRef::named("String");
                }
                if self.model.types.contains_key(&name) && self.model.enum_(&name).is_none()
                    || self.claimed.contains_key(&name)
                {
                    tracing::warn!(
                        "enum {sql_type} is exposed as String: its GraphQL name `{name}` is taken by {}",
                        self.claimed.get(&name).map_or("another type", String::as_str)
                    );
                    return TypeRef::named("String");
                }
                if !self.model.types.contains_key(&name) {
                    let values = labels
                        .iter()
                        .map(|(l, v)| EnumValueDef {
                            name: v.clone(),
                            description: described(l),
                            meaning: EnumMeaning::Label(l.clone()),
                        })
                        .collect();
                    let description = tags.description.clone();
                    self.model.types.insert(
                        name.clone(),
                        TypeDef::Enum(EnumDef {
                            name: name.clone(),
                            description,
                            values,
                        }),
                    );
                }
                TypeRef::named(name)
            }
            Codec::Interval { .. } => {
                self.interval_types();
                TypeRef::named(INTERVAL)
            }
            Codec::Point { .. } => {
                self.point_types();
                TypeRef::named(POINT)
            }
            Codec::Geometry { kind, .. } => {
                self.geometry_types(*kind);
                TypeRef::named(kind.names().0)
            }
            Codec::Native { sql_type }
            | Codec::Float { sql_type }
            | Codec::Text { sql_type }
            | Codec::Json { sql_type } => match self.domain_scalar(sql_type) {
                Some(name) => TypeRef::named(name),
                None => TypeRef::named(self.scalar_name(sql_type)),
            },
        }
    }

    /// A domain over a scalar is a scalar of its own, named after it (v4: `create domain
    /// year as int` → `Year`); None for other types, or when its name is not free.
    fn domain_scalar(&mut self, sql_type: &str) -> Option<String> {
        let t = self
            .types_by_name
            .get(sql_type)
            .copied()
            .filter(|t| t.kind == "d")?;
        let tags = tags::parse(t.comment.as_deref());
        let name = inflect::pg_type(tags.value("name").unwrap_or(&t.name));
        let taken = match self.model.types.get(&name) {
            Some(TypeDef::Scalar(_)) => false,
            Some(_) => true,
            None => self.claimed.contains_key(&name) || SCALARS.iter().any(|(n, _)| *n == name),
        };
        if !inflect::is_valid_name(&name) || taken {
            tracing::warn!(
                "domain {sql_type} is exposed as its base type: the scalar name `{name}` is taken or not valid"
            );
            return None;
        }
        if !self.model.types.contains_key(&name) {
            self.model.types.insert(
                name.clone(),
                TypeDef::Scalar(ScalarDef {
                    name: name.clone(),
                    description: tags.description.clone(),
                }),
            );
        }
        Some(name)
    }

    pub(super) fn scalar_name(&mut self, sql_type: &str) -> &'static str {
        // Domains resolve to their base type's scalar.
        let mut t = self.types_by_name.get(sql_type).copied();
        while let Some(d) = t.filter(|t| t.kind == "d") {
            t = d.base_oid.and_then(|o| self.catalog.type_(o));
        }
        let name = t.map(|t| t.name.as_str()).unwrap_or("text");
        let scalar = match name {
            "int2" | "int4" => "Int",
            "int8" => "BigInt",
            "float4" | "float8" => "Float",
            "numeric" => "BigFloat",
            "bool" => "Boolean",
            "uuid" => "UUID",
            "json" | "jsonb" => "JSON",
            "timestamptz" | "timestamp" => "Datetime",
            "date" => "Date",
            "time" | "timetz" => "Time",
            "inet" => "InternetAddress",
            "bit" | "varbit" => "BitString",
            "hstore" => "KeyValueHash",
            "money" => "Float",
            "cidr" if self.opts.flags.custom_network_scalars => "CidrAddress",
            "macaddr" if self.opts.flags.custom_network_scalars => "MacAddress",
            "macaddr8" if self.opts.flags.custom_network_scalars => "MacAddress8",
            _ => "String",
        };
        if SCALARS.iter().any(|(n, _)| *n == scalar) {
            self.used_scalars.insert(scalar);
        }
        scalar
    }

    /// v4's `Interval` and `IntervalInput`, once.
    pub(super) fn interval_types(&mut self) {
        if self.model.types.contains_key(INTERVAL) {
            return;
        }
        let description =
            "An interval of time that has passed where the smallest distinct unit is a second.";
        let parts: Vec<(&str, &str, &str)> = INTERVAL_PARTS
            .iter()
            .map(|&(name, _)| {
                let ty = if name == "seconds" { "Float" } else { "Int" };
                let about = if name == "seconds" {
                    "A quantity of seconds. This is the only non-integer field, as all the other fields will dump their overflow into a smaller unit of time. Intervals don’t have a smaller unit than seconds."
                } else {
                    ""
                };
                (name, ty, about)
            })
            .collect();
        let fields = parts
            .iter()
            .map(|&(name, ty, about)| {
                let about = if about.is_empty() {
                    format!("A quantity of {name}.")
                } else {
                    about.to_string()
                };
                field(name, TypeRef::named(ty), FieldKind::IntervalPart, &about)
            })
            .collect();
        let input_fields = parts
            .iter()
            .map(|&(name, ty, _)| InputFieldDef {
                name: name.into(),
                description: Some(format!("A quantity of {name}.")),
                ty: TypeRef::named(ty),
                target: InputTarget::Nested,
            })
            .collect();
        let _ = self.insert(TypeDef::Object(ObjectDef {
            name: INTERVAL.into(),
            description: Some(description.into()),
            fields,
            interfaces: vec![],
        }));
        let _ = self.insert(TypeDef::Input(InputDef {
            name: INTERVAL_INPUT.into(),
            description: Some(description.into()),
            fields: input_fields,
        }));
    }

    /// v4's `Point` and `PointInput` (two non-null floats, no descriptions), once.
    pub(super) fn point_types(&mut self) {
        if self.model.types.contains_key(POINT) {
            return;
        }
        let float = || TypeRef::named("Float").non_null();
        let fields = POINT_PARTS
            .iter()
            .map(|&(name, _)| field(name, float(), FieldKind::PointPart, ""))
            .collect();
        let input_fields = POINT_PARTS
            .iter()
            .map(|&(name, _)| InputFieldDef {
                name: name.into(),
                description: None,
                ty: float(),
                target: InputTarget::Nested,
            })
            .collect();
        let _ = self.insert(TypeDef::Object(ObjectDef {
            name: POINT.into(),
            description: None,
            fields,
            interfaces: vec![],
        }));
        let _ = self.insert(TypeDef::Input(InputDef {
            name: POINT_INPUT.into(),
            description: None,
            fields: input_fields,
        }));
    }

    /// Whether a geometric type's object and input names are free (or already its own).
    fn geometry_names_free(&self, kind: Geometry) -> bool {
        let (name, input) = kind.names();
        let first = kind.fields()[0].0;
        // Free, or already this geometry's (its first field is the geometry's).
        let ours = |def: &TypeDef| match def {
            TypeDef::Object(o) => o
                .fields
                .first()
                .is_some_and(|f| f.name == first && matches!(f.kind, FieldKind::PointPart)),
            TypeDef::Input(i) => i.fields.first().is_some_and(|f| f.name == first),
            _ => false,
        };
        let free = [name, input]
            .iter()
            .all(|n| !self.claimed.contains_key(*n) && self.model.types.get(*n).is_none_or(ours));
        if !free {
            tracing::warn!("{name} is exposed as String: its GraphQL name is taken by a table");
        }
        free
    }

    /// v4's object and input for a geometric type (and `Point`, which they are made of), once.
    fn geometry_types(&mut self, kind: Geometry) {
        let (name, input) = kind.names();
        if self.model.types.contains_key(name) {
            return;
        }
        self.point_types();
        let ty = |part: GeoPart, point: &str| match part {
            GeoPart::Point(_) => TypeRef::named(point),
            GeoPart::Points => TypeRef::named(point).list(),
            GeoPart::IsOpen => TypeRef::named("Boolean"),
            GeoPart::Radius => TypeRef::named("Float"),
        };
        let about = |part: GeoPart| match part {
            GeoPart::IsOpen => IS_OPEN_DESCRIPTION,
            _ => "",
        };
        let fields = kind
            .fields()
            .iter()
            .map(|&(f, part)| field(f, ty(part, POINT), FieldKind::PointPart, about(part)))
            .collect();
        let input_fields = kind
            .fields()
            .iter()
            .map(|&(f, part)| InputFieldDef {
                name: f.into(),
                description: Some(about(part)).filter(|d| !d.is_empty()).map(Into::into),
                ty: ty(part, POINT_INPUT),
                target: InputTarget::Nested,
            })
            .collect();
        let description = kind.description().map(String::from);
        let _ = self.insert(TypeDef::Object(ObjectDef {
            name: name.into(),
            description: description.clone(),
            fields,
            interfaces: vec![],
        }));
        let _ = self.insert(TypeDef::Input(InputDef {
            name: input.into(),
            description,
            fields: input_fields,
        }));
    }

    /// The GraphQL input type of a codec: a composite type gets an input object of its
    /// attributes (`pair` → `PairInput`, as in v4), a table's row is the table's `XInput`, and
    /// every other type is its output type.
    pub(super) fn gql_input_type(&mut self, codec: &Codec) -> TypeRef {
        match codec {
            Codec::Interval { .. } => {
                self.interval_types();
                TypeRef::named(INTERVAL_INPUT)
            }
            Codec::Point { .. } => {
                self.point_types();
                TypeRef::named(POINT_INPUT)
            }
            Codec::Geometry { kind, .. } => {
                self.geometry_types(*kind);
                TypeRef::named(kind.names().1)
            }
            Codec::Array { element, .. } => self.gql_input_type(element).list(),
            Codec::Row { table, .. } | Codec::Jwt { table, .. } => {
                let t = self.model.tables[*table].clone();
                let name = match t.kind {
                    DOMAIN_KIND => inflect::domain_input_type(&t.type_name),
                    _ => inflect::input_type(&t.inflect_name),
                };
                if t.is_composite() && !self.model.types.contains_key(&name) {
                    let mut fields = vec![];
                    for (ci, c) in t.columns.iter().enumerate() {
                        fields.push(InputFieldDef {
                            name: c.field.clone(),
                            description: self.column_comment(&t, &c.name),
                            ty: self.gql_input_type(&c.codec),
                            target: InputTarget::Column(ci),
                        });
                    }
                    let _ = self.insert(TypeDef::Input(InputDef {
                        name: name.clone(),
                        description: Some(format!("An input for a `{}` value.", t.type_name)),
                        fields,
                    }));
                }
                TypeRef::named(name)
            }
            other => self.gql_type(other),
        }
    }
}
