//! `filter:` (connection-filter v2's argument) → a tree of tests on a collection's rows.
//! Its shape (which fields and operators, `isNull`'s boolean, list lengths) is part of the
//! plan; every compared value is a parameter, re-bound from the variables of a later request.

use super::*;
use crate::schema::filter::{Cmp, FilterField, OpValue, Operator};

mod aggregates;
pub use aggregates::RelatedAggregate;

/// The code of a filter the plugin refuses (a `null` or `{}` in it, or over the limits): the
/// root field is null with this error, its siblings still resolve.
pub const INVALID_FILTER: &str = "INVALID_FILTER";
/// How deep `and`/`or`/`not` and nested composite filters may go.
pub const MAX_FILTER_DEPTH: usize = 16;
/// How many operator tests one filter may hold.
pub const MAX_FILTER_TESTS: usize = 500;

const NULL_INPUT: &str = "Null literals are forbidden in filter argument input.";
const EMPTY_INPUT: &str = "Empty objects are forbidden in filter argument input.";

// Plans are built once per query text and cached; the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Test(Test),
    /// A test on related rows: whether a row of `table` joined to the filtered one
    /// (`inner col = outer col` per pair) exists, and matches `inner` when given.
    Related(Related),
    /// A test on aggregates of related rows (pg-aggregates' `aggregates` filter).
    Aggregate(RelatedAggregate),
}

#[derive(Debug, Clone)]
pub struct Related {
    pub table: TableRef,
    /// `(column of table, column of the filtered row)` pairs.
    pub join: Vec<(String, String)>,
    pub inner: Option<Box<Filter>>,
    pub mode: RelatedMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelatedMode {
    /// Some related row (matching `inner`) exists.
    Exists,
    /// No related row (matching `inner`) exists.
    NotExists,
    /// No related row fails `inner`: every one matches.
    Every,
}

/// One operator applied to one operand.
#[derive(Debug, Clone)]
pub struct Test {
    pub operand: Operand,
    pub cmp: Cmp,
    pub cast: OperandCast,
    pub value: TestValue,
}

/// What a test reads, relative to the collection's row.
#[derive(Debug, Clone)]
pub enum Operand {
    /// A column of the row.
    Column(String),
    /// An attribute of a composite value: `(operand).attribute`.
    Attribute(Box<Operand>, String),
    /// A computed column: `function(row)`.
    Computed(TableRef),
    /// The value itself (a set-returning function of scalars).
    Value,
    /// An aggregate of an operand over the rows of a relation filter's `aggregates`;
    /// `sql_type`: the operand's type (a distinct count of one without `=` casts it).
    Aggregate {
        spec: crate::schema::aggregates::AggSpec,
        inner: Box<Operand>,
        sql_type: String,
    },
}

/// How the operand is adjusted before comparing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandCast {
    None,
    /// citext compared case-sensitively: as text.
    Text,
    /// citext[] compared case-sensitively: as text[].
    TextArray,
    /// `…Insensitive` on text: `lower()`.
    Lower,
}

#[derive(Debug, Clone)]
pub enum TestValue {
    /// `isNull`: whether the operand must be null.
    IsNull(bool),
    /// One value; `lower`: compared lowercased; `pattern`: matched literally (escaped and
    /// wrapped in `%` as the operator says).
    One {
        param: Param,
        lower: bool,
        pattern: Option<crate::schema::filter::Pattern>,
    },
    /// `in`/`notIn`: the values (none: nothing is in the list), of `sql_type`.
    List {
        params: Vec<Param>,
        lower: bool,
        sql_type: String,
    },
}

/// What a filter object applies to.
#[derive(Clone, Copy)]
enum On<'a> {
    /// A table's (or composite type's) fields, read from `row`.
    Row { table: usize, row: &'a Operand },
    /// One value of `codec` (an operator type).
    Value {
        operand: &'a Operand,
        codec: &'a Codec,
    },
}

struct Walk<'p, 'm> {
    planner: &'p Planner<'m>,
    node: &'p FieldNode,
    tests: std::cell::Cell<usize>,
}

impl<'m> Planner<'m> {
    /// The `filter` argument over rows of `table`.
    pub(super) fn table_filter(&self, node: &FieldNode, table: usize) -> Result<Option<Filter>> {
        let name = crate::schema::inflect::filter_type(&self.table(table).type_name);
        self.filter_with(node, &name, |w, v, ty| {
            w.object(
                v,
                ty,
                On::Row {
                    table,
                    row: &Operand::Value,
                },
                0,
            )
        })
    }

