//! Aggregates' SQL: a connection's `aggregates` and `groupedAggregates` as subqueries over the
//! connection's filtered source (no paging), and the correlated subquery an order by related
//! rows' aggregate sorts on. Still one statement per root field.

use super::connection::no_equality_cast;
use super::*;
use crate::schema::aggregates::AggSpec;

/// The SQL aggregate of `e` (the plugin's: sum never null).
pub(super) fn aggregate(spec: AggSpec, e: &str) -> String {
    let (head, tail) = aggregate_around(spec);
    format!("{head}{e}{tail}")
}

/// The text of an aggregate before and after its operand.
pub(super) fn aggregate_around(spec: AggSpec) -> (&'static str, &'static str) {
    match spec {
        AggSpec::Sum => ("coalesce(sum(", "), 0)"),
        AggSpec::DistinctCount => ("count(distinct ", ")"),
        AggSpec::Min => ("min(", ")"),
        AggSpec::Max => ("max(", ")"),
        AggSpec::Average => ("avg(", ")"),
        AggSpec::StddevSample => ("stddev_samp(", ")"),
        AggSpec::StddevPopulation => ("stddev_pop(", ")"),
        AggSpec::VarianceSample => ("var_samp(", ")"),
        AggSpec::VariancePopulation => ("var_pop(", ")"),
    }
}

/// What an aggregate reads from the row `x` (`row` is the row value itself, for functions);
/// a distinct count of a type without `=` (json, point) counts a comparable cast of it.
fn target(b: &mut Builder, spec: AggSpec, t: &AggTarget, x: &str, row: &str) -> String {
    match t {
        AggTarget::Column { column, sql_type } => {
            let cast = match spec {
                AggSpec::DistinctCount => no_equality_cast(sql_type),
                _ => "",
            };
            format!("{x}.{}{cast}", quote_ident(column))
        }
        AggTarget::Computed { function, args } => call_with(b, function, Some(row), args),
    }
}

/// How a connection's rows are read again for its aggregates: `from(x)` is the source (with
/// its conditions, without paging) under alias `x`, `row(x)` the row value under that alias.
pub(super) struct Rows<'a> {
    pub from: &'a dyn Fn(&str) -> String,
    pub row: &'a dyn Fn(&str) -> String,
}

/// The aggregates object over the rows of alias `x`; `keys`: the group's keys (a JSON list).
fn object_for(b: &mut Builder, sel: &AggSel, x: &str, row: &str, keys: &str) -> String {
    let mut pairs = vec![];
    for (k, f) in &sel.fields {
        let v = match f {
            AggField::Typename(t) => quote_literal(t),
            AggField::Keys => keys.to_string(),
            AggField::Spec(values) => {
                let mut inner = vec![];
                for (vk, v) in values {
                    let e = match v {
                        AggValue::Typename(t) => quote_literal(t),
                        AggValue::Value {
                            spec,
                            target: t,
                            out,
                        } => {
                            let e = target(b, *spec, t, x, row);
                            scalar(&aggregate(*spec, &e), out)
                        }
                    };
                    inner.push((vk.clone(), e));
                }
                object(&inner)
            }
        };
        pairs.push((k.clone(), v));
    }
    object(&pairs)
}

/// `aggregates`: one row over all the connection's rows (`group by ()` keeps it one row when
/// nothing but keys or `__typename` is selected).
pub(super) fn aggregates(b: &mut Builder, sel: &AggSel, rows: &Rows) -> String {
    let x = b.alias();
    let row = (rows.row)(&x);
    // Outside a group there are no keys: null, as the plugin answers.
    let obj = object_for(b, sel, &x, &row, "null::json");
    format!("(select {obj} from {} group by ())", (rows.from)(&x))
}

