//! `filter:` → a WHERE condition, the SQL connection-filter v2 writes: each operator's
//! comparison on the column (cast or lowercased as the plugin does), values always bound as
//! parameters. Rendered once with its parameters bound, then per table alias (a connection
//! scans its source again for `totalCount` and `pageInfo`).

use super::*;
use crate::plan::filter::{Filter, Operand, OperandCast, Test, TestValue};
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
    }
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