    /// The `filter` argument of a function's collection: over its rows' table, or over the
    /// scalar values it returns (`filter: {greaterThan: 3}`).
    pub(super) fn function_filter(
        &self,
        node: &FieldNode,
        function: usize,
    ) -> Result<Option<Filter>> {
        let f = &self.model.functions[function];
        if let Codec::Row { table, .. } = f.returns {
            return self.table_filter(node, table);
        }
        let Some(name) = self.function_filter_type(function) else {
            return Ok(None);
        };
        let codec = &f.returns;
        self.filter_with(node, name, |w, v, ty| {
            w.object(
                v,
                ty,
                On::Value {
                    operand: &Operand::Value,
                    codec,
                },
                0,
            )
        })
    }

    fn function_filter_type(&self, function: usize) -> Option<&'m str> {
        self.model.types.values().find_map(|t| match t {
            crate::schema::TypeDef::Object(o) => o
                .fields
                .iter()
                .filter(|f| match f.kind {
                    FieldKind::Function { function: x }
                    | FieldKind::Computed { function: x }
                    | FieldKind::FunctionList { function: x }
                    | FieldKind::ComputedList { function: x } => x == function,
                    _ => false,
                })
                .find_map(|f| f.args.iter().find(|a| a.name == "filter"))
                .map(|a| a.ty.innermost()),
            _ => None,
        })
    }

    fn filter_with(
        &self,
        node: &FieldNode,
        type_name: &str,
        walk: impl FnOnce(&Walk, &Value, &str) -> Result<Option<Filter>>,
    ) -> Result<Option<Filter>> {
        let Some(v) = node.arg("filter") else {
            return Ok(None);
        };
        let w = Walk {
            planner: self,
            node,
            tests: std::cell::Cell::new(0),
        };
        if w.skip(v)? {
            return Ok(None);
        }
        walk(&w, v, type_name)
    }
}

impl Walk<'_, '_> {
    fn fail<T>(&self, message: &str) -> Result<T> {
        Err(PlanError {
            message: message.into(),
            location: self.node.location,
            code: INVALID_FILTER,
        })
    }

    /// A `null` or `{}`: an error, or (with the flags allowing them) nothing to test.
    fn skip(&self, v: &Value) -> Result<bool> {
        let flags = &self.planner.model.filter;
        match v.resolved() {
            Value::Null if flags.allow_null_input => Ok(true),
            Value::Null => self.fail(NULL_INPUT),
            Value::Object(fields) if fields.is_empty() && flags.allow_empty_object_input => {
                Ok(true)
            }
            Value::Object(fields) if fields.is_empty() => self.fail(EMPTY_INPUT),
            _ => Ok(false),
        }
    }

