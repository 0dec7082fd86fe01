//! Arguments: GraphQL input values coerced to the text Postgres parses, parameters that a
//! cached plan re-binds from the next request's variables, cursors and node ids decoded.
use super::*;
use crate::schema::geometry::Geometry;

/// A value bound as a text parameter and cast to `sql_type` in SQL.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub value: Option<String>,
    pub sql_type: String,
    /// Set when the value came from a variable: how to bind the next request's value.
    pub source: Option<ParamSource>,
}

/// Where a parameter's value comes from in the variables, and how to coerce it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSource {
    pub var: VarPath,
    pub codec: Codec,
    /// Set when the variable is a cursor: which of its values this parameter is.
    pub cursor: Option<CursorPart>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CursorPart {
    pub spec: String,
    pub index: usize,
    pub columns: usize,
}

/// This request's value for a parameter that came from a variable (a cached plan re-binds).
pub fn bind(src: &ParamSource, leaf: &Value) -> std::result::Result<Option<String>, String> {
    match &src.cursor {
        None => coerce(&src.codec, leaf),
        Some(part) => match leaf.resolved() {
            Value::String(s) => Ok(json_text(
                &decode_cursor(s, &part.spec, part.columns)?[part.index],
            )),
            Value::Null => Ok(None),
            _ => Err("a cursor must be a string".into()),
        },
    }
}

/// The text Postgres parses for a JSON value taken from a cursor or node id.
pub(super) fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn decode_base64_json(s: &str) -> Option<serde_json::Value> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A cursor is base64 of `["<order alias>", ..., [values of the order columns]]` (PostGraphile
/// v4's form); `spec` is the comma-separated aliases of the ordering it must belong to.
/// The order of a function's connection (the function's own), and its cursors' name: a
/// cursor is `["natural",<row number>]`, as v4 writes it.
pub const NATURAL: &str = "natural";
/// The column numbering a function's rows in the order it returns them (its natural order).
pub const ORDINALITY: &str = "__ordinality";

/// The code of a cursor refused (not a cursor, or `after`/`before` on an order that is not
/// unique): as in v4, its root field is null with the error, and the other fields answer.
pub const INVALID_CURSOR: &str = "INVALID_CURSOR";
/// The code of paging arguments v4 refuses together (`first` with `last`, `offset` with
/// `last`); they fail their root field only too.
pub const INVALID_PAGINATION: &str = "INVALID_PAGINATION";

pub fn decode_cursor(
    s: &str,
    spec: &str,
    columns: usize,
) -> std::result::Result<Vec<serde_json::Value>, String> {
    let invalid = || "Invalid cursor: it does not belong to this ordering".to_string();
    // Not a cursor at all (a blank one too): v4's words.
    let v = decode_base64_json(s).ok_or_else(|| {
        "Invalid cursor, please enter a cursor from a previous request, or null.".to_string()
    })?;
    let parts = v.as_array().ok_or_else(invalid)?;
    if spec == NATURAL && columns == 1 {
        return match parts.as_slice() {
            [serde_json::Value::String(n), row @ serde_json::Value::Number(_)] if n == NATURAL => {
                Ok(vec![row.clone()])
            }
            _ => Err(invalid()),
        };
    }
    let Some((serde_json::Value::Array(values), aliases)) = parts.split_last() else {
        return Err(invalid());
    };
    let same_order = aliases.len() == spec.split(',').count()
        && aliases
            .iter()
            .zip(spec.split(','))
            .all(|(a, s)| a.as_str() == Some(s));
    if !same_order || values.len() != columns {
        return Err(invalid());
    }
    Ok(values.clone())
}

/// A node id is base64 of `["<table>", pk values...]`; returns the table and its key values.
pub fn decode_node_id(
    model: &Model,
    s: &str,
) -> std::result::Result<(usize, Vec<(String, Param)>), String> {
    let invalid = || format!("Invalid nodeId: {s:?}");
    let v = decode_base64_json(s).ok_or_else(invalid)?;
    let parts = v.as_array().ok_or_else(invalid)?;
    let (Some(serde_json::Value::String(identifier)), values) =
        (parts.first(), parts.get(1..).unwrap_or_default())
    else {
        return Err(invalid());
    };
    let table = model.node_table(identifier).ok_or_else(invalid)?;
    let t = &model.tables[table];
    let pk = t.primary_key.as_ref().ok_or_else(invalid)?;
    if pk.len() != values.len() {
        return Err(invalid());
    }
    let key = pk
        .iter()
        .zip(values)
        .map(|(&c, v)| {
            (
                t.columns[c].name.clone(),
                Param {
                    value: json_text(v),
                    sql_type: t.columns[c].codec.sql_type().to_string(),
                    source: None,
                },
            )
        })
        .collect();
    Ok((table, key))
}

/// Coerces a GraphQL input value to the text form Postgres parses for `codec`.
pub fn coerce(codec: &Codec, v: &Value) -> std::result::Result<Option<String>, String> {
    Ok(Some(match (codec, v.resolved()) {
        (_, Value::Null) => return Ok(None),
        (Codec::Json { sql_type }, v) if sql_type.ends_with(".\"hstore\"") => hstore_text(v)?,
        // `--dynamic-json`: whatever was given is the JSON value.
        (Codec::Json { .. }, v) => json_of(v).to_string(),
        (Codec::Enum { labels, .. }, Value::Enum(e) | Value::String(e)) => {
            match labels.iter().find(|(_, gql)| gql == e) {
                Some((label, _)) => label.clone(),
                None => return Err(format!("Value \"{e}\" does not exist in the enum")),
            }
        }
        (Codec::Array { element, .. }, Value::List(items)) => {
            let mut out = String::from("{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match coerce(element, item)? {
                    None => out.push_str("NULL"),
                    Some(s) => quote_element(&mut out, &s),
                }
            }
            out.push('}');
            out
        }
        // `IntervalInput`: Postgres reads `1 years 2.5 seconds`; no part given is no time.
        (Codec::Interval { .. }, Value::Object(fields)) => {
            let mut parts = vec![];
            for (k, v) in fields {
                if !INTERVAL_PARTS.iter().any(|(name, _)| name == k) {
                    return Err(format!("unknown interval field {k}"));
                }
                match v.resolved() {
                    Value::Null => {}
                    Value::Int(n) => parts.push(format!("{n} {k}")),
                    Value::Float(f) => parts.push(format!("{f} {k}")),
                    _ => return Err(format!("the interval field {k} takes a number")),
                }
            }
            if parts.is_empty() {
                "0 seconds".to_string()
            } else {
                parts.join(" ")
            }
        }
        // `PointInput`: both coordinates, as the point's text form `(x,y)`.
        (Codec::Point { .. }, Value::Object(fields)) => point_text(fields)?,
        (Codec::Geometry { kind, .. }, Value::Object(fields)) => geometry_text(*kind, fields)?,
        // A single value where a list is expected: GraphQL input coercion makes it a list of one.
        (Codec::Array { .. }, single) => return coerce(codec, &Value::List(vec![single.clone()])),
        (Codec::Row { .. } | Codec::Jwt { .. }, _) => {
            return Err("composite-type arguments are not supported yet".into())
        }
        (_, Value::Bool(b)) => b.to_string(),
        (_, Value::Int(i)) => i.to_string(),
        (_, Value::Float(f)) => f.to_string(),
        (_, Value::String(s)) => {
            if s.contains('\0') {
                return Err("strings may not contain NUL characters".into());
            }
            s.clone()
        }
        (_, Value::Enum(e)) => e.clone(),
        (_, Value::List(_) | Value::Object(_) | Value::Var(..)) => {
            return Err("a list or object was given where a scalar is expected".into())
        }
    }))
}

