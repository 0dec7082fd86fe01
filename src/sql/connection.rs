//! Connections' SQL: one subquery per connection that pages its source (conditions, cursor
//! bounds, order, limit) and aggregates nodes, edges, counts and page info; cursors and the
//! keyset conditions that resume after them.

use super::*;

/// SQL text for a condition, rendered for a given table alias.
type ForAlias = Box<dyn Fn(&str) -> String>;

/// A connection: one subquery that pages the source (conditions, cursor bounds, order,
/// limit), aggregates nodes and edges in order, and counts only when `totalCount` is asked for.
pub(super) fn connection(b: &mut Builder, c: &Connection, parent: Option<&str>) -> String {
    let a = b.alias();
    let source = match &c.source {
        Source::Table(t) => qualified(t),
        Source::Function {
            function,
            args,
            on_parent,
            ..
        } => call_with(b, function, parent.filter(|_| *on_parent), args),
    };
    // What a node is built from: the page row itself, or the value a function returned.
    let node_row = match &c.source {
        Source::Table(_) => a.clone(),
        Source::Function { .. } => format!("({a}.\"__value\")"),
    };
    // The filter is rendered per alias (the count and page-info subqueries scan the source
    // again); parameters are bound once and referenced by number.
    let mut filters: Vec<ForAlias> = vec![];
    if let Some(parent) = parent {
        for (col, pcol) in &c.join {
            let (col, parent) = (quote_ident(col), format!("{parent}.{}", quote_ident(pcol)));
            filters.push(Box::new(move |x| format!("{x}.{col} = {parent}")));
        }
    }
    for (col, p) in &c.conditions {
        let col = quote_ident(col);
        if p.value.is_none() {
            filters.push(Box::new(move |x| format!("{x}.{col} is null")));
        } else {
            let v = b.param(p);
            let cast = no_equality_cast(&p.sql_type);
            filters.push(Box::new(move |x| format!("{x}.{col}{cast} = {v}{cast}")));
        }
    }
    if let Some(f) = &c.filter {
        let function = matches!(c.source, Source::Function { .. });
        filters.push(super::filter::condition(b, f, function));
    }
    // A table's orders by related rows' aggregates read them grouped, joined to the page's
    // source (see `related_joins`); the page and its bounds sort on the joined values.
    let grouped = matches!(c.source, Source::Table(_));
    let after_bound: Option<ForAlias> = c
        .after
        .as_ref()
        .map(|v| keyset(b, &c.order, v, true, grouped));
    let before_bound: Option<ForAlias> = c
        .before
        .as_ref()
        .map(|v| keyset(b, &c.order, v, false, grouped));
    let where_of = |conds: Vec<String>| {
        if conds.is_empty() {
            String::new()
        } else {
            format!(" where {}", conds.join(" and "))
        }
    };
    let filter_sql = |x: &str, with_bounds: bool| -> String {
        let bounds = after_bound.iter().chain(before_bound.iter());
        where_of(
            filters
                .iter()
                .chain(bounds.filter(|_| with_bounds))
                .map(|f| f(x))
                .collect(),
        )
    };
    // The rows one bound leaves out that the other keeps: at or past `before` (forwards), or
    // at or ahead of `after` (backwards). v4 counts them as a next (previous) page.
    let outside_sql = |x: &str, forwards: bool| -> String {
        let (keep, drop) = if forwards {
            (&after_bound, &before_bound)
        } else {
            (&before_bound, &after_bound)
        };
        let mut conds: Vec<String> = filters.iter().chain(keep.iter()).map(|f| f(x)).collect();
        conds.extend(
            drop.iter()
                .map(|f| format!("not coalesce({}, false)", f(x))),
        );
        where_of(conds)
    };
    // A function's rows are numbered in the order it returns them (an SRF in a select list
    // keeps it): `"__value"` is what it returned (a row or a scalar), `"__ordinality"` the
    // order; a table row's columns are spread beside them, for `orderBy` and `condition`.
    let from = |x: &str| {
        match &c.source {
        // Rows numbered in the table's own order, after the filters (`numbered_filter`).
        Source::Table(_) if c.numbered => format!(
            "(select __n.*, row_number() over () as \"{ORDINALITY}\" from {source} as __n{}) as {x}",
            filter_sql("__n", false)
        ),
        Source::Table(_) => format!("{source} as {x}"),
        Source::Function { rows, .. } => format!(
            "(select {}__s.\"__value\", row_number() over () as \"{ORDINALITY}\" from (select {source} as \"__value\") as __s) as {x}",
            if *rows { "(__s.\"__value\").*, " } else { "" }
        ),
    }
    };
    let joins = if grouped {
        related_joins(b, &source, &c.order, &filters)
    } else {
        Box::new(|_: &str| String::new())
    };
    // `inside`: sorting the source's rows (the page, page info), where the related joins are;
    // otherwise the page's rows, where an order by related rows is a correlated subquery
    // (evaluated for the page's rows only).
    let order_sql = |x: &str, reverse: bool, inside: bool| -> String {
        if c.order.is_empty() {
            return String::new();
        }
        let cols: Vec<String> = c
            .order
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let dir = if o.asc != reverse { "asc" } else { "desc" };
                // Keep each direction's default null placement, mirrored when reversed.
                let nulls = if o.asc != reverse {
                    if o.asc {
                        "nulls last"
                    } else {
                        "nulls first"
                    }
                } else if o.asc {
                    "nulls first"
                } else {
                    "nulls last"
                };
                let cast = no_equality_cast(&o.sql_type);
                format!(
                    "{}{cast} {dir} {nulls}",
                    order_value(x, i, o, inside && grouped)
                )
            })
            .collect();
        format!(" order by {}", cols.join(", "))
    };
    // `last` reads the page from the end (reversed order); aggregates restore the order.
    let from_end = c.last.is_some();
    // Page sizes are integers the planner validated (never request text), written as literals:
    // with a parameter Postgres cannot know the LIMIT when it plans, so it keeps re-planning
    // the prepared statement (its generic plan looks too costly), which costs a read ~40 %.
    let limit = c
        .first
        .or(c.last)
        .map(|n| format!(" limit {n}"))
        .unwrap_or_default();
    let offset = c.offset.map(|n| format!(" offset {n}")).unwrap_or_default();
    let columns = match &c.columns {
        None => format!("{a}.*"),
        Some(cols) => cols
            .iter()
            .map(|col| format!("{a}.{}", quote_ident(col)))
            .chain(c.numbered.then(|| format!("{a}.\"{ORDINALITY}\"")))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut page = format!(
        "(select {columns} from {}{}{}{}{limit}{offset}) as {a}",
        from(&a),
        joins(&a),
        filter_sql(&a, true),
        order_sql(&a, from_end, true)
    );
    let mut agg_order = order_sql(&a, false, false);
    // A position in the page (plus the offset), in the page's final order; rows the order
    // ties keep their numbering in the aggregates, which then follow it.
    if c.positional {
        let offset = c.offset.unwrap_or(0);
        page = format!(
            "(select {a}.*, {offset} + row_number() over ({}) as \"{POSITION}\" from {page}) as {a}",
            order_sql(&a, false, false).trim_start()
        );
        agg_order = format!(" order by {a}.\"{POSITION}\"");
    }
    let cursor = |x: &str| {
        if c.positional {
            positional_cursor(x, &c.cursor_spec)
        } else {
            cursor(x, &c.order, &c.cursor_spec)
        }
    };

    // A simple collection: the page's nodes as a plain list.
    if c.list {
        let nodes: Vec<String> = c
            .fields
            .iter()
            .filter_map(|(_, f)| match f {
                ConnField::Nodes(item) => Some(source_item(b, c, &node_row, item)),
                _ => None,
            })
            .collect();
        let node = nodes.first().map_or("null", String::as_str);
        return format!("(select coalesce(json_agg({node}{agg_order}), '[]'::json) from {page})");
    }
    let zero_limit = c.first == Some(0) || c.last == Some(0);
    // Aggregates read the source again, with its conditions and without paging.
    let agg_from = |x: &str| format!("{}{}", from(x), filter_sql(x, false));
    let agg_row = |x: &str| match &c.source {
        Source::Table(_) => x.to_string(),
        Source::Function { .. } => format!("({x}.\"__value\")"),
    };
    let rows = super::aggregates::Rows {
        from: &agg_from,
        row: &agg_row,
    };
    let mut pairs = vec![];
    for (key, f) in &c.fields {
        let v = match f {
            ConnField::Typename(t) => quote_literal(t),
            ConnField::Nodes(item) => {
                let node = source_item(b, c, &node_row, item);
                format!("coalesce(json_agg({node}{agg_order}), '[]'::json)")
            }
            ConnField::Edges(edge) => {
                let mut ep = vec![];
                for (ek, ef) in edge {
                    let v = match ef {
                        EdgeField::Typename(t) => quote_literal(t),
                        EdgeField::Cursor => cursor(&a),
                        EdgeField::Node(item) => source_item(b, c, &node_row, item),
                    };
                    ep.push((ek.clone(), v));
                }
                format!("coalesce(json_agg({}{agg_order}), '[]'::json)", object(&ep))
            }
            ConnField::Aggregates(sel) => super::aggregates::aggregates(b, sel, &rows),
            ConnField::Grouped(g) => super::aggregates::grouped(b, g, &rows),
            ConnField::TotalCount => {
                let ca = b.alias();
                format!(
                    "(select count(*) from {}{})::int",
                    from(&ca),
                    filter_sql(&ca, false)
                )
            }
            ConnField::PageInfo(fields) => {
                let mut pp = vec![];
                for (pk, pf) in fields {
                    // Whether rows lie beyond the page, reading forwards (or backwards from the end).
                    let mut beyond = |n: i64, reverse: bool| {
                        let na = b.alias();
                        let skip = c.offset.unwrap_or(0) + n;
                        format!(
                            "exists(select 1 from {}{}{}{} offset {skip})",
                            from(&na),
                            joins(&na),
                            filter_sql(&na, true),
                            order_sql(&na, reverse, true)
                        )
                    };
                    let v = match pf {
                        PageField::Typename(t) => quote_literal(t),
                        // A page of zero rows has no next or previous page (as in v4).
                        PageField::HasNextPage | PageField::HasPreviousPage if zero_limit => {
                            "false".into()
                        }
                        PageField::HasNextPage => {
                            let within = c.first.map(|first| beyond(first, false));
                            let outside = c.before.is_some().then(|| {
                                let na = b.alias();
                                format!(
                                    "exists(select 1 from {}{}{})",
                                    from(&na),
                                    joins(&na),
                                    outside_sql(&na, true)
                                )
                            });
                            either(within, outside)
                        }
                        // v4: an offset always has a previous page.
                        PageField::HasPreviousPage if c.last.is_none() && c.offset > Some(0) => {
                            "true".into()
                        }
                        PageField::HasPreviousPage => {
                            let within = c.last.map(|last| beyond(last, true));
                            let outside = c.after.is_some().then(|| {
                                let na = b.alias();
                                format!(
                                    "exists(select 1 from {}{}{})",
                                    from(&na),
                                    joins(&na),
                                    outside_sql(&na, false)
                                )
                            });
                            either(within, outside)
                        }
                        PageField::StartCursor => {
                            format!("(array_agg({}{agg_order}))[1]", cursor(&a))
                        }
                        PageField::EndCursor => {
                            format!("(array_agg({}{agg_order}))[count(*)]", cursor(&a))
                        }
                    };
                    pp.push((pk.clone(), v));
                }
                object(&pp)
            }
        };
        pairs.push((key.clone(), v));
    }
    // `group by ()` makes it one row even when only constants or counts are selected.
    format!("(select {} from {page} group by ())", object(&pairs))
}

