//! `filter:` → a WHERE condition, the SQL connection-filter v2 writes: each operator's
//! comparison on the column (cast or lowercased as the plugin does), values always bound as
//! parameters. Rendered once with its parameters bound, then per table alias (a connection
//! scans its source again for `totalCount` and `pageInfo`).

use super::*;
use crate::plan::filter::{
    Filter, Operand, OperandCast, Related, RelatedAggregate, RelatedMode, Test, TestValue,
};
use crate::schema::aggregates::AggSpec;
use crate::schema::filter::{AnyCmp, Cmp, Pattern};

/// A piece of condition text, or the place of the row's alias.
enum Piece {
    Text(String),
    Alias,
}

#[derive(Default)]
struct Template(Vec<Piece>);

impl Template {
    fn text(&mut self, s: impl Into<String>) -> &mut Self {
        self.0.push(Piece::Text(s.into()));
        self
    }
    fn alias(&mut self) -> &mut Self {
        self.0.push(Piece::Alias);
        self
    }
    fn render(&self, alias: &str) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Text(s) => s.as_str(),
                Piece::Alias => alias,
            })
            .collect()
    }
}

/// The condition a filter puts on a connection's rows; `function`: the rows come from a
/// set-returning function (the row, or scalar, is the alias' `"__value"`).
pub(super) fn condition(
    b: &mut Builder,
    f: &Filter,
    function: bool,
) -> Box<dyn Fn(&str) -> String> {
    let mut t = Template::default();
    filter(b, f, function, &mut t);
    Box::new(move |alias| t.render(alias))
}

fn filter(b: &mut Builder, f: &Filter, function: bool, t: &mut Template) {
    match f {
        Filter::And(parts) | Filter::Or(parts) => {
            let joiner = if matches!(f, Filter::And(_)) {
                ") and ("
            } else {
                ") or ("
            };
            t.text("((");
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    t.text(joiner);
                }
                filter(b, p, function, t);
            }
            t.text("))");
        }
        Filter::Not(inner) => {
            t.text("(not (");
            filter(b, inner, function, t);
            t.text("))");
        }
        Filter::Test(test) => self::test(b, test, function, t),
        Filter::Related(r) => related(b, r, t),
        Filter::Aggregate(a) => related_aggregate(b, a, t),
    }
}

/// `(select (<tests of aggregates>) from <table> as <inner> where <join> and (<rows>))`: one
/// row whatever the rows, so aggregates of none are compared too (a sum of none is 0), as the
/// plugin's subquery does; row-level security applies to the related rows.
fn related_aggregate(b: &mut Builder, a: &RelatedAggregate, t: &mut Template) {
    let inner_alias = b.alias();
    let render = |b: &mut Builder, f: &Filter| {
        let mut it = Template::default();
        filter(b, f, false, &mut it);
        it.render(&inner_alias)
    };
    let rows = a.rows.as_ref().map(|f| render(b, f));
    let test = render(b, &a.test);
    t.text(format!(
        "(select ({test}) from {} as {inner_alias} where ",
        qualified(&a.table)
    ));
    for (i, (col, outer)) in a.join.iter().enumerate() {
        if i > 0 {
            t.text(" and ");
        }
        t.text(format!("{inner_alias}.{} = ", quote_ident(col)))
            .alias()
            .text(format!(".{}", quote_ident(outer)));
    }
    if let Some(rows) = rows {
        t.text(format!(" and ({rows})"));
    }
    t.text(")");
}

/// `exists(select 1 from <table> as <inner> where <join> and (<inner filter>))`, as the
/// plugin writes it; the related table's row-level security applies inside.
fn related(b: &mut Builder, r: &Related, t: &mut Template) {
    let inner_alias = b.alias();
    let inner = r.inner.as_ref().map(|f| {
        let mut it = Template::default();
        filter(b, f, false, &mut it);
        it.render(&inner_alias)
    });
    t.text(match r.mode {
        RelatedMode::Exists => "(exists(",
        RelatedMode::NotExists | RelatedMode::Every => "(not exists(",
    });
    t.text(format!(
        "select 1 from {} as {inner_alias} where ",
        qualified(&r.table)
    ));
    for (i, (col, outer)) in r.join.iter().enumerate() {
        if i > 0 {
            t.text(" and ");
        }
        t.text(format!("{inner_alias}.{} = ", quote_ident(col)))
            .alias()
            .text(format!(".{}", quote_ident(outer)));
    }
    if let Some(inner) = inner {
        let negate = if r.mode == RelatedMode::Every {
            "not "
        } else {
            ""
        };
        t.text(format!(" and {negate}({inner})"));
    }
    t.text("))");
}