/// A `PointInput` as the point's text form `(x,y)`.
fn point_text(fields: &[(String, Value)]) -> std::result::Result<String, String> {
    let mut xy = [None, None];
    for (k, v) in fields {
        let Some(&(_, i)) = POINT_PARTS.iter().find(|(name, _)| name == k) else {
            return Err(format!("unknown point field {k}"));
        };
        xy[usize::from(i)] = Some(match v.resolved() {
            Value::Int(n) => n.to_string(),
            Value::Float(f) => f.to_string(),
            _ => return Err(format!("the point field {k} takes a number")),
        });
    }
    match xy {
        [Some(x), Some(y)] => Ok(format!("({x},{y})")),
        _ => Err("a point takes both x and y".into()),
    }
}

/// A geometric input (`LineInput`, `PathInput`, ...) as the type's text form, which Postgres
/// parses: `[(x1,y1),(x2,y2)]` for a line or segment, `(x1,y1),(x2,y2)` for a box, `[...]`
/// (open) or `(...)` for a path, `(...)` for a polygon, `<(x,y),r>` for a circle.
fn geometry_text(
    kind: Geometry,
    fields: &[(String, Value)],
) -> std::result::Result<String, String> {
    let (name, _) = kind.names();
    let field = |f: &str| {
        fields
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.resolved())
    };
    for (k, _) in fields {
        if !kind.fields().iter().any(|(f, _)| f == k) {
            return Err(format!("unknown {name} field {k}"));
        }
    }
    let point = |f: &str| match field(f) {
        Some(Value::Object(p)) => point_text(p),
        _ => Err(format!("a {name} takes the point {f}")),
    };
    let points = || match field("points") {
        Some(Value::List(items)) => items
            .iter()
            .map(|p| match p.resolved() {
                Value::Object(p) => point_text(p),
                _ => Err(format!("the points of a {name} are points")),
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(|p| p.join(",")),
        _ => Err(format!("a {name} takes a list of points")),
    };
    Ok(match kind {
        Geometry::Line | Geometry::LineSegment => format!("[{},{}]", point("a")?, point("b")?),
        Geometry::Box => format!("{},{}", point("a")?, point("b")?),
        Geometry::Path if matches!(field("isOpen"), Some(Value::Bool(true))) => {
            format!("[{}]", points()?)
        }
        Geometry::Path | Geometry::Polygon => format!("({})", points()?),
        Geometry::Circle => {
            let radius = match field("radius") {
                Some(Value::Int(n)) => n.to_string(),
                Some(Value::Float(f)) => f.to_string(),
                _ => return Err("a Circle takes a radius".into()),
            };
            format!("<{},{radius}>", point("center")?)
        }
    })
}

/// A `KeyValueHash` object as hstore's text form: `"key"=>"value"` pairs, NULL for a null.
fn hstore_text(v: &Value) -> std::result::Result<String, String> {
    let Value::Object(fields) = v.resolved() else {
        return Err("a KeyValueHash takes an object of strings".into());
    };
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        quote_element(&mut out, k);
        out.push_str("=>");
        match v.resolved() {
            Value::Null => out.push_str("NULL"),
            Value::String(s) if !s.contains('\0') => quote_element(&mut out, s),
            _ => {
                return Err(format!(
                    "the KeyValueHash value of {k} must be a string or null"
                ))
            }
        }
    }
    Ok(out)
}