/// `a or b` of two optional conditions (`false` when neither).
fn either(a: Option<String>, b: Option<String>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => format!("({a} or {b})"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => "false".into(),
    }
}

/// The cursor of the row `x` in `order`: PostGraphile v4's text exactly,
/// `["<order alias>",...,[<values>]]`, compact (as JSON.stringify writes it), so cursors a v4
/// client stored keep working.
pub(super) fn cursor(x: &str, order: &[OrderCol], spec: &str) -> String {
    // Typed, so `array_agg` of it (start and end cursors) resolves.
    if order.is_empty() {
        return "null::text".into();
    }
    // A function's own order: its row number, as v4's natural cursors have it.
    if spec == NATURAL {
        return format!(
            "translate(encode(convert_to(concat('[\"{NATURAL}\",', {x}.\"{ORDINALITY}\", ']'), 'utf8'), 'base64'), E'\\n', '')"
        );
    }
    let head = quote_literal(&format!(
        "[{}[",
        spec.split(',')
            .map(|alias| format!("{},", serde_json::Value::String(alias.to_string())))
            .collect::<String>()
    ));
    let cols: Vec<String> = order
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let text = if o.text_cursor { "::text" } else { "" };
            format!(
                "coalesce(to_json({}{text})::text, 'null')",
                order_value(x, i, o, false)
            )
        })
        .collect();
    format!(
        "translate(encode(convert_to(concat({head}, concat_ws(',', {}), ']]'), 'utf8'), 'base64'), E'\\n', '')",
        cols.join(", ")
    )
}