fn operand(o: &Operand, function: bool, t: &mut Template) {
    match o {
        Operand::Column(c) => {
            t.alias().text(format!(".{}", quote_ident(c)));
        }
        Operand::Attribute(inner, attr) => {
            t.text("(");
            operand(inner, function, t);
            t.text(format!(").{}", quote_ident(attr)));
        }
        Operand::Computed(fun) => {
            t.text(format!("{}(", qualified(fun)));
            if function {
                t.text("(").alias().text(".\"__value\")");
            } else {
                t.alias();
            }
            t.text(")");
        }
        Operand::Value => {
            t.alias().text(".\"__value\"");
        }
        Operand::Aggregate {
            spec,
            inner,
            sql_type,
        } => {
            let cast = match spec {
                AggSpec::DistinctCount => super::connection::no_equality_cast(sql_type),
                _ => "",
            };
            let (head, tail) = super::aggregates::aggregate_around(*spec);
            t.text(head);
            operand(inner, function, t);
            t.text(cast);
            t.text(tail);
        }
    }
}

fn operator(cmp: Cmp) -> &'static str {
    match cmp {
        Cmp::Eq => "=",
        Cmp::Ne => "<>",
        Cmp::DistinctFrom => "is distinct from",
        Cmp::NotDistinctFrom => "is not distinct from",
        Cmp::In => "in",
        Cmp::NotIn => "not in",
        Cmp::Lt => "<",
        Cmp::Le => "<=",
        Cmp::Gt => ">",
        Cmp::Ge => ">=",
        Cmp::Like => "like",
        Cmp::NotLike => "not like",
        Cmp::ILike => "ilike",
        Cmp::NotILike => "not ilike",
        Cmp::Contains => "@>",
        Cmp::ContainedBy => "<@",
        Cmp::HasKey => "?",
        Cmp::HasAllKeys => "?&",
        Cmp::HasAnyKeys => "?|",
        Cmp::Overlaps => "&&",
        Cmp::Left => "<<",
        Cmp::Right => ">>",
        Cmp::LeftOrEqual => "<<=",
        Cmp::RightOrEqual => ">>=",
        Cmp::NotExtendsRight => "&<",
        Cmp::NotExtendsLeft => "&>",
        Cmp::Adjacent => "-|-",
        Cmp::IsNull => "is null",
        Cmp::Any(a) => match a {
            AnyCmp::Eq => "=",
            AnyCmp::Ne => "<>",
            AnyCmp::Lt => "<",
            AnyCmp::Le => "<=",
            AnyCmp::Gt => ">",
            AnyCmp::Ge => ">=",
        },
    }
}

fn test(b: &mut Builder, test: &Test, function: bool, t: &mut Template) {
    let mut left = Template::default();
    match test.cast {
        OperandCast::Lower => {
            left.text("lower(");
            operand(&test.operand, function, &mut left);
            left.text(")");
        }
        OperandCast::Text | OperandCast::TextArray => {
            left.text("(");
            operand(&test.operand, function, &mut left);
            left.text(if test.cast == OperandCast::Text {
                ")::text"
            } else {
                ")::text[]"
            });
        }
        OperandCast::None => operand(&test.operand, function, &mut left),
    }
    t.text("(");
    match &test.value {
        TestValue::IsNull(null) => {
            t.0.extend(left.0);
            t.text(if *null { " is null" } else { " is not null" });
        }
        TestValue::One {
            param,
            lower,
            pattern,
        } => {
            let mut v = b.param(param);
            if let Some(p) = pattern {
                // The user's `%` and `_` match themselves (the plugin escapes nothing else).
                let escaped = format!("replace(replace({v}, '%', E'\\\\%'), '_', E'\\\\_')");
                v = match p {
                    Pattern::Includes => format!("('%' || {escaped} || '%')"),
                    Pattern::StartsWith => format!("({escaped} || '%')"),
                    Pattern::EndsWith => format!("('%' || {escaped})"),
                };
            }
            if *lower {
                v = format!("lower({v})");
            }
            if let Cmp::Any(_) = test.cmp {
                t.text(format!("{v} {} any (", operator(test.cmp)));
                t.0.extend(left.0);
                t.text(")");
            } else {
                t.0.extend(left.0);
                t.text(format!(" {} {v}", operator(test.cmp)));
            }
        }
        TestValue::List {
            params,
            lower,
            sql_type,
        } => {
            let list = if params.is_empty() {
                // An empty list: nothing is in it (and everything, even null, is not).
                format!("(select null::{sql_type} limit 0)")
            } else {
                let items: Vec<String> = params
                    .iter()
                    .map(|p| {
                        let v = b.param(p);
                        if *lower {
                            format!("lower({v})")
                        } else {
                            v
                        }
                    })
                    .collect();
                format!("({})", items.join(", "))
            };
            t.0.extend(left.0);
            t.text(format!(" {} {list}", operator(test.cmp)));
        }
    }
    t.text(")");
}