    /// A filter object: its fields' tests, all of which must hold.
    fn object(&self, v: &Value, type_name: &str, on: On, depth: usize) -> Result<Option<Filter>> {
        if depth > MAX_FILTER_DEPTH {
            return self.fail(&format!(
                "The filter is nested deeper than {MAX_FILTER_DEPTH} levels."
            ));
        }
        let Value::Object(fields) = v.resolved() else {
            return self.fail("A filter must be an object.");
        };
        let input = self.planner.model.input(type_name);
        let mut all = vec![];
        for (key, value) in fields {
            if self.skip(value)? {
                continue;
            }
            let target = input.and_then(|i| i.field(key)).map(|f| (&f.target, &f.ty));
            let Some((InputTarget::Filter(target), ty)) = target else {
                return self.fail(&format!("Unable to resolve filter field '{key}'"));
            };
            let ty = ty.innermost();
            let test = match (*target, on) {
                (FilterField::And | FilterField::Or, _) => {
                    let items: Vec<&Value> = match value.resolved() {
                        Value::List(items) => items.iter().collect(),
                        _ => vec![value],
                    };
                    let mut parts = vec![];
                    for item in items {
                        if self.skip(item)? {
                            continue;
                        }
                        parts.extend(self.object(item, type_name, on, depth + 1)?);
                    }
                    match (target, parts.is_empty()) {
                        (_, true) => None,
                        (FilterField::And, _) => Some(Filter::And(parts)),
                        _ => Some(Filter::Or(parts)),
                    }
                }
                (FilterField::Not, _) => self
                    .object(value, type_name, on, depth + 1)?
                    .map(|f| Filter::Not(Box::new(f))),
                (FilterField::Column(c), On::Row { table, row }) => {
                    let col = &self.planner.table(table).columns[c];
                    let operand = match row {
                        Operand::Value => Operand::Column(col.name.clone()),
                        other => Operand::Attribute(Box::new(other.clone()), col.name.clone()),
                    };
                    let on = match &col.codec {
                        Codec::Row { table, .. } => On::Row {
                            table: *table,
                            row: &operand,
                        },
                        codec => On::Value {
                            operand: &operand,
                            codec,
                        },
                    };
                    self.object(value, ty, on, depth + 1)?
                }
                (FilterField::Computed(fi), On::Row { .. }) => {
                    let f = &self.planner.model.functions[fi];
                    let operand = Operand::Computed(TableRef {
                        schema: f.schema.clone(),
                        name: f.name.clone(),
                    });
                    let on = On::Value {
                        operand: &operand,
                        codec: &f.returns,
                    };
                    self.object(value, ty, on, depth + 1)?
                }
                (FilterField::Operator(op), On::Value { operand, codec }) => {
                    Some(Filter::Test(self.test(operand, codec, op, value)?))
                }
                (FilterField::Forward(ri) | FilterField::BackwardOne(ri), On::Row { .. }) => {
                    let (other, join) = self.relation_join(ri, *target);
                    let inner = self.object(value, ty, self.row_of(other), depth + 1)?;
                    inner.map(|f| self.related(other, join, Some(f), RelatedMode::Exists))
                }
                (
                    FilterField::ForwardExists(ri) | FilterField::BackwardExists(ri),
                    On::Row { .. },
                ) => {
                    let Value::Bool(exists) = value.resolved() else {
                        return self.fail(&format!("`{key}` takes a Boolean."));
                    };
                    let forward = matches!(target, FilterField::ForwardExists(_));
                    let kind = if forward {
                        FilterField::Forward(ri)
                    } else {
                        FilterField::BackwardMany(ri)
                    };
                    let (other, join) = self.relation_join(ri, kind);
                    let mode = if *exists {
                        RelatedMode::Exists
                    } else {
                        RelatedMode::NotExists
                    };
                    Some(self.related(other, join, None, mode))
                }
                (FilterField::BackwardMany(ri), On::Row { .. }) => {
                    let Value::Object(parts) = value.resolved() else {
                        return self.fail("A filter must be an object.");
                    };
                    let (other, join) = self.relation_join(ri, *target);
                    let many = self.planner.model.input(ty);
                    let mut all = vec![];
                    for (k, v) in parts {
                        if self.skip(v)? {
                            continue;
                        }
                        let field = many.and_then(|m| m.field(k));
                        let Some(field) = field else {
                            return self.fail(&format!("Unable to resolve filter field '{k}'"));
                        };
                        let inner_ty = field.ty.innermost();
                        if field.target == InputTarget::Filter(FilterField::Aggregates) {
                            let join = join.clone();
                            all.extend(self.aggregates(v, inner_ty, other, join, depth + 2)?);
                            continue;
                        }
                        let mode = match field.target {
                            InputTarget::Filter(FilterField::Every) => RelatedMode::Every,
                            InputTarget::Filter(FilterField::Some) => RelatedMode::Exists,
                            _ => RelatedMode::NotExists,
                        };
                        if let Some(f) = self.object(v, inner_ty, self.row_of(other), depth + 2)? {
                            all.push(self.related(other, join.clone(), Some(f), mode));
                        }
                    }
                    match all.len() {
                        0 => None,
                        1 => all.pop(),
                        _ => Some(Filter::And(all)),
                    }
                }
                _ => return self.fail(&format!("Unable to resolve filter field '{key}'")),
            };
            all.extend(test);
        }
        Ok(match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(Filter::And(all)),
        })
    }

    /// The table a relation filter reads and its join to the filtered row: the referenced
    /// table for a forward relation, the referencing one for a backward relation.
    fn relation_join(&self, ri: usize, kind: FilterField) -> (usize, Vec<(String, String)>) {
        let m = self.planner.model;
        let r = &m.relations[ri];
        let (t, ft) = (&m.tables[r.table], &m.tables[r.foreign_table]);
        let pairs = r.columns.iter().zip(&r.foreign_columns);
        if matches!(kind, FilterField::Forward(_)) {
            let join = pairs
                .map(|(&c, &fc)| (ft.columns[fc].name.clone(), t.columns[c].name.clone()))
                .collect();
            (r.foreign_table, join)
        } else {
            let join = pairs
                .map(|(&c, &fc)| (t.columns[c].name.clone(), ft.columns[fc].name.clone()))
                .collect();
            (r.table, join)
        }
    }

    fn row_of(&self, table: usize) -> On<'static> {
        On::Row {
            table,
            row: &Operand::Value,
        }
    }

    fn related(
        &self,
        table: usize,
        join: Vec<(String, String)>,
        inner: Option<Filter>,
        mode: RelatedMode,
    ) -> Filter {
        Filter::Related(Related {
            table: self.planner.table(table).into(),
            join,
            inner: inner.map(Box::new),
            mode,
        })
    }

    /// One operator on one operand, its value coerced to the type it is compared as.
    fn test(&self, operand: &Operand, codec: &Codec, op: Operator, v: &Value) -> Result<Test> {
        let n = self.tests.get() + 1;
        self.tests.set(n);
        if n > MAX_FILTER_TESTS {
            return self.fail(&format!(
                "The filter holds more than {MAX_FILTER_TESTS} operator tests."
            ));
        }
        let p = self.planner;
        let type_name = codec.sql_type();
        let citext = type_name.ends_with(".\"citext\"");
        let citext_array = matches!(codec, Codec::Array { element, .. } if element.sql_type().ends_with(".\"citext\""));
        let text = Codec::Text {
            sql_type: "\"pg_catalog\".\"text\"".into(),
        };
        let ilike = matches!(op.cmp, Cmp::ILike | Cmp::NotILike);
        // citext: case-sensitive operators compare it as text, `…Insensitive` ones as citext.
        let cast = if op.insensitive {
            if citext {
                OperandCast::None
            } else {
                OperandCast::Lower
            }
        } else if ilike || matches!(op.value, OpValue::Element) && !citext_array {
            OperandCast::None
        } else if citext {
            OperandCast::Text
        } else if citext_array {
            OperandCast::TextArray
        } else {
            OperandCast::None
        };
        let lower = op.insensitive && !citext;
        let value_codec = |v: OpValue| -> Codec {
            match v {
                OpValue::Key => text.clone(),
                OpValue::Keys => Codec::Array {
                    sql_type: "\"pg_catalog\".\"_text\"".into(),
                    element: Box::new(text.clone()),
                },
                OpValue::Element => match codec {
                    Codec::Array { element, .. } => (**element).clone(),
                    other => other.clone(),
                },
                // The plugin casts a case-sensitive citext comparison's value to text.
                _ if citext && !op.insensitive && !matches!(op.cmp, Cmp::In | Cmp::NotIn) => {
                    text.clone()
                }
                _ if citext_array && !op.insensitive => Codec::Array {
                    sql_type: "\"pg_catalog\".\"_text\"".into(),
                    element: Box::new(text.clone()),
                },
                _ => codec.clone(),
            }
        };
        let value = match op.value {
            OpValue::Bool => match v.resolved() {
                Value::Bool(b) => TestValue::IsNull(*b),
                _ => return self.fail("`isNull` takes a Boolean."),
            },
            OpValue::List => {
                let items: Vec<&Value> = match v.resolved() {
                    Value::List(items) => items.iter().collect(),
                    _ => vec![v],
                };
                let vc = value_codec(OpValue::List);
                let mut params = vec![];
                for item in items {
                    if self.skip(item)? {
                        continue;
                    }
                    params.push(p.param(self.node, &vc, item)?);
                }
                TestValue::List {
                    params,
                    lower,
                    sql_type: vc.sql_type().to_string(),
                }
            }
            OpValue::Pattern(pattern) => TestValue::One {
                param: p.param(self.node, &value_codec(op.value), v)?,
                lower,
                pattern: Some(pattern),
            },
            other => TestValue::One {
                param: p.param(self.node, &value_codec(other), v)?,
                lower,
                pattern: None,
            },
        };
        Ok(Test {
            operand: operand.clone(),
            cmp: op.cmp,
            cast,
            value,
        })
    }
}
