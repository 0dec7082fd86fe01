//! `aggregates: {filter: {...}, sum: {col: {greaterThan: 5}}, ...}` in a one-to-many relation's
//! filter (pg-aggregates' connection-filter integration): the related rows (those the inner
//! `filter` admits) are aggregated and each aggregate compared with connection-filter's
//! operators; all must hold.

use super::*;
use crate::schema::aggregates::AggSpec;

/// A condition on aggregates of the rows of `table` joined to the filtered row.
#[derive(Debug, Clone)]
pub struct RelatedAggregate {
    pub table: TableRef,
    /// `(column of table, column of the filtered row)` pairs.
    pub join: Vec<(String, String)>,
    /// Which related rows are aggregated (`filter`); all of them when None.
    pub rows: Option<Box<Filter>>,
    /// The comparisons of aggregates, over those rows.
    pub test: Box<Filter>,
}

impl Walk<'_, '_> {
    /// An `<Type>AggregatesFilter` value over the rows of `table` joined by `join`.
    pub(super) fn aggregates(
        &self,
        v: &Value,
        type_name: &str,
        table: usize,
        join: Vec<(String, String)>,
        depth: usize,
    ) -> Result<Option<Filter>> {
        let Value::Object(parts) = v.resolved() else {
            return self.fail("A filter must be an object.");
        };
        let input = self.planner.model.input(type_name);
        let (mut rows, mut tests, mut specs) = (None, vec![], 0);
        for (k, v) in parts {
            let field = input.and_then(|i| i.field(k));
            let Some(field) = field else {
                return self.fail(&format!("Unable to resolve filter field '{k}'"));
            };
            let ty = field.ty.innermost();
            match field.target {
                // The plugin reads a null `filter` as no filter, whatever the null option says.
                InputTarget::Filter(FilterField::AggregateRows) => {
                    if !v.is_null() && !self.skip(v)? {
                        rows = self.object(v, ty, self.row_of(table), depth + 1)?;
                    }
                }
                InputTarget::Filter(FilterField::AggregateSpec(spec)) => {
                    specs += 1;
                    if !self.skip(v)? {
                        tests.extend(self.aggregate_spec(v, ty, table, spec, depth + 1)?);
                    }
                }
                _ => return self.fail(&format!("Unable to resolve filter field '{k}'")),
            }
        }
        if specs == 0 {
            return self.fail(&at_least_one_aggregate(input));
        }
        let test = match tests.len() {
            0 => return Ok(None),
            1 => tests.pop().expect("one test"),
            _ => Filter::And(tests),
        };
        Ok(Some(Filter::Aggregate(RelatedAggregate {
            table: self.planner.table(table).into(),
            join,
            rows: rows.map(Box::new),
            test: Box::new(test),
        })))
    }

    /// `sum: {id: {...}, rating: {...}}`: each column's aggregate against its operators.
    fn aggregate_spec(
        &self,
        v: &Value,
        type_name: &str,
        table: usize,
        spec: AggSpec,
        depth: usize,
    ) -> Result<Option<Filter>> {
        if depth > MAX_FILTER_DEPTH {
            return self.fail(&format!(
                "The filter is nested deeper than {MAX_FILTER_DEPTH} levels."
            ));
        }
        let Value::Object(parts) = v.resolved() else {
            return self.fail("A filter must be an object.");
        };
        let p = self.planner;
        let t = p.table(table);
        let input = p.model.input(type_name);
        let mut all = vec![];
        for (k, v) in parts {
            if self.skip(v)? {
                continue;
            }
            let field = input.and_then(|i| i.field(k));
            let Some(field) = field else {
                return self.fail(&format!("Unable to resolve filter field '{k}'"));
            };
            let (inner, codec) = match field.target {
                InputTarget::Filter(FilterField::AggregateColumn(c)) => {
                    let col = &t.columns[c];
                    let Some(result) = self.result_codec(table, spec, c) else {
                        return self.fail(&format!("Unable to resolve filter field '{k}'"));
                    };
                    let sql_type = col.codec.sql_type().to_string();
                    ((Operand::Column(col.name.clone()), sql_type), result)
                }
                InputTarget::Filter(FilterField::AggregateComputed(fi)) => {
                    let f = &p.model.functions[fi];
                    let function = TableRef {
                        schema: f.schema.clone(),
                        name: f.name.clone(),
                    };
                    let sql_type = f.returns.sql_type().to_string();
                    ((Operand::Computed(function), sql_type), f.returns.clone())
                }
                _ => return self.fail(&format!("Unable to resolve filter field '{k}'")),
            };
            let operand = Operand::Aggregate {
                spec,
                inner: Box::new(inner.0),
                sql_type: inner.1,
            };
            let on = On::Value {
                operand: &operand,
                codec: &codec,
            };
            all.extend(self.object(v, field.ty.innermost(), on, depth + 1)?);
        }
        Ok(match all.len() {
            0 => None,
            1 => all.pop(),
            _ => Some(Filter::And(all)),
        })
    }

    /// The type of an aggregate of a column, as its `aggregates` field has it.
    fn result_codec(&self, table: usize, spec: AggSpec, column: usize) -> Option<Codec> {
        let t = self.planner.table(table);
        let name = crate::schema::inflect::aggregate_type(&t.inflect_name, spec.id());
        self.planner
            .model
            .object(&name)?
            .fields
            .iter()
            .find_map(|f| match &f.kind {
                FieldKind::AggregateColumn {
                    column: c, result, ..
                } if *c == column => Some(result.clone()),
                _ => None,
            })
    }
}

/// The plugin's error for `aggregates` without an aggregate (its wording, closing quote and
/// parenthesis included).
fn at_least_one_aggregate(input: Option<&crate::schema::InputDef>) -> String {
    let mut names: Vec<&str> = input
        .map(|i| i.fields.iter().map(|f| f.name.as_str()).collect())
        .unwrap_or_default();
    names.retain(|n| *n != "filter");
    let last = names.pop().unwrap_or("sum");
    let head = if names.is_empty() {
        String::new()
    } else {
        format!("'{}' or ", names.join("', '"))
    };
    format!("'aggregates' filter must specify at least one aggregate: {head}'{last}').")
}
