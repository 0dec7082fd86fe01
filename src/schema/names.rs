//! Name clashes: one odd object must never take the whole API down. Each table claims the
//! GraphQL type names it generates before it is built; a later table wanting a claimed name
//! is left out, and a field wanted twice on one type keeps the first. Both are logged with
//! the objects involved and the smart tag that resolves the clash.

use super::{inflect, FieldDef, FieldKind, Model};
use std::collections::HashMap;

/// Type names no table may take: the roots, the Relay parts and the scalars.
pub(super) fn reserved(scalars: &[(&str, &str)]) -> HashMap<String, String> {
    let fixed = [
        "Query",
        "Mutation",
        "Subscription",
        "Node",
        "PageInfo",
        "Int",
        "Float",
        "String",
        "Boolean",
        "ID",
        "_EmptyMutation",
    ];
    fixed
        .iter()
        .chain(scalars.iter().map(|(n, _)| n))
        .map(|n| (n.to_string(), format!("the built-in type `{n}`")))
        .collect()
}

/// The type names a table, view or composite type generates, from its inflection base name
/// (its Postgres name, or its `@name` tag).
pub(super) fn table_type_names(base: &str, type_name: &str, kind: char) -> Vec<String> {
    let mut names = vec![type_name.to_string()];
    if kind == 'c' {
        return names;
    }
    names.extend([
        inflect::connection_type(base),
        inflect::edge_type(base),
        inflect::order_by_enum(base),
        inflect::condition_type(base),
    ]);
    if kind == 'r' || kind == 'p' {
        names.extend([
            inflect::input_type(base),
            inflect::patch_type(base),
            inflect::create_input_type(base),
            inflect::create_payload_type(base),
            inflect::update_payload_type(base),
            inflect::delete_payload_type(base),
            inflect::update_by_node_id_input_type(base),
            inflect::delete_by_node_id_input_type(base),
            inflect::upsert_input_type(base),
            inflect::upsert_payload_type(base),
            inflect::unique_key_enum(base),
            inflect::bulk_create_input_type(base),
            inflect::bulk_create_payload_type(base),
        ]);
    }
    names
}

/// Claims `names` for `owner` unless one is taken; returns the name and its holder on a clash.
pub(super) fn claim(
    taken: &mut HashMap<String, String>,
    names: &[String],
    owner: &str,
) -> Result<(), (String, String)> {
    if let Some(n) = names.iter().find(|n| taken.contains_key(*n)) {
        return Err((n.clone(), taken[n].clone()));
    }
    for n in names {
        taken.insert(n.clone(), owner.to_string());
    }
    Ok(())
}

/// What a field stands for, in words a user finds in their database.
pub(super) fn origin(model: &Model, kind: &FieldKind) -> String {
    let table = |i: usize| {
        let t = &model.tables[i];
        format!("{}.{}", t.schema, t.name)
    };
    let columns = |i: usize, cols: &[usize]| {
        let t = &model.tables[i];
        cols.iter()
            .map(|&c| t.columns[c].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match kind {
        FieldKind::Column { table: t, column } => {
            format!(
                "column {}.{}",
                table(*t),
                model.tables[*t].columns[*column].name
            )
        }
        FieldKind::Computed { function }
        | FieldKind::Function { function }
        | FieldKind::ComputedList { function }
        | FieldKind::FunctionList { function } => {
            let f = &model.functions[*function];
            format!("function {}.{}", f.schema, f.name)
        }
        FieldKind::Forward { relation }
        | FieldKind::Backward { relation }
        | FieldKind::BackwardList { relation }
        | FieldKind::PayloadForward { relation } => {
            let r = &model.relations[*relation];
            format!(
                "foreign key {} ({}) → {}",
                table(r.table),
                columns(r.table, &r.columns),
                table(r.foreign_table)
            )
        }
        FieldKind::RowByKey {
            table: t,
            columns: c,
        }
        | FieldKind::Update {
            table: t,
            columns: c,
        }
        | FieldKind::Delete {
            table: t,
            columns: c,
        } => {
            format!("unique key ({}) of {}", columns(*t, c), table(*t))
        }
        FieldKind::AllRows { table: t }
        | FieldKind::AllRowsList { table: t }
        | FieldKind::RowByNodeId { table: t }
        | FieldKind::UpdateByNodeId { table: t }
        | FieldKind::DeleteByNodeId { table: t }
        | FieldKind::Create { table: t }
        | FieldKind::Upsert { table: t }
        | FieldKind::CreateMany { table: t } => format!("table {}", table(*t)),
        other => format!("{other:?}"),
    }
}

/// Keeps the first field of each name (and only valid names), warning about the rest.
pub(super) fn dedupe_fields(model: &Model, owner: &str, fields: Vec<FieldDef>) -> Vec<FieldDef> {
    let mut out: Vec<FieldDef> = Vec::with_capacity(fields.len());
    // Name → position in `out`: the root types have a few fields per table, so a linear search
    // made this quadratic (seconds at thousands of tables).
    let mut seen: std::collections::HashMap<String, usize> =
        std::collections::HashMap::with_capacity(fields.len());
    for f in fields {
        if !inflect::is_valid_name(&f.name) {
            tracing::warn!(
                "`{owner}.{}` left out: not a valid GraphQL name (from {}); rename it with a `@name` smart comment",
                f.name,
                origin(model, &f.kind)
            );
            continue;
        }
        if let Some(first) = seen.get(&f.name).map(|&i| &out[i]) {
            tracing::warn!(
                "two things want the GraphQL name `{owner}.{}`: {} (kept) and {} (left out); \
                 rename one with a `@name` smart comment or hide one with `@omit`",
                f.name,
                origin(model, &first.kind),
                origin(model, &f.kind)
            );
            continue;
        }
        seen.insert(f.name.clone(), out.len());
        out.push(f);
    }
    out
}
