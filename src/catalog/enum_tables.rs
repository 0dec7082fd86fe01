//! Enum tables (PostGraphile v4.8): a table or view whose comment has `@enum` becomes a GraphQL
//! enum of its primary key's values (a view's key comes from its `@primaryKey` smart tag), and
//! so does every unique constraint tagged `@enum` (`comment on constraint ... is '@enum'`), on
//! any table. The rows are read once at startup by a second query
//! (`sql/enum_table_values.sql`), run only when such keys exist.

use serde::{Deserialize, Serialize};

use super::{Catalog, Class, Constraint};

/// Text-like key types v4 accepts for an enum table (`text`, `varchar`, `char`, `bpchar`).
const TEXT_TYPES: &[u32] = &[25, 1043, 18, 1042];

/// One enum: a key column of a table or view, and the values found in it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EnumTable {
    pub class_oid: u32,
    /// Attribute number of the key column.
    pub key: i16,
    /// The `@enum` unique constraint's name; `None` for the primary key of an `@enum` table
    /// or view (v4 names the enum after the table alone then).
    pub constraint: Option<String>,
    /// The constraint's comment, whose tags (`@enumName`) win over the table's.
    pub constraint_comment: Option<String>,
    /// Whether the table itself is `@enum` (then it is not exposed as a table).
    pub whole_table: bool,
    pub values: Vec<EnumTableValue>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EnumTableValue {
    pub value: String,
    /// The row's description (its `description` column, or the one tagged `@enumDescription`).
    pub description: Option<String>,
}

/// An enum key found in the catalog, before its rows are read.
pub(super) struct Candidate<'a> {
    class: &'a Class,
    key: i16,
    constraint: Option<&'a Constraint>,
    whole_table: bool,
}

/// The value of a leading smart-comment tag line (`@key` → `Some("")`); v4 reads tags only
/// before the description. The catalog's own small reader: `schema::tags` sits above it.
fn tag<'c>(comment: Option<&'c str>, key: &str) -> Option<&'c str> {
    for line in comment?.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let rest = line.strip_prefix('@')?;
        if let Some(after) = rest.strip_prefix(key) {
            match after.chars().next() {
                None => return Some(""),
                Some(c) if c.is_whitespace() => return Some(after.trim()),
                _ => {}
            }
        }
    }
    None
}

fn text_column(class: &Class, num: i16) -> bool {
    class
        .attributes
        .iter()
        .any(|a| a.num == num && TEXT_TYPES.contains(&a.type_oid))
}

/// The enum keys of `catalog`: the primary key (or a view's `@primaryKey`) of each `@enum`
/// table and every `@enum` unique constraint, each of one text column; others are reported
/// and left alone.
pub(super) fn candidates(catalog: &Catalog) -> Vec<Candidate<'_>> {
    let mut out = vec![];
    for class in &catalog.classes {
        let whole_table = tag(class.comment.as_deref(), "enum").is_some();
        let owner = || format!("{}.{}", class.schema, class.name);
        if whole_table {
            let pk = catalog.class_constraints(class.oid).find(|c| c.kind == "p");
            let key = match pk {
                Some(c) => (c.keys.len() == 1).then(|| c.keys[0]),
                // A view has no constraints: `@primaryKey col` declares its key.
                None => tag(class.comment.as_deref(), "primaryKey").and_then(|cols| {
                    let mut cols = cols.split(',').map(|c| c.trim());
                    let col = cols.next().filter(|_| cols.next().is_none())?;
                    class
                        .attributes
                        .iter()
                        .find(|a| a.name == col)
                        .map(|a| a.num)
                }),
            };
            match key.filter(|k| text_column(class, *k)) {
                Some(key) => out.push(Candidate {
                    class,
                    key,
                    constraint: pk,
                    whole_table,
                }),
                None => tracing::warn!(
                    "{}: `@enum` ignored: an enum table needs a primary key (or a view's \
                     `@primaryKey`) of one text column",
                    owner()
                ),
            }
        }
        for con in catalog
            .class_constraints(class.oid)
            .filter(|c| c.kind == "u" && tag(c.comment.as_deref(), "enum").is_some())
        {
            match con.keys[..] {
                [key] if text_column(class, key) => out.push(Candidate {
                    class,
                    key,
                    constraint: Some(con),
                    whole_table: false,
                }),
                _ => tracing::warn!(
                    "{}: `@enum` on constraint {} ignored: it needs one text column",
                    owner(),
                    con.name
                ),
            }
        }
    }
    out
}

/// The column describing an enum's values: `description`, or one tagged `@enumDescription`;
/// text only, as v4 reads only the text columns of an enum table.
fn description_column(class: &Class) -> Option<&str> {
    class
        .attributes
        .iter()
        .filter(|a| TEXT_TYPES.contains(&a.type_oid))
        .find(|a| a.name == "description" || tag(a.comment.as_deref(), "enumDescription").is_some())
        .map(|a| a.name.as_str())
}

/// The one statement reading every candidate's rows (`None` when there are none).
pub(super) fn values_sql(candidates: &[Candidate<'_>]) -> Option<String> {
    let sources: Vec<crate::sql::text::EnumTableSource> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| crate::sql::text::EnumTableSource {
            source: i,
            schema: &c.class.schema,
            table: &c.class.name,
            key: c
                .class
                .attributes
                .iter()
                .find(|a| a.num == c.key)
                .map(|a| a.name.as_str()),
            description: description_column(c.class),
        })
        .collect();
    (!sources.is_empty()).then(|| crate::sql::text::enum_table_values(&sources))
}

/// Groups the statement's rows (source index, value, description) by enum, in row order; rows
/// without a value are skipped, as in v4.
pub(super) fn collect(
    candidates: &[Candidate<'_>],
    rows: &[tokio_postgres::Row],
) -> Result<Vec<EnumTable>, tokio_postgres::Error> {
    let mut out: Vec<EnumTable> = candidates
        .iter()
        .map(|c| EnumTable {
            class_oid: c.class.oid,
            key: c.key,
            constraint: c
                .constraint
                .filter(|con| con.kind == "u")
                .map(|con| con.name.clone()),
            constraint_comment: c.constraint.and_then(|con| con.comment.clone()),
            whole_table: c.whole_table,
            values: vec![],
        })
        .collect();
    for row in rows {
        let source: i32 = row.try_get(0)?;
        let value: Option<String> = row.try_get(1)?;
        let description: Option<String> = row.try_get(2)?;
        if let (Some(t), Some(value)) = (out.get_mut(source as usize), value) {
            t.values.push(EnumTableValue { value, description });
        }
    }
    // A GraphQL enum needs a value: an enum without rows is left out (its table stays).
    out.retain(|t| {
        if t.values.is_empty() {
            if let Some(c) = candidates.iter().find(|c| c.class.oid == t.class_oid) {
                tracing::warn!(
                    "{}.{}: `@enum` ignored: no rows with a value",
                    c.class.schema,
                    c.class.name
                );
            }
        }
        !t.values.is_empty()
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::tag;

    #[test]
    fn only_leading_tag_lines_are_read() {
        let c = Some("@enum\n@primaryKey code\nSizes.\n@omit");
        assert_eq!(tag(c, "enum"), Some(""));
        assert_eq!(tag(c, "primaryKey"), Some("code"));
        assert_eq!(tag(c, "omit"), None);
        assert_eq!(tag(Some("@enumName X"), "enum"), None);
        assert_eq!(tag(Some("@enumName X"), "enumName"), Some("X"));
    }
}
