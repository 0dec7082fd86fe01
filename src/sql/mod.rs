//! Plan → SQL text + parameters: the only place SQL is written for requests. Identifiers are
//! always quoted, values always bound as text parameters and cast; each read renders to one
//! JSON expression (json_build_object/json_agg keep selection order), so one statement per
//! root field, however deep the nesting.

use crate::plan::*;
use crate::schema::Codec;
use std::fmt::Write as _;

mod aggregates;
mod connection;
mod filter;
mod geometry;
pub mod text;
mod write;
use connection::{connection, cursor, item_json};
pub use text::*;
pub use write::{payload, write};

/// SQL text plus its parameters (all sent as `text`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Statement {
    pub text: String,
    pub params: Vec<Option<String>>,
    /// Per parameter: where a cached plan takes the next request's value from (None: constant).
    pub sources: Vec<Option<ParamSource>>,
}

/// A statement with one request's parameter values.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound<'a> {
    pub text: &'a str,
    pub params: Vec<Option<String>>,
}

impl Statement {
    /// The statement with its own parameter values (as planned).
    pub fn bound(&self) -> Bound<'_> {
        Bound {
            text: &self.text,
            params: self.params.clone(),
        }
    }

    /// The statement with values for another request: constants stay, variable-sourced
    /// parameters take the value `lookup` gives.
    pub fn rebind<E>(
        &self,
        mut lookup: impl FnMut(&ParamSource) -> Result<Option<String>, E>,
    ) -> Result<Bound<'_>, E> {
        let params = self
            .params
            .iter()
            .zip(&self.sources)
            .map(|(constant, source)| match source {
                Some(src) => lookup(src),
                None => Ok(constant.clone()),
            })
            .collect::<Result<_, E>>()?;
        Ok(Bound {
            text: &self.text,
            params,
        })
    }
}

fn qualified(t: &TableRef) -> String {
    format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.name))
}

struct Builder {
    params: Vec<Option<String>>,
    sources: Vec<Option<ParamSource>>,
    aliases: usize,
}

impl Builder {
    fn new() -> Self {
        Builder {
            params: vec![],
            sources: vec![],
            aliases: 0,
        }
    }
    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("__t{}", self.aliases)
    }
    /// `$n::type`, binding the value.
    fn param(&mut self, p: &Param) -> String {
        self.params.push(p.value.clone());
        self.sources.push(p.source.clone());
        format!("${}::{}", self.params.len(), p.sql_type)
    }
    fn finish(self, text: String) -> Statement {
        Statement {
            text,
            params: self.params,
            sources: self.sources,
        }
    }
}

const MONEY: &str = "\"pg_catalog\".\"money\"";

/// `json_build_object(k1, v1, ...)`; past 50 pairs (Postgres allows 100 arguments) a row of
/// aliased columns keeps the order instead.
fn object(pairs: &[(String, String)]) -> String {
    if pairs.len() <= 50 {
        let mut s = String::from("json_build_object(");
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "{}, {}", quote_literal(k), v);
        }
        s.push(')');
        s
    } else {
        let cols: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{v} as {}", quote_ident(k)))
            .collect();
        format!(
            "(select row_to_json(__o) from (select {}) as __o)",
            cols.join(", ")
        )
    }
}

/// A read: `select to_json(<expr>)::text`. Every value reaches the client through Postgres'
/// JSON encoder: nested values as arguments of `json_build_object`/`json_agg`, and the root
/// through `to_json` (the identity on a `json` value, an encoding on anything else), so no
/// value is ever spliced into the response as the text it came from.
pub fn select(s: &Select) -> Statement {
    let mut b = Builder::new();
    let expr = select_expr(&mut b, s);
    b.finish(format!("select to_json({expr})::text"))
}

fn select_expr(b: &mut Builder, s: &Select) -> String {
    match s {
        Select::Connection(c) => connection(b, c, None),
        Select::Row { table, key, sel } => single_row(b, table, sel, |b, a| {
            key.iter()
                .map(|(col, p)| format!("{a}.{} = {}", quote_ident(col), b.param(p)))
                .collect()
        }),
        Select::Function {
            function,
            args,
            returns_set,
            out,
        } => {
            let call = call(b, function, args);
            if *returns_set {
                set_value(b, &call, out)
            } else {
                let a = b.alias();
                let value = out_expr(b, &a, out);
                format!("(select {value} from {call} as {a})")
            }
        }
        Select::Query(fields) => query_object(b, fields),
        Select::Null => "null::json".into(),
    }
}

fn query_object(b: &mut Builder, fields: &[(String, QueryField)]) -> String {
    let pairs: Vec<(String, String)> = fields
        .iter()
        .map(|(k, f)| {
            let v = match f {
                QueryField::Typename => quote_literal("Query"),
                QueryField::NodeId => quote_literal("query"),
                QueryField::Select(s) => select_expr(b, s),
            };
            (k.clone(), v)
        })
        .collect();
    object(&pairs)
}

