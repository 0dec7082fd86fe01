//! The `filter:` argument's input types, as connection-filter v2 builds them: a table's
//! `<Type>Filter` (its columns, computed columns and composite attributes, then `and`, `or`,
//! `not`), and per field type an operator type (`IntFilter`, `StringListFilter`, ...).

use super::*;
use crate::schema::filter::{operators, scalar_ops, Category, FilterField, OpValue};

mod aggregates;

/// Postgres types whose `String` is really a string (others mapped to `String` get no
/// operators, as in the plugin).
const STRING_TYPES: &[&str] = &["bpchar", "char", "name", "text", "varchar", "citext"];

impl<'a> Builder<'a> {
    /// The `filter` argument of a collection of table `ti`'s rows, unless filtering is off,
    /// the table is `@omit filter` or it has nothing to filter by.
    pub(super) fn filter_arg(&mut self, ti: usize) -> Option<ArgDef> {
        if self.opts.flags.filter.no_connection_filter || self.model.tables[ti].omit.filter {
            return None;
        }
        let name = self.table_filter(ti)?;
        Some(filter_arg(name))
    }

    /// The `filter` argument of a function's collection: over its rows' table, or (a set of
    /// scalars) over the value itself; none for an `@omit filter` function.
    pub(super) fn function_filter_arg(&mut self, f: &Function) -> Option<ArgDef> {
        if self.opts.flags.filter.no_connection_filter {
            return None;
        }
        let omitted = self
            .catalog
            .proc(f.oid)
            .is_some_and(|p| tags::parse(p.comment.as_deref()).omit().filter);
        if omitted {
            return None;
        }
        match &f.returns {
            Codec::Row { table, .. } if !self.model.tables[*table].is_composite() => {
                self.filter_arg(*table)
            }
            Codec::Row { .. } | Codec::Jwt { .. } => None,
            other => self.operator_type(other).map(filter_arg),
        }
    }

    /// `<Type>Filter` of a table or composite type, built once; None when it would be empty.
    pub(super) fn table_filter(&mut self, ti: usize) -> Option<String> {
        let t = self.model.tables[ti].clone();
        let name = inflect::filter_type(&t.type_name);
        if self.model.input(&name).is_some() {
            return Some(name);
        }
        let described = |field: &str, ty: String, target: FilterField| InputFieldDef {
            name: field.to_string(),
            description: Some(format!("Filter by the object’s `{field}` field.")),
            ty: TypeRef::named(ty),
            target: InputTarget::Filter(target),
        };
        let mut fields = vec![];
        let usable = |c: &Column| !c.omit.filter && !c.omit.read && c.readable;
        for (ci, c) in t.columns.iter().enumerate().filter(|(_, c)| usable(c)) {
            if matches!(c.codec, Codec::Row { .. }) {
                continue;
            }
            if let Some(ty) = self.operator_type(&c.codec) {
                fields.push(described(&c.field, ty, FilterField::Column(ci)));
            }
        }
        if !t.is_composite() {
            for fi in 0..self.model.functions.len() {
                let f = self.model.functions[fi].clone();
                if self.computed_column_of(&f) != Some(ti) || !self.filterable_computed(&f) {
                    continue;
                }
                if let Some(ty) = self.operator_type(&f.returns) {
                    let field = inflect::computed_column(&f.name, &t.name);
                    fields.push(described(&field, ty, FilterField::Computed(fi)));
                }
            }
        }
        // Attributes of a composite type (not a table's row type): its own filter, nested.
        for (ci, c) in t.columns.iter().enumerate().filter(|(_, c)| usable(c)) {
            if let Codec::Row { table, .. } = c.codec {
                if self.model.tables[table].is_composite() {
                    if let Some(ty) = self.table_filter(table) {
                        fields.push(described(&c.field, ty, FilterField::Column(ci)));
                    }
                }
            }
        }
        if fields.is_empty() {
            return None;
        }
        let logical = [
            (
                "and",
                "Checks for all expressions in this list.",
                TypeRef::named(name.clone()).non_null().list(),
                FilterField::And,
            ),
            (
                "or",
                "Checks for any expressions in this list.",
                TypeRef::named(name.clone()).non_null().list(),
                FilterField::Or,
            ),
            (
                "not",
                "Negates the expression.",
                TypeRef::named(name.clone()),
                FilterField::Not,
            ),
        ];
        fields.extend(logical.into_iter().map(|(n, d, ty, target)| InputFieldDef {
            name: n.into(),
            description: Some(d.into()),
            ty,
            target: InputTarget::Filter(target),
        }));
        let _ = self.insert(TypeDef::Input(InputDef {
            name: name.clone(),
            description: Some(format!(
                "A filter to be used against `{}` object types. All fields are combined with a logical ‘and.’",
                t.type_name
            )),
            fields,
        }));
        // Relations come after the type exists, so filters of tables that refer to each
        // other find each other; they go before `and`/`or`/`not`, as in the plugin.
        if self.opts.flags.filter.relations && !t.is_composite() {
            let relations = self.relation_filter_fields(ti);
            if let Some(TypeDef::Input(def)) = self.model.types.get_mut(&name) {
                let at = def.fields.len() - 3;
                def.fields.splice(at..at, relations);
            }
        }
        Some(name)
    }

