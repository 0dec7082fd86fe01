//! Aggregates of a connection (`aggregates`, `groupedAggregates(groupBy:, having:)`) and the
//! `orderBy` values over related rows' aggregates, as `@graphile/pg-aggregates` 0.1 has them.

use super::*;
use crate::schema::aggregates::{AggSpec, HAVING_OPERATORS};
use crate::schema::inflect;

/// The selection on an aggregates object (`PostAggregates`).
#[derive(Debug, Clone, Default)]
pub struct AggSel {
    pub fields: Vec<(String, AggField)>,
}

#[derive(Debug, Clone)]
pub enum AggField {
    Typename(String),
    /// The group's keys as text (null outside a group).
    Keys,
    /// `sum { ... }`: the aggregate of each selected column.
    Spec(Vec<(String, AggValue)>),
}

#[derive(Debug, Clone)]
pub enum AggValue {
    Typename(String),
    Value {
        spec: AggSpec,
        target: AggTarget,
        out: Codec,
    },
}

/// What an aggregate reads from each row.
#[derive(Debug, Clone)]
pub enum AggTarget {
    Column {
        column: String,
        sql_type: String,
    },
    /// A computed column: `function(row, args...)`.
    Computed {
        function: TableRef,
        args: Vec<Param>,
    },
}

impl AggTarget {
    fn column(c: &crate::schema::Column) -> Self {
        AggTarget::Column {
            column: c.name.clone(),
            sql_type: c.codec.sql_type().to_string(),
        }
    }
}

/// `groupedAggregates`: the groups (in the order of their keys), filtered by `having`.
#[derive(Debug, Clone)]
pub struct Grouped {
    pub keys: Vec<GroupKey>,
    pub having: Option<Having>,
    pub sel: AggSel,
    /// `--max-groups`: more groups than this make the field an error (`TOO_MANY_GROUPS`).
    pub cap: Option<i64>,
}

/// A `groupBy` value: a column, maybe truncated by `date_trunc` to `truncate`.
#[derive(Debug, Clone)]
pub struct GroupKey {
    pub column: String,
    /// The column's type (types without `=` are grouped by a comparable cast).
    pub sql_type: String,
    pub truncate: Option<&'static str>,
}

/// A `having` condition.
// Plans are built once per query text and cached; the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Having {
    All(Vec<Having>),
    Any(Vec<Having>),
    Compare {
        spec: AggSpec,
        target: AggTarget,
        op: &'static str,
        value: Param,
    },
}

/// An order over the rows referring to the connection's row (`POSTS_BY_AUTHOR_ID_COUNT_ASC`):
/// their count, or an aggregate of one of their columns.
#[derive(Debug, Clone)]
pub struct RelatedOrder {
    pub table: TableRef,
    /// (referring column, referred column) pairs.
    pub join: Vec<(String, String)>,
    pub aggregate: Option<(AggSpec, String)>,
}

impl<'m> Planner<'m> {
    /// `aggregates` on a connection over `table`.
    pub(super) fn aggregates(&self, node: &FieldNode, table: usize) -> Result<AggSel> {
        let t = self.table(table);
        let container = inflect::aggregate_container_type(&t.inflect_name);
        let obj = self.model.object(&container).expect("aggregates type");
        let mut fields = vec![];
        for child in &self.fields_for(&node.selection, &container) {
            let f = match child.name.as_str() {
                "__typename" => AggField::Typename(container.clone()),
                name => match obj.field(name).map(|f| &f.kind) {
                    Some(FieldKind::AggregateKeys) => AggField::Keys,
                    Some(FieldKind::Aggregate { spec, .. }) => {
                        AggField::Spec(self.aggregate_values(child, table, *spec)?)
                    }
                    _ => return err(child, format!("unknown field {name} on {container}")),
                },
            };
            fields.push((child.key.clone(), f));
        }
        Ok(AggSel { fields })
    }