/// `groupedAggregates`: one object per group, in the order of the groups' keys.
pub(super) fn grouped(b: &mut Builder, g: &Grouped, rows: &Rows) -> String {
    let x = b.alias();
    let row = (rows.row)(&x);
    let keys: Vec<String> = g
        .keys
        .iter()
        .map(|k| {
            let col = format!(
                "{x}.{}{}",
                quote_ident(&k.column),
                no_equality_cast(&k.sql_type)
            );
            match k.truncate {
                Some(unit) => format!("date_trunc({}, {col})", quote_literal(unit)),
                None => col,
            }
        })
        .collect();
    let keys_json = format!(
        "json_build_array({})",
        keys.iter()
            .map(|k| format!("({k})::text"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let obj = object_for(b, &g.sel, &x, &row, &keys_json);
    let having = g
        .having
        .as_ref()
        .map(|h| format!(" having {}", having(b, h, &x, &row)))
        .unwrap_or_default();
    let g_alias = b.alias();
    let projected: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!(", {k} as \"__k{i}\""))
        .collect();
    let order: Vec<String> = (0..keys.len())
        .map(|i| format!("{g_alias}.\"__k{i}\""))
        .collect();
    let order = if order.is_empty() {
        String::new()
    } else {
        format!(" order by {}", order.join(", "))
    };
    let group = if keys.is_empty() {
        "()".to_string()
    } else {
        keys.join(", ")
    };
    // Past the cap, one group more is enough to tell: the list becomes the marker the engine
    // turns into a field error (never a silently cut list).
    let list = format!("coalesce(json_agg({g_alias}.\"__data\"{order}), '[]'::json)");
    let (limit, list) = match g.cap {
        Some(cap) => (
            format!(" limit {}", cap + 1),
            format!(
                "case when count(*) > {cap} then to_json({}::text) else {list} end",
                quote_literal(crate::plan::TOO_MANY_GROUPS)
            ),
        ),
        None => (String::new(), list),
    };
    format!(
        "(select {list} from (select {obj} as \"__data\"{projected} from {} group by {group}{having}{limit}) as {g_alias})",
        (rows.from)(&x)
    )
}

fn having(b: &mut Builder, h: &Having, x: &str, row: &str) -> String {
    let join = |b: &mut Builder, parts: &[Having], op: &str| {
        if parts.is_empty() {
            return "true".to_string();
        }
        let parts: Vec<String> = parts.iter().map(|p| having(b, p, x, row)).collect();
        format!("(({}))", parts.join(&format!(") {op} (")))
    };
    match h {
        Having::All(parts) => join(b, parts, "and"),
        Having::Any(parts) => join(b, parts, "or"),
        Having::Compare {
            spec,
            target: t,
            op,
            value,
        } => {
            let e = target(b, *spec, t, x, row);
            let v = b.param(value);
            format!("({} {op} {v})", aggregate(*spec, &e))
        }
    }
}

/// Renders a related join beside a row alias, under its own alias: `join(x, alias)`.
pub(super) type RelatedJoin = Box<dyn Fn(&str, &str) -> String>;

/// A join computing an order's related aggregate for every row of a source at once: the
/// related rows grouped by their key (`within`: only the keys this query lists), joined on
/// it; `join(x, alias)` joins it as `alias` to the source's row `x`. Rows no related row
/// refers to get no group: `grouped_order_value` gives them the aggregate of no rows.
pub(super) fn related_order_join(g: &str, r: &RelatedOrder, within: Option<String>) -> RelatedJoin {
    let keys: Vec<String> = r
        .join
        .iter()
        .map(|(c, _)| format!("{g}.{}", quote_ident(c)))
        .collect();
    let projected: String = keys
        .iter()
        .enumerate()
        .map(|(k, key)| format!("{key} as \"__k{k}\", "))
        .collect();
    let filter = within
        .map(|w| format!(" where ({}) in ({w})", keys.join(", ")))
        .unwrap_or_default();
    let grouped = format!(
        "(select {projected}{} as \"__v\" from {} as {g}{filter} group by {})",
        related_value(g, r),
        qualified(&r.table),
        keys.join(", ")
    );
    let outer: Vec<String> = r.join.iter().map(|(_, pc)| quote_ident(pc)).collect();
    Box::new(move |x, alias| {
        let on: Vec<String> = outer
            .iter()
            .enumerate()
            .map(|(k, pc)| format!("{alias}.\"__k{k}\" = {x}.{pc}"))
            .collect();
        format!(" left join {grouped} as {alias} on {}", on.join(" and "))
    })
}

/// The value of a related join: a count (or sum, distinct count) of no rows is 0, as the
/// correlated subquery says; the other aggregates of no rows are null.
pub(super) fn grouped_order_value(alias: &str, r: &RelatedOrder) -> String {
    match r.aggregate {
        None | Some((AggSpec::Sum | AggSpec::DistinctCount, _)) => {
            format!("coalesce({alias}.\"__v\", 0)")
        }
        Some(_) => format!("{alias}.\"__v\""),
    }
}

/// The aggregate an order by related rows sorts on, over the related rows of alias `a`.
fn related_value(a: &str, r: &RelatedOrder) -> String {
    match &r.aggregate {
        None => "count(*)".to_string(),
        Some((spec, col)) => aggregate(*spec, &format!("{a}.{}", quote_ident(col))),
    }
}

/// The value an order by related rows' aggregate sorts the row `x` on: a correlated subquery.
pub(super) fn related_order_value(x: &str, r: &RelatedOrder) -> String {
    // A fixed alias: the subquery refers to nothing but itself and `x`.
    let a = "__related";
    let value = related_value(a, r);
    let join: Vec<String> = r
        .join
        .iter()
        .map(|(c, pc)| format!("{a}.{} = {x}.{}", quote_ident(c), quote_ident(pc)))
        .collect();
    format!(
        "(select {value} from {} as {a} where {})",
        qualified(&r.table),
        join.join(" and ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn having_binds_values_and_groups_order_by_their_keys() {
        let mut b = Builder::new();
        let g = Grouped {
            keys: vec![GroupKey {
                column: "taken_at".into(),
                sql_type: "\"pg_catalog\".\"timestamptz\"".into(),
                truncate: Some("day"),
            }],
            having: Some(Having::Any(vec![Having::Compare {
                spec: AggSpec::Sum,
                target: AggTarget::Column {
                    column: "whole".into(),
                    sql_type: "\"pg_catalog\".\"int4\"".into(),
                },
                op: ">",
                value: Param {
                    value: Some("4".into()),
                    sql_type: "\"pg_catalog\".\"int4\"".into(),
                    source: None,
                },
            }])),
            sel: AggSel {
                fields: vec![("keys".into(), AggField::Keys)],
            },
            cap: None,
        };
        let from = |x: &str| format!("\"app_public\".\"readings\" as {x}");
        let row = |x: &str| x.to_string();
        let sql = grouped(
            &mut b,
            &g,
            &Rows {
                from: &from,
                row: &row,
            },
        );
        assert_eq!(
            sql,
            "(select coalesce(json_agg(__t2.\"__data\" order by __t2.\"__k0\"), '[]'::json) from (select json_build_object('keys', json_build_array((date_trunc('day', __t1.\"taken_at\"))::text)) as \"__data\", date_trunc('day', __t1.\"taken_at\") as \"__k0\" from \"app_public\".\"readings\" as __t1 group by date_trunc('day', __t1.\"taken_at\") having (((coalesce(sum(__t1.\"whole\"), 0) > $1::\"pg_catalog\".\"int4\")))) as __t2)"
        );
        assert_eq!(b.params, vec![Some("4".to_string())]);
    }
}