/// A GraphQL input value as the JSON value it stands for (enum values as strings).
fn json_of(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v.resolved() {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => J::from(*f),
        Value::String(s) | Value::Enum(s) => J::String(s.clone()),
        Value::List(items) => J::Array(items.iter().map(json_of).collect()),
        Value::Object(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), json_of(v)))
                .collect(),
        ),
        Value::Var(..) => J::Null,
    }
}

/// An element of an array or row literal, double-quoted (`"` and `\` escaped).
fn quote_element(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        if ch == '"' || ch == '\\' {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

/// Whether values of `codec` hold composite values (built by the planner, with the schema).
fn has_row(codec: &Codec) -> bool {
    match codec {
        Codec::Row { .. } | Codec::Jwt { .. } => true,
        Codec::Array { element, .. } => has_row(element),
        _ => false,
    }
}

impl<'m> Planner<'m> {
    pub(super) fn count_arg(&self, node: &FieldNode, name: &str) -> Result<Option<i64>> {
        match node.arg(name).map(Value::resolved) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Int(n)) if *n >= 0 => Ok(Some(*n)),
            Some(_) => err(node, format!("`{name}` must be a non-negative integer")),
        }
    }

    /// Coerces a GraphQL input value to the text form Postgres parses for `codec`; a value
    /// from the variables remembers where it came from, so a cached plan can re-bind it.
    pub(super) fn param(&self, node: &FieldNode, codec: &Codec, v: &Value) -> Result<Param> {
        let composite = has_row(codec);
        let value = if composite {
            self.composite_text(codec, v)
        } else {
            coerce(codec, v)
        }
        .map_err(|message| PlanError {
            message,
            location: node.location,
            code: INVALID,
        })?;
        // A composite value is built with the schema at hand, so it is planned in (its
        // variables then choose the cached plan) rather than re-bound from the variables.
        let source = match v {
            Value::Var(_, path) if !composite => Some(ParamSource {
                var: path.clone(),
                codec: codec.clone(),
                cursor: None,
            }),
            _ => None,
        };
        Ok(Param {
            value,
            sql_type: codec.sql_type().to_string(),
            source,
        })
    }

    /// The text Postgres parses for a value of a codec holding composite values: a row
    /// literal `(a,"b c",)` of the attributes given by their GraphQL names (absent or null:
    /// NULL), or an array of them.
    pub(super) fn composite_text(
        &self,
        codec: &Codec,
        v: &Value,
    ) -> std::result::Result<Option<String>, String> {
        match (codec, v.resolved()) {
            (_, Value::Null) => Ok(None),
            (Codec::Row { table, .. } | Codec::Jwt { table, .. }, Value::Object(fields)) => {
                let t = self.table(*table);
                if let Some((k, _)) = fields
                    .iter()
                    .find(|(k, _)| !t.columns.iter().any(|c| &c.field == k))
                {
                    return Err(format!("unknown field {k} for a `{}` value", t.type_name));
                }
                let mut out = String::from("(");
                for (i, c) in t.columns.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let given = fields.iter().find(|(k, _)| k == &c.field).map(|(_, v)| v);
                    let text = match given {
                        None => None,
                        Some(v) if has_row(&c.codec) => self.composite_text(&c.codec, v)?,
                        Some(v) => coerce(&c.codec, v)?,
                    };
                    if let Some(text) = text {
                        quote_element(&mut out, &text);
                    }
                }
                out.push(')');
                Ok(Some(out))
            }
            (Codec::Row { .. } | Codec::Jwt { .. }, _) => {
                Err("an object is expected for a composite value".into())
            }
            (Codec::Array { element, .. }, Value::List(items)) => {
                let mut out = String::from("{");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    match self.composite_text(element, item)? {
                        None => out.push_str("NULL"),
                        Some(text) => quote_element(&mut out, &text),
                    }
                }
                out.push('}');
                Ok(Some(out))
            }
            (Codec::Array { .. }, single) => {
                self.composite_text(codec, &Value::List(vec![single.clone()]))
            }
            (other, v) => coerce(other, v),
        }
    }
}
