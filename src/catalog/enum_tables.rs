//! Enum tables (PostGraphile v4.8): a table whose comment has `@enum` and whose primary key
//! is one text column becomes a GraphQL enum of its rows, read once at startup by a second
//! query (`sql/enum_table_values.sql`), run only when such tables exist.

use serde::{Deserialize, Serialize};

use super::{Catalog, Class};

/// Text-like key types v4 accepts for an enum table (`text`, `varchar`, `char`, `bpchar`).
const TEXT_TYPES: &[u32] = &[25, 1043, 18, 1042];

/// An enum table and its rows.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EnumTable {
    pub class_oid: u32,
    /// Attribute number of the key column.
    pub key: i16,
    pub values: Vec<EnumTableValue>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EnumTableValue {
    pub value: String,
    /// The row's `description` column, when the table has one.
    pub description: Option<String>,
}

/// `@enum` as a smart comment (v4 reads it from the comment only, never from smart tags).
fn tagged(class: &Class) -> bool {
    class
        .comment
        .as_deref()
        .is_some_and(|c| c.lines().any(|l| l == "@enum" || l.starts_with("@enum ")))
}

/// The enum tables of `catalog`: (class, key column) for each `@enum` table whose primary key
/// is a single text column; others are reported and left as ordinary tables.
pub(super) fn candidates(catalog: &Catalog) -> Vec<(&Class, i16)> {
    let mut out = vec![];
    for class in catalog.classes.iter().filter(|c| tagged(c)) {
        let key = catalog
            .class_constraints(class.oid)
            .find(|c| c.kind == "p")
            .filter(|c| c.keys.len() == 1)
            .and_then(|c| class.attributes.iter().find(|a| a.num == c.keys[0]))
            .filter(|a| TEXT_TYPES.contains(&a.type_oid));
        match key {
            Some(a) => out.push((class, a.num)),
            None => tracing::warn!(
                "{}.{}: `@enum` ignored: an enum table needs a primary key of one text column",
                class.schema,
                class.name
            ),
        }
    }
    out
}

/// The one statement reading every candidate's rows (`None` when there are none).
pub(super) fn values_sql(tables: &[(&Class, i16)]) -> Option<String> {
    let sources: Vec<crate::sql::text::EnumTableSource> = tables
        .iter()
        .map(|(class, key)| crate::sql::text::EnumTableSource {
            class_oid: class.oid,
            schema: &class.schema,
            table: &class.name,
            key: class
                .attributes
                .iter()
                .find(|a| a.num == *key)
                .map(|a| a.name.as_str()),
            description: class
                .attributes
                .iter()
                .find(|a| a.name == "description")
                .map(|a| a.name.as_str()),
        })
        .collect();
    (!sources.is_empty()).then(|| crate::sql::text::enum_table_values(&sources))
}

/// Groups the statement's rows (class oid, value, description) by table, in row order.
pub(super) fn collect(
    tables: &[(&Class, i16)],
    rows: &[tokio_postgres::Row],
) -> Result<Vec<EnumTable>, tokio_postgres::Error> {
    let mut out: Vec<EnumTable> = tables
        .iter()
        .map(|(c, key)| EnumTable {
            class_oid: c.oid,
            key: *key,
            values: vec![],
        })
        .collect();
    for row in rows {
        let oid: u32 = row.try_get(0)?;
        let value: Option<String> = row.try_get(1)?;
        let description: Option<String> = row.try_get(2)?;
        if let (Some(t), Some(value)) = (out.iter_mut().find(|t| t.class_oid == oid), value) {
            t.values.push(EnumTableValue { value, description });
        }
    }
    // A GraphQL enum needs a value: an empty enum table stays an ordinary table.
    out.retain(|t| {
        if t.values.is_empty() {
            if let Some((c, _)) = tables.iter().find(|(c, _)| c.oid == t.class_oid) {
                tracing::warn!(
                    "{}.{}: `@enum` ignored: the table has no rows",
                    c.schema,
                    c.name
                );
            }
        }
        !t.values.is_empty()
    });
    Ok(out)
}