/// The column holding a row's position in a page whose order is not unique.
const POSITION: &str = "__position";

/// v4's cursor of a row in an order that is not unique: the order's aliases and the row's
/// position, `["category_asc","total_sales_asc",3]`.
fn positional_cursor(x: &str, spec: &str) -> String {
    let head = quote_literal(&format!(
        "[{}",
        spec.split(',')
            .map(|alias| format!("{},", serde_json::Value::String(alias.to_string())))
            .collect::<String>()
    ));
    format!(
        "translate(encode(convert_to(concat({head}, {x}.\"{POSITION}\", ']'), 'utf8'), 'base64'), E'\\n', '')"
    )
}

/// A node of connection `c`: a NULL row a set-returning function yields is a `null` node,
/// as in v4 (an object of nulls otherwise).
fn source_item(b: &mut Builder, c: &Connection, row: &str, item: &Item) -> String {
    let json = item_json(b, row, item);
    match (&c.source, item) {
        (Source::Function { .. }, Item::Row(_)) => {
            format!("(case when {row} is null then null else {json} end)")
        }
        _ => json,
    }
}

/// What the row `x` is sorted on for order column `i`: the column, or a related aggregate
/// (`grouped`: from the related join of `x`, else a correlated subquery).
fn order_value(x: &str, i: usize, o: &OrderCol, grouped: bool) -> String {
    match &o.related {
        Some(r) if grouped => super::aggregates::grouped_order_value(&related_alias(x, i), r),
        Some(r) => super::aggregates::related_order_value(x, r),
        None => format!("{x}.{}", quote_ident(&o.column)),
    }
}

