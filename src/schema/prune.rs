//! Types nothing refers to any more (the mutation types of an `@omit create` table, the
//! types of a field left out in a name clash) are dropped, so the schema shows only what
//! can be reached from `Query`, `Mutation` and `Subscription`, as PostGraphile's does.

use super::{Model, TypeDef, TypeRef};
use std::collections::BTreeSet;

pub(super) fn unreachable_types(model: &mut Model) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = std::iter::once(model.query_type.clone())
        .chain(model.mutation_type.clone())
        .chain(model.subscription_type.clone())
        .collect();
    // `node(nodeId:)` can return any type implementing `Node` whose rows may be read
    // (not `@omit read`, nor unreadable under `--no-ignore-rbac`).
    // A set, not a scan of the tables per type (quadratic at thousands of tables).
    let readable_types: std::collections::HashSet<&str> = model
        .tables
        .iter()
        .filter(|t| !t.omit.read)
        .map(|t| t.type_name.as_str())
        .collect();
    for def in model.types.values() {
        if let TypeDef::Object(o) = def {
            let readable = readable_types.contains(o.name.as_str());
            if readable && o.interfaces.iter().any(|i| i == "Node") {
                todo.push(o.name.clone());
            }
        }
    }
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let mut refer = |t: &TypeRef| todo.push(t.innermost().to_string());
        match model.types.get(&name) {
            Some(TypeDef::Object(o)) => {
                for f in &o.fields {
                    refer(&f.ty);
                    f.args.iter().for_each(|a| refer(&a.ty));
                }
                for i in &o.interfaces {
                    todo.push(i.clone());
                }
            }
            Some(TypeDef::Interface(o)) => {
                for f in &o.fields {
                    refer(&f.ty);
                    f.args.iter().for_each(|a| refer(&a.ty));
                }
            }
            Some(TypeDef::Input(o)) => o.fields.iter().for_each(|f| refer(&f.ty)),
            Some(TypeDef::Enum(_) | TypeDef::Scalar(_)) | None => {}
        }
    }
    model.types.retain(|name, _| seen.contains(name));
}