fn call(b: &mut Builder, f: &TableRef, args: &[Param]) -> String {
    call_with(b, f, None, args)
}

/// The JSON list of the values a set-returning `call` gives, each rendered as `out`.
fn set_value(b: &mut Builder, call: &str, out: &Out) -> String {
    let a = b.alias();
    let value = out_expr(b, &a, out);
    format!("(select coalesce(json_agg({value}), '[]'::json) from {call} as {a})")
}

/// `f(first, args...)`: `first` is the parent row of a computed column.
fn call_with(b: &mut Builder, f: &TableRef, first: Option<&str>, args: &[Param]) -> String {
    let args: Vec<String> = first
        .map(str::to_string)
        .into_iter()
        .chain(args.iter().map(|p| b.param(p)))
        .collect();
    format!("{}({})", qualified(f), args.join(", "))
}

/// The JSON of a value `v` (an SQL expression) rendered as `out`.
fn out_expr(b: &mut Builder, v: &str, out: &Out) -> String {
    match out {
        Out::Scalar(codec) => scalar(v, codec),
        Out::Jwt => format!("to_json({v})"),
        Out::Interval(parts) => {
            let pairs: Vec<(String, String)> = parts
                .iter()
                .map(|(key, part)| {
                    let value = match part {
                        None => quote_literal("Interval"),
                        // `extract` keeps each part's sign and the seconds' fraction, as v4's
                        // parse of the interval's text does.
                        Some("second") => format!("extract(second from {v})::float8"),
                        Some(field) => format!("extract({field} from {v})::int"),
                    };
                    (key.clone(), value)
                })
                .collect();
            format!(
                "(case when {v} is null then null else {} end)",
                object(&pairs)
            )
        }
        Out::Point(parts) => {
            let pairs: Vec<(String, String)> = parts
                .iter()
                .map(|(key, part)| {
                    let value = match part {
                        None => quote_literal("Point"),
                        // Through the base type, so a domain over point subscripts too.
                        Some(i) => format!("(({v})::point)[{i}]"),
                    };
                    (key.clone(), value)
                })
                .collect();
            format!(
                "(case when {v} is null then null else {} end)",
                object(&pairs)
            )
        }
        Out::Geometry(kind, parts) => geometry::geometry_object(b, v, *kind, parts),
        Out::Row(sel) => {
            // A composite value: null stays null (a function returning "no row").
            let row = row_object(b, &format!("({v})"), sel);
            format!("(case when {v} is null then null else {row} end)")
        }
        Out::List(inner) => {
            let e = b.alias();
            let item = out_expr(b, &e, inner);
            list(
                v,
                &format!("(select json_agg({item}) from unnest({v}) as {e})"),
            )
        }
    }
}

fn scalar(v: &str, codec: &Codec) -> String {
    match codec {
        // money's `to_json` is its text (`$1.50`): v4 sends the number.
        Codec::Float { sql_type } if sql_type == MONEY => format!("({v})::numeric"),
        Codec::Native { .. }
        | Codec::Float { .. }
        | Codec::Interval { .. }
        | Codec::Point { .. }
        | Codec::Geometry { .. } => v.to_string(),
        Codec::Text { sql_type } if is_json(sql_type) => compact_json_text(v),
        // inet's output text (`192.168.0.1`), not its cast to text, which always adds the
        // mask (`192.168.0.1/32`); an inet is never blank, so '' is only a NULL's format.
        Codec::Text { sql_type } if sql_type == "\"pg_catalog\".\"inet\"" => {
            format!("nullif(format('%s', {v}), '')")
        }
        Codec::Text { .. } => format!("({v})::text"),
        Codec::Enum { labels, .. } => {
            let mut s = format!("(case ({v})::text");
            for (label, gql) in labels {
                let _ = write!(
                    s,
                    " when {} then {}",
                    quote_literal(label),
                    quote_literal(gql)
                );
            }
            s.push_str(" end)");
            s
        }
        Codec::Array { element, .. } => match **element {
            Codec::Float { ref sql_type } if sql_type == MONEY => list(
                v,
                &format!("(select json_agg((__e)::numeric) from unnest({v}) as __e)"),
            ),
            Codec::Native { .. } | Codec::Float { .. } => format!("to_json({v})"),
            ref inner => list(
                v,
                &format!(
                    "(select json_agg({}) from unnest({v}) as __e)",
                    scalar("__e", inner)
                ),
            ),
        },
        // json as itself, jsonb made json: the value, not a string holding it.
        Codec::Row { .. } | Codec::Jwt { .. } | Codec::Json { .. } => format!("to_json({v})"),
    }
}

fn is_json(sql_type: &str) -> bool {
    matches!(
        sql_type,
        "\"pg_catalog\".\"json\"" | "\"pg_catalog\".\"jsonb\""
    )
}