/// The alias of order column `i`'s related join beside the row alias `x`.
fn related_alias(x: &str, i: usize) -> String {
    format!("{x}_r{i}")
}

/// The joins, beside the row alias `x` of `source`, of every order by related rows'
/// aggregate: the related rows grouped by their key, once per statement (or per parent row),
/// rather than a correlated subquery per row of the source. When the connection has
/// conditions, only the groups of rows they admit are computed.
fn related_joins(
    b: &mut Builder,
    source: &str,
    order: &[OrderCol],
    filters: &[ForAlias],
) -> ForAlias {
    if order.iter().all(|o| o.related.is_none()) {
        return Box::new(|_| String::new());
    }
    let p = b.alias();
    let restrict: Vec<String> = filters.iter().map(|f| f(&p)).collect();
    let mut joins: Vec<(usize, super::aggregates::RelatedJoin)> = vec![];
    for (i, o) in order.iter().enumerate() {
        let Some(r) = &o.related else {
            continue;
        };
        let g = b.alias();
        let within = (!restrict.is_empty()).then(|| {
            let outer: Vec<String> = r
                .join
                .iter()
                .map(|(_, pc)| format!("{p}.{}", quote_ident(pc)))
                .collect();
            format!(
                "select {} from {source} as {p} where {}",
                outer.join(", "),
                restrict.join(" and ")
            )
        });
        joins.push((i, super::aggregates::related_order_join(&g, r, within)));
    }
    Box::new(move |x| {
        joins
            .iter()
            .map(|(i, join)| join(x, &related_alias(x, *i)))
            .collect()
    })
}

/// The JSON of one node of a connection, built from `row` (a row, or a function's value).
pub(super) fn item_json(b: &mut Builder, row: &str, item: &Item) -> String {
    match item {
        Item::Row(sel) => row_object(b, row, sel),
        Item::Value(out) => out_expr(b, row, out),
    }
}

/// A cast giving a type without `=` and `<` operators some, for `condition`, `orderBy` and
/// cursors: json compares as jsonb (equal values, whatever their spacing), xml and the
/// geometric types without them by their text.
pub(super) fn no_equality_cast(sql_type: &str) -> &'static str {
    match sql_type.strip_prefix("\"pg_catalog\".") {
        Some("\"json\"") => "::jsonb",
        Some("\"xml\"" | "\"point\"" | "\"line\"" | "\"path\"" | "\"polygon\"") => "::text",
        _ => "",
    }
}

/// Rows strictly after (or before) a cursor in the connection's order: for columns
/// c1..cn with cursor values v1..vn, `c1 > v1 or (c1 = v1 and c2 > v2) or ...`, with each
/// column's direction, and nulls last in the connection's order (as `order_sql` sorts).
fn keyset(
    b: &mut Builder,
    order: &[OrderCol],
    values: &[Param],
    after: bool,
    grouped: bool,
) -> Box<dyn Fn(&str) -> String> {
    let vals: Vec<String> = values
        .iter()
        .zip(order)
        .map(|(p, o)| b.param(p) + no_equality_cast(&o.sql_type))
        .collect();
    let order = order.to_vec();
    Box::new(move |x: &str| {
        let mut ors = vec![];
        for i in 0..order.len() {
            let mut ands: Vec<String> = (0..i)
                .map(|j| {
                    format!(
                        "{}{} is not distinct from {}",
                        order_value(x, j, &order[j], grouped),
                        no_equality_cast(&order[j].sql_type),
                        vals[j]
                    )
                })
                .collect();
            let col = format!(
                "{}{}",
                order_value(x, i, &order[i], grouped),
                no_equality_cast(&order[i].sql_type)
            );
            let v = &vals[i];
            // Forward in an ascending column means greater; nulls are at the end of the
            // order either way (`order_sql`), so after a value come its nulls.
            let cmp = if order[i].asc == after { ">" } else { "<" };
            ands.push(if after {
                format!("({col} {cmp} {v} or ({col} is null and {v} is not null))")
            } else {
                format!("({col} {cmp} {v} or ({v} is null and {col} is not null))")
            });
            ors.push(format!("({})", ands.join(" and ")));
        }
        format!("({})", ors.join(" or "))
    })
}