    /// The relation fields of table `ti`'s filter: backward relations (one row, or
    /// `every`/`some`/`none` of many) and their `…Exist(s)`, then forward relations and, when
    /// the key may be null, `…Exists`.
    fn relation_filter_fields(&mut self, ti: usize) -> Vec<InputFieldDef> {
        let t = self.model.tables[ti].clone();
        let mut fields = vec![];
        let mut push = |name: String, description: String, ty: TypeRef, target| {
            fields.push(InputFieldDef {
                name,
                description: Some(description),
                ty,
                target: InputTarget::Filter(target),
            })
        };
        let relation_ok = |b: &Self, other: usize, cols: &[usize], own: &[usize]| {
            let o = &b.model.tables[other];
            !o.omit.read
                && !o.omit.filter
                && cols.iter().all(|&c| !o.columns[c].omit.read)
                && own.iter().all(|&c| !t.columns[c].omit.read)
        };
        for ri in 0..self.model.relations.len() {
            let r = self.model.relations[ri].clone();
            if r.foreign_table != ti || !relation_ok(self, r.table, &r.columns, &r.foreign_columns)
            {
                continue;
            }
            let rt = self.model.tables[r.table].clone();
            let Some(other) = self.table_filter(r.table) else {
                continue;
            };
            if self.model.relation_is_unique(ri) {
                let field = self.model.backward_single_name(ri);
                push(
                    field.clone(),
                    format!("Filter by the object’s `{field}` relation."),
                    TypeRef::named(other),
                    FilterField::BackwardOne(ri),
                );
                push(
                    inflect::filter_exists_field(&field, false),
                    format!("A related `{field}` exists."),
                    TypeRef::named("Boolean"),
                    FilterField::BackwardExists(ri),
                );
            } else if !rt.omit.many {
                let cols: Vec<&str> = r
                    .columns
                    .iter()
                    .map(|&c| rt.columns[c].inflect_name.as_str())
                    .collect();
                let field = if self.opts.flags.simple_collections == SimpleCollections::Only {
                    inflect::backward_relation_list(&rt.inflect_name, &cols)
                } else {
                    inflect::backward_relation(&rt.inflect_name, &cols, false)
                };
                let many = self.many_filter(ti, r.table, other);
                push(
                    field.clone(),
                    format!("Filter by the object’s `{field}` relation."),
                    TypeRef::named(many),
                    FilterField::BackwardMany(ri),
                );
                push(
                    inflect::filter_exists_field(&field, true),
                    format!("Some related `{field}` exist."),
                    TypeRef::named("Boolean"),
                    FilterField::BackwardExists(ri),
                );
            }
        }
        for ri in 0..self.model.relations.len() {
            let r = self.model.relations[ri].clone();
            if r.table != ti || !relation_ok(self, r.foreign_table, &r.foreign_columns, &r.columns)
            {
                continue;
            }
            let Some(other) = self.table_filter(r.foreign_table) else {
                continue;
            };
            let ft = &self.model.tables[r.foreign_table];
            let cols: Vec<&str> = r
                .columns
                .iter()
                .map(|&c| t.columns[c].inflect_name.as_str())
                .collect();
            let field = inflect::forward_relation(&ft.inflect_name, &cols);
            push(
                field.clone(),
                format!("Filter by the object’s `{field}` relation."),
                TypeRef::named(other),
                FilterField::Forward(ri),
            );
            if r.columns.iter().any(|&c| !t.columns[c].not_null) {
                push(
                    inflect::filter_exists_field(&field, false),
                    format!("A related `{field}` exists."),
                    TypeRef::named("Boolean"),
                    FilterField::ForwardExists(ri),
                );
            }
        }
        fields
    }

    /// `<Table>ToMany<Foreign>Filter`: `every`, `some` and `none` over the foreign filter.
    fn many_filter(&mut self, ti: usize, foreign: usize, foreign_filter: String) -> String {
        let t = &self.model.tables[ti];
        let ft = &self.model.tables[foreign];
        let name = inflect::filter_many_type(&t.type_name, &ft.type_name);
        let ft_name = ft.type_name.clone();
        if self.model.input(&name).is_none() {
            let fields = [
                ("every", "Every", FilterField::Every),
                ("some", "Some", FilterField::Some),
                ("none", "No", FilterField::None),
            ]
            .into_iter()
            .map(|(n, lead, target)| InputFieldDef {
                name: n.into(),
                description: Some(format!(
                    "{lead} related `{ft_name}` matches the filter criteria. All fields are combined with a logical ‘and.’"
                )),
                ty: TypeRef::named(foreign_filter.clone()),
                target: InputTarget::Filter(target),
            })
            .chain(self.aggregates_filter_field(foreign, &foreign_filter))
            .collect();
            let _ = self.insert(TypeDef::Input(InputDef {
                name: name.clone(),
                description: Some(format!(
                    "A filter to be used against many `{ft_name}` object types. All fields are combined with a logical ‘and.’"
                )),
                fields,
            }));
        }
        name
    }

