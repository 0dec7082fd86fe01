//! Mutations' SQL: the write statement (insert, update, delete, function call), which leaves
//! what it wrote in a transaction-local setting, and the payload statement built from it.

use super::*;

/// The write of a mutation, returning the written row (or function result) as JSON text.
pub fn write(w: &Write) -> Statement {
    let mut b = Builder::new();
    let text = match w {
        Write::Insert { table, values } => {
            format!(
                "{} returning to_json(__w)::text as j",
                insert(&mut b, table, values)
            )
        }
        Write::Upsert {
            table,
            values,
            conflict,
            update,
        } => {
            let target: Vec<String> = conflict.iter().map(|c| quote_ident(c)).collect();
            // With nothing to update the key is set to itself, so the row still comes back.
            let sets: Vec<String> = if update.is_empty() { conflict } else { update }
                .iter()
                .map(|c| format!("{0} = excluded.{0}", quote_ident(c)))
                .collect();
            format!(
                "{} on conflict ({}) do update set {} returning to_json(__w)::text as j",
                insert(&mut b, table, values),
                target.join(", "),
                sets.join(", ")
            )
        }
        Write::InsertMany {
            table,
            columns,
            rows,
        } => {
            let cols: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
            let rows: Vec<String> = rows
                .iter()
                .map(|r| {
                    let vals: Vec<String> = r
                        .iter()
                        .map(|p| p.as_ref().map_or("default".into(), |p| b.param(p)))
                        .collect();
                    format!("({})", vals.join(", "))
                })
                .collect();
            format!(
                "insert into {} as __w ({}) values {} returning to_json(__w)::text as j",
                qualified(table),
                cols.join(", "),
                rows.join(", ")
            )
        }
        Write::Update { table, set, key } => {
            let sets: Vec<String> = set
                .iter()
                .map(|(c, p)| format!("{} = {}", quote_ident(c), b.param(p)))
                .collect();
            let conds: Vec<String> = key
                .iter()
                .map(|(c, p)| format!("__w.{} = {}", quote_ident(c), b.param(p)))
                .collect();
            format!(
                "update {} as __w set {} where {} returning to_json(__w)::text as j",
                qualified(table),
                sets.join(", "),
                conds.join(" and ")
            )
        }
        Write::Delete { table, key } => {
            let conds: Vec<String> = key
                .iter()
                .map(|(c, p)| format!("__w.{} = {}", quote_ident(c), b.param(p)))
                .collect();
            format!(
                "delete from {} as __w where {} returning to_json(__w)::text as j",
                qualified(table),
                conds.join(" and ")
            )
        }
        Write::Call {
            function,
            args,
            returns,
            returns_set,
            ..
        } => {
            let call = call(&mut b, function, args);
            // Rows travel as JSON objects; any other value as its output text (`format`, not a
            // cast, which would trim char(n)), and that casts back exactly: a JSON array, for
            // one, is no Postgres array literal.
            let item = match returns {
                Codec::Row { .. } | Codec::Jwt { .. } => "to_json(__w)",
                _ => "to_json(case when __w is null then null else format('%s', __w) end)",
            };
            if *returns_set {
                format!(
                    "select coalesce(json_agg({item}), '[]'::json)::text as j from {call} as __w"
                )
            } else {
                format!("select {item}::text as j from {call} as __w")
            }
        }
    };
    // The written row stays in the transaction for the payload statement, so both can be sent
    // together; the count tells whether an update or delete found its row.
    // Many rows travel as one JSON array, in the order they were written.
    let written = match w {
        Write::InsertMany { .. } => "json_agg(__r.j::json)::text",
        _ => "max(__r.j)",
    };
    b.finish(format!("with __r as ({text}) select count(*), set_config({WRITTEN}, coalesce({written}, ''), true) from __r"))
}

/// `insert into <table> as __w (<columns>) values (<params>)`, or `default values`.
fn insert(b: &mut Builder, table: &TableRef, values: &[(String, Param)]) -> String {
    if values.is_empty() {
        return format!("insert into {} as __w default values", qualified(table));
    }
    let cols: Vec<String> = values.iter().map(|(c, _)| quote_ident(c)).collect();
    let vals: Vec<String> = values.iter().map(|(_, p)| b.param(p)).collect();
    format!(
        "insert into {} as __w ({}) values ({})",
        qualified(table),
        cols.join(", "),
        vals.join(", ")
    )
}

/// The transaction-local setting carrying the written row (JSON) from write to payload.
const WRITTEN: &str = "'postgraph.written'";

/// The written row's JSON, as the write statement left it (NULL when there is none).
fn written_json() -> String {
    format!("nullif(current_setting({WRITTEN}, true), '')::json")
}