    fn aggregate_values(
        &self,
        node: &FieldNode,
        table: usize,
        spec: AggSpec,
    ) -> Result<Vec<(String, AggValue)>> {
        let t = self.table(table);
        let name = inflect::aggregate_type(&t.inflect_name, spec.id());
        let obj = self.model.object(&name).expect("aggregate type");
        let mut values = vec![];
        for child in &self.fields_for(&node.selection, &name) {
            let v = match obj.field(&child.name).map(|f| &f.kind) {
                _ if child.name == "__typename" => AggValue::Typename(name.clone()),
                Some(FieldKind::AggregateColumn { column, result, .. }) => AggValue::Value {
                    spec,
                    target: AggTarget::column(&t.columns[*column]),
                    out: result.clone(),
                },
                Some(FieldKind::AggregateComputed {
                    function, result, ..
                }) => AggValue::Value {
                    spec,
                    target: self.computed_target(child, *function, |n| child.arg(n))?,
                    out: result.clone(),
                },
                _ => return err(child, format!("unknown field {} on {name}", child.name)),
            };
            values.push((child.key.clone(), v));
        }
        Ok(values)
    }

    fn computed_target<'n>(
        &self,
        node: &FieldNode,
        function: usize,
        get: impl Fn(&str) -> Option<&'n Value>,
    ) -> Result<AggTarget> {
        let f = &self.model.functions[function];
        Ok(AggTarget::Computed {
            function: TableRef {
                schema: f.schema.clone(),
                name: f.name.clone(),
            },
            args: self.function_args(node, function, 1, get)?,
        })
    }

    /// `groupedAggregates(groupBy:, having:)` on a connection over `table`.
    pub(super) fn grouped_aggregates(&self, node: &FieldNode, table: usize) -> Result<Grouped> {
        let t = self.table(table);
        let enum_name = inflect::group_by_type(&t.inflect_name);
        let e = self.model.enum_(&enum_name).expect("group by enum");
        let values: Vec<&str> = match node.arg("groupBy").map(Value::resolved) {
            Some(Value::List(items)) => items.iter().filter_map(super::enum_name).collect(),
            Some(v) => super::enum_name(v).into_iter().collect(),
            None => vec![],
        };
        let mut keys = vec![];
        for v in values {
            match e.values.iter().find(|d| d.name == v).map(|d| &d.meaning) {
                Some(EnumMeaning::GroupBy { column, truncate }) => keys.push(GroupKey {
                    column: t.columns[*column].name.clone(),
                    sql_type: t.columns[*column].codec.sql_type().to_string(),
                    truncate: *truncate,
                }),
                _ => {
                    return err(
                        node,
                        format!("Value \"{v}\" does not exist in \"{enum_name}\" enum."),
                    )
                }
            }
        }
        let having = match node.arg("having").filter(|v| !v.is_null()) {
            Some(h) => Some(self.having(node, table, h)?),
            None => None,
        };
        if having.is_some() && keys.is_empty() {
            return err(
                node,
                "Must not provide having without also providing groupBy",
            );
        }
        Ok(Grouped {
            keys,
            having,
            sel: self.aggregates(node, table)?,
            cap: self.max_groups,
        })
    }

    /// A `PostsHavingInput` value: its fields joined by `and`.
    fn having(&self, node: &FieldNode, table: usize, v: &Value) -> Result<Having> {
        let t = self.table(table);
        let Value::Object(pairs) = v.resolved() else {
            return err(node, "having must be an object");
        };
        let mut all = vec![];
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_null()) {
            match k.as_str() {
                "AND" | "OR" => {
                    let items = match v.resolved() {
                        Value::List(items) => items.iter().collect(),
                        single => vec![single],
                    };
                    let parts = items
                        .into_iter()
                        .map(|item| self.having(node, table, item))
                        .collect::<Result<Vec<_>>>()?;
                    all.push(if k == "AND" {
                        Having::All(parts)
                    } else {
                        Having::Any(parts)
                    });
                }
                spec_field => {
                    let Some(spec) = AggSpec::ALL
                        .into_iter()
                        .find(|s| inflect::aggregate_field(s.id()) == spec_field)
                    else {
                        return err(node, format!("unknown having field {spec_field}"));
                    };
                    let input = inflect::having_aggregate_input_type(&t.inflect_name, spec.id());
                    all.push(self.having_spec(node, table, spec, &input, v)?);
                }
            }
        }
        Ok(Having::All(all))
    }

    /// `sum: { id: { greaterThan: 5 }, rating: { args: {...}, filter: {...} } }`.
    fn having_spec(
        &self,
        node: &FieldNode,
        table: usize,
        spec: AggSpec,
        input: &str,
        v: &Value,
    ) -> Result<Having> {
        let t = self.table(table);
        let Some(def) = self.model.input(input) else {
            return err(node, format!("no having input {input}"));
        };
        let Value::Object(pairs) = v.resolved() else {
            return err(node, format!("{input} must be an object"));
        };
        let mut all = vec![];
        for (k, v) in pairs.iter().filter(|(_, v)| !v.is_null()) {
            let Some(field) = def.field(k) else {
                return err(node, format!("unknown field {k} of {input}"));
            };
            let (target, filter, filter_type) = match &field.target {
                InputTarget::Column(c) => (
                    AggTarget::column(&t.columns[*c]),
                    v,
                    field.ty.innermost().to_string(),
                ),
                InputTarget::Computed(function) => {
                    let nested = self.model.input(field.ty.innermost());
                    let filter_type = nested
                        .and_then(|n| n.field("filter"))
                        .map(|f| f.ty.innermost().to_string())
                        .unwrap_or_default();
                    let args = v.field("args");
                    let target =
                        self.computed_target(node, *function, |n| args.and_then(|a| a.field(n)))?;
                    match v.field("filter").filter(|f| !f.is_null()) {
                        Some(filter) => (target, filter, filter_type),
                        None => continue,
                    }
                }
                _ => return err(node, format!("unknown field {k} of {input}")),
            };
            let operand = having_operand(&filter_type);
            let Value::Object(ops) = filter.resolved() else {
                return err(node, format!("{filter_type} must be an object"));
            };
            for (op, value) in ops.iter().filter(|(_, v)| !v.is_null()) {
                let Some((_, sql_op)) = HAVING_OPERATORS.iter().find(|(name, _)| name == op) else {
                    return err(node, format!("unknown operator {op} of {filter_type}"));
                };
                all.push(Having::Compare {
                    spec,
                    target: target.clone(),
                    op: sql_op,
                    value: self.param(node, &operand, value)?,
                });
            }
        }
        Ok(Having::All(all))
    }

    /// The rows referring to `table`'s row by `relation`, for an order on their aggregate.
    pub(super) fn related_order(
        &self,
        relation: usize,
        aggregate: Option<(AggSpec, usize)>,
    ) -> RelatedOrder {
        let r = &self.model.relations[relation];
        let (rt, ft) = (self.table(r.table), self.table(r.foreign_table));
        RelatedOrder {
            table: rt.into(),
            join: r
                .columns
                .iter()
                .zip(&r.foreign_columns)
                .map(|(&c, &fc)| (rt.columns[c].name.clone(), ft.columns[fc].name.clone()))
                .collect(),
            aggregate: aggregate.map(|(spec, c)| (spec, rt.columns[c].name.clone())),
        }
    }
}

/// The codec of a having filter's operands, by the filter's type name.
fn having_operand(filter_type: &str) -> Codec {
    let of = |t: &str| format!("\"pg_catalog\".\"{t}\"");
    for (kind, pg) in [
        ("int", "int4"),
        ("bigint", "int8"),
        ("float", "float8"),
        ("bigfloat", "numeric"),
        ("datetime", "timestamptz"),
    ] {
        if inflect::having_filter_type(kind) == filter_type {
            let sql_type = of(pg);
            return match pg {
                "int4" | "timestamptz" => Codec::Native { sql_type },
                "float8" => Codec::Float { sql_type },
                _ => Codec::Text { sql_type },
            };
        }
    }
    Codec::Text {
        sql_type: of("text"),
    }
}