/// A json/jsonb value as the compact text v4 sends (`{"a":[1,2]}`: no whitespace outside
/// strings, which Postgres' own text has), every digit of its numbers kept; a JSON `null`
/// is GraphQL's null, as in v4.
fn compact_json_text(v: &str) -> String {
    format!(
        "(case when json_typeof(({v})::json) = 'null' then null else regexp_replace(({v})::text, '(\"(?:[^\"\\\\]|\\\\.)*\")|\\s+', '\\1', 'g') end)"
    )
}

/// An array value `v` as the JSON list `agg` builds from its elements: NULL stays null, and
/// an empty array (where `json_agg` gives NULL) is `[]`.
fn list(v: &str, agg: &str) -> String {
    format!("(case when {v} is null then null else coalesce({agg}, '[]'::json) end)")
}

/// The object for one row whose columns are reachable as `row."col"`.
fn row_object(b: &mut Builder, row: &str, sel: &RowSel) -> String {
    let mut pairs = vec![];
    for (key, f) in &sel.fields {
        let v = match f {
            RowField::Typename(t) => quote_literal(t),
            RowField::NodeId(spec) => node_id(row, spec),
            RowField::Column { column, out, .. } => {
                out_expr(b, &format!("{row}.{}", quote_ident(column)), out)
            }
            RowField::Computed {
                function,
                args,
                returns_set: false,
                out,
            } => {
                let v = call_with(b, function, Some(row), args);
                out_expr(b, &v, out)
            }
            RowField::Computed {
                function,
                args,
                returns_set: true,
                out,
            } => {
                let call = call_with(b, function, Some(row), args);
                set_value(b, &call, out)
            }
            RowField::Forward(f) => forward(b, row, f),
            RowField::Backward(c) => connection(b, c, Some(row)),
        };
        pairs.push((key.clone(), v));
    }
    object(&pairs)
}

/// The row a foreign key of `parent` points to.
fn forward(b: &mut Builder, parent: &str, f: &ForwardRow) -> String {
    single_row(b, &f.table, &f.sel, |_, a| {
        f.join
            .iter()
            .map(|(fc, c)| format!("{a}.{} = {parent}.{}", quote_ident(fc), quote_ident(c)))
            .collect()
    })
}

/// `(select <row object> from <table> as <alias> where <conditions on alias>)`.
fn single_row(
    b: &mut Builder,
    table: &TableRef,
    sel: &RowSel,
    conditions: impl FnOnce(&mut Builder, &str) -> Vec<String>,
) -> String {
    let a = b.alias();
    let conds = conditions(b, &a);
    let row = row_object(b, &a, sel);
    format!(
        "(select {row} from {} as {a} where {})",
        qualified(table),
        conds.join(" and ")
    )
}

/// A row's global identifier: base64 of `["<identifier>",<pk as JSON>...]` (the exact text
/// PostGraphile v4 encodes, so ids stay valid across the switch).
fn node_id(row: &str, spec: &NodeIdSpec) -> String {
    let head = quote_literal(&format!(
        "[{},",
        serde_json::Value::String(spec.identifier.clone())
    ));
    let values: Vec<String> = spec
        .key
        .iter()
        // The key values as Postgres' JSON of the raw column, as v4 has them: an int8 as a
        // number, or as a string beyond 2^53 (where JavaScript's numbers stop being exact).
        .map(|(col, codec)| {
            let v = format!("{row}.{}", quote_ident(col));
            if codec.sql_type() == "\"pg_catalog\".\"int8\"" {
                format!("(case when abs({v}) > 9007199254740991 then to_json({v}::text) else to_json({v}) end)::text")
            } else {
                format!("to_json({v})::text")
            }
        })
        .collect();
    format!(
        "translate(encode(convert_to(concat({head}, {}, ']'), 'utf8'), 'base64'), E'\\n', '')",
        values.join(", ',', ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TableRef {
        TableRef {
            schema: "app_public".into(),
            name: name.into(),
        }
    }

    #[test]
    fn row_by_key_is_parameterized_and_quoted() {
        let s = Select::Row {
            table: t("posts"),
            key: vec![(
                "id".into(),
                Param {
                    value: Some("1".into()),
                    sql_type: "\"pg_catalog\".\"int4\"".into(),
                    source: None,
                },
            )],
            sel: RowSel {
                fields: vec![(
                    "title".into(),
                    RowField::Column {
                        column: "title".into(),
                        out: Out::Scalar(Codec::Native {
                            sql_type: "text".into(),
                        }),
                        non_null: false,
                        refresh_token: false,
                    },
                )],
            },
        };
        let st = select(&s);
        assert_eq!(st.text, "select to_json((select json_build_object('title', __t1.\"title\") from \"app_public\".\"posts\" as __t1 where __t1.\"id\" = $1::\"pg_catalog\".\"int4\"))::text");
        assert_eq!(st.params, vec![Some("1".to_string())]);
    }

    #[test]
    fn literals_and_identifiers_escape() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(
            create_database("we\"ird", Some("tpl")),
            "create database \"we\"\"ird\" template \"tpl\""
        );
    }
}