/// The payload of a mutation, built from the written row the write statement left in the
/// transaction, so relations and `query` see the database after the write.
pub fn payload(m: &Mutation) -> Statement {
    let table_type = |t: &TableRef| Some(qualified(t));
    let row_type = match &m.write {
        Write::Insert { table, .. }
        | Write::Upsert { table, .. }
        | Write::InsertMany { table, .. }
        | Write::Update { table, .. }
        | Write::Delete { table, .. } => table_type(table),
        // A function returning one row: its relations and edge join on it.
        Write::Call {
            returns: Codec::Row { sql_type, .. },
            returns_set: false,
            record,
            ..
        } if record.is_empty() => Some(sql_type.clone()),
        Write::Call { .. } => None,
    };
    let row_type = row_type.as_deref();
    let mut b = Builder::new();
    let json = written_json();
    let cmid = b.param(&m.client_mutation_id);
    // The row as the write returned it, typed again so relations can join on its columns.
    let written_row = format!(
        "(json_populate_record(null::{}, {json}))",
        row_type.unwrap_or("record")
    );
    let mut pairs = vec![];
    for (key, f) in &m.payload {
        let v = match f {
            PayloadField::Typename(t) => quote_literal(t),
            PayloadField::NodeId(spec) => node_id(&written_row, spec),
            PayloadField::ClientMutationId => cmid.clone(),
            PayloadField::Query(fields) => query_object(&mut b, fields),
            PayloadField::Result(out) => match (&m.write, row_type) {
                // A function's outputs: each object read back as a record of their types.
                (
                    Write::Call {
                        returns_set,
                        record,
                        ..
                    },
                    _,
                ) if !record.is_empty() => {
                    let r = b.alias();
                    let defs: Vec<String> = record
                        .iter()
                        .map(|(name, ty)| format!("{} {ty}", quote_ident(name)))
                        .collect();
                    let defs = defs.join(", ");
                    if *returns_set {
                        let e = b.alias();
                        let item = match out {
                            Out::List(inner) => out_expr(&mut b, &r, inner),
                            other => out_expr(&mut b, &r, other),
                        };
                        format!("(select json_agg({item}) from json_array_elements({json}) as {e}, json_to_record({e}.value) as {r}({defs}))")
                    } else {
                        let item = out_expr(&mut b, &r, out);
                        format!("(select {item} from json_to_record({json}) as {r}({defs}))")
                    }
                }
                (
                    Write::Call {
                        returns_set: true,
                        returns,
                        ..
                    },
                    _,
                ) => {
                    let e = b.alias();
                    let value = populate(&format!("{e}.value"), returns);
                    let item = out_expr(&mut b, &value, out);
                    format!("(select json_agg({item}) from json_array_elements({json}) as {e})")
                }
                (Write::InsertMany { .. }, Some(rt)) => {
                    let e = b.alias();
                    let row = format!("(json_populate_record(null::{rt}, {e}.value))");
                    let item = match out {
                        Out::List(inner) => out_expr(&mut b, &row, inner),
                        other => out_expr(&mut b, &row, other),
                    };
                    format!("(select coalesce(json_agg({item} order by {e}.ordinality), '[]'::json) from json_array_elements({json}) with ordinality as {e}(value, ordinality))")
                }
                (Write::Call { returns, .. }, _) => {
                    out_expr(&mut b, &populate(&json, returns), out)
                }
                (_, Some(_)) => out_expr(&mut b, &written_row, out),
                (_, None) => "null".into(),
            },
            PayloadField::Forward(f) => forward(&mut b, &written_row, f),
            PayloadField::Edge(e) => {
                let mut pairs = vec![];
                for (k, f) in &e.fields {
                    let v = match f {
                        EdgeField::Typename(t) => quote_literal(t),
                        EdgeField::Cursor => cursor(&written_row, &e.order, &e.cursor_spec),
                        EdgeField::Node(item) => item_json(&mut b, &written_row, item),
                    };
                    pairs.push((k.clone(), v));
                }
                // No row (a function that returned none): no edge.
                format!(
                    "(case when {written_row} is null then null else {} end)",
                    object(&pairs)
                )
            }
        };
        pairs.push((key.clone(), v));
    }
    // `to_json` as for reads: the payload reaches the client as Postgres encoded it.
    let text = format!("select to_json({})::text", object(&pairs));
    b.finish(text)
}

/// Turns a JSON value back into a value of the function's return type (a row from its
/// object, anything else from the text form the write left in a JSON string).
fn populate(json: &str, codec: &Codec) -> String {
    match codec {
        Codec::Row { sql_type, .. } | Codec::Jwt { sql_type, .. } => {
            format!("json_populate_record(null::{sql_type}, {json})")
        }
        other => format!("({json} #>> '{{}}')::{}", other.sql_type()),
    }
}