    /// A computed column the filter offers: not `@omit filter`, no required argument beyond
    /// the row, returning one scalar or array (not a set, a row or nothing).
    fn filterable_computed(&self, f: &Function) -> bool {
        let omitted = self
            .catalog
            .proc(f.oid)
            .is_some_and(|p| tags::parse(p.comment.as_deref()).omit().filter);
        let required = f.args.len() - f.num_defaults.min(f.args.len());
        let void = f.returns.sql_type() == "\"pg_catalog\".\"void\"";
        !omitted
            && required <= 1
            && !f.returns_set
            && !void
            && !matches!(f.returns, Codec::Row { .. } | Codec::Jwt { .. })
    }

    /// The operator type of a field of this codec (`IntFilter`, `StringListFilter`), built
    /// once; None when the plugin offers no operators for it.
    pub(super) fn operator_type(&mut self, codec: &Codec) -> Option<String> {
        let (category, element) = match codec {
            Codec::Array { element, .. } => {
                self.scalar_category(element)?;
                (Category::Array, Some(element.as_ref()))
            }
            other => (self.scalar_category(other)?, None),
        };
        let input = self.gql_input_type(codec);
        let named = self.gql_type(codec).innermost().to_string();
        let name = match category {
            Category::Array => inflect::filter_list_type(&named),
            _ => inflect::filter_type(&named),
        };
        if self.model.input(&name).is_some() {
            return Some(name);
        }
        let item = element.map(|e| self.gql_input_type(e));
        let string = || TypeRef::named("String");
        let fields = operators(category)
            .into_iter()
            .map(|o| {
                let ty = match o.op.value {
                    OpValue::Same | OpValue::Pattern(_) => input.clone(),
                    OpValue::List => input.clone().non_null().list(),
                    OpValue::Bool => TypeRef::named("Boolean"),
                    OpValue::Key => string(),
                    OpValue::Keys => string().non_null().list(),
                    OpValue::Element => item.clone().unwrap_or_else(|| input.clone()),
                };
                InputFieldDef {
                    name: o.name.into(),
                    description: Some(o.description.into()),
                    ty,
                    target: InputTarget::Filter(FilterField::Operator(o.op)),
                }
            })
            .collect();
        let list = if category == Category::Array {
            " List"
        } else {
            ""
        };
        let _ = self.insert(TypeDef::Input(InputDef {
            name: name.clone(),
            description: Some(format!(
                "A filter to be used against {named}{list} fields. All fields are combined with a logical ‘and.’"
            )),
            fields,
        }));
        Some(name)
    }

    /// The operator category of a non-array codec, None when not filterable (json, xml,
    /// geometric types, types v4 sends as strings that are not text, composites).
    fn scalar_category(&mut self, codec: &Codec) -> Option<Category> {
        match codec {
            Codec::Enum { .. } => {
                let named = self.gql_type(codec);
                (named.innermost() != "String").then_some(Category::Enum)
            }
            Codec::Interval { .. } => Some(Category::Scalar(scalar_ops("Interval")?)),
            Codec::Native { sql_type }
            | Codec::Float { sql_type }
            | Codec::Text { sql_type }
            | Codec::Json { sql_type } => {
                let base = self.base_type_name(sql_type)?;
                if base == "json" {
                    return None;
                }
                let scalar = self.scalar_name(sql_type);
                if scalar == "String" && !STRING_TYPES.contains(&base.as_str()) {
                    return None;
                }
                Some(Category::Scalar(scalar_ops(scalar)?))
            }
            _ => None,
        }
    }

    /// The name of the type under any domains.
    fn base_type_name(&self, sql_type: &str) -> Option<String> {
        let mut t = self.types_by_name.get(sql_type).copied()?;
        while t.kind == "d" {
            t = self.catalog.type_(t.base_oid?)?;
        }
        (t.kind == "b" || t.kind == "e").then(|| t.name.clone())
    }
}

fn filter_arg(type_name: String) -> ArgDef {
    ArgDef {
        name: "filter".into(),
        description: Some(
            "A filter to be used in determining which values should be returned by the collection."
                .into(),
        ),
        ty: TypeRef::named(type_name),
        default: None,
    }
}
