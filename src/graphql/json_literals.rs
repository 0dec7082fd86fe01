//! With `--dynamic-json`, a `JSON` argument may be written inline as an object or a list
//! literal (`echo(j: {a: [1, 2]})`), as v4's JSON scalar parses any literal; so may a
//! `KeyValueHash` (hstore) object. juniper's parser and validation refuse an object for a
//! scalar, so such a document is read without types, a copy with those literals replaced by a
//! string is validated, and the document itself (literals intact) is what the walk reads.

use super::document::{location, unknown_variable_types, untyped_root, Document};
use super::schema::{Root, S};
use super::GraphqlError;
use juniper::meta::MetaType;
use juniper::parser::parse_document_source;
use juniper::validation::{visit_all_rules, ValidatorContext};
use juniper::{Definition, InputValue, OperationType, Selection};

/// Whether the schema has a scalar that takes object literals.
pub(super) fn applies(root: &Root) -> bool {
    let model = &root.query_info.model;
    model.dynamic_json || model.types.contains_key("KeyValueHash")
}

/// How many lists wrap a type (juniper keeps its modifiers private; `[[JSON!]]!` shows them).
pub(super) fn lists(t: &impl std::fmt::Display) -> usize {
    t.to_string().matches('[').count()
}

/// Replaces, in `v` of type `name` under `lists_left` lists, every object or list given for a
/// JSON-like scalar by a string; true when something was replaced.
pub(super) fn mask(v: &mut InputValue<S>, name: &str, lists_left: usize, root: &Root) -> bool {
    if lists_left > 0 {
        return match v {
            InputValue::List(items) => items.iter_mut().fold(false, |changed, i| {
                mask(&mut i.item, name, lists_left - 1, root) | changed
            }),
            // A single value where a list is expected is a list of one.
            other => mask(other, name, lists_left - 1, root),
        };
    }
    match root.schema.concrete_type_by_name(name) {
        Some(MetaType::Scalar(s))
            if (s.name == "JSON" && root.query_info.model.dynamic_json)
                || s.name == "KeyValueHash" =>
        {
            let structured = matches!(v, InputValue::List(_) | InputValue::Object(_));
            if structured {
                *v = InputValue::scalar("JSON");
            }
            structured
        }
        Some(MetaType::InputObject(o)) => match v {
            InputValue::Object(fields) => fields.iter_mut().fold(false, |changed, (k, val)| {
                let Some(f) = o.input_fields.iter().find(|f| f.name == k.item) else {
                    return changed;
                };
                let t = &f.arg_type;
                mask(&mut val.item, t.innermost_name(), lists(t), root) | changed
            }),
            _ => false,
        },
        _ => false,
    }
}

/// Masks the arguments of the fields of `selections`, read on type `parent`.
fn mask_selections(selections: &mut [Selection<'_, S>], parent: &str, root: &Root) -> bool {
    let mut changed = false;
    for selection in selections {
        match selection {
            Selection::Field(f) => {
                let field = &mut f.item;
                let Some(meta) = root
                    .schema
                    .concrete_type_by_name(parent)
                    .and_then(|t| t.field_by_name(field.name.item))
                else {
                    continue;
                };
                if let (Some(args), Some(defs)) = (&mut field.arguments, &meta.arguments) {
                    for (name, value) in args.item.items.iter_mut() {
                        if let Some(def) = defs.iter().find(|d| d.name == name.item) {
                            let t = &def.arg_type;
                            changed |= mask(&mut value.item, t.innermost_name(), lists(t), root);
                        }
                    }
                }
                if let Some(set) = &mut field.selection_set {
                    let child = meta.field_type.innermost_name().to_string();
                    changed |= mask_selections(set, &child, root);
                }
            }
            Selection::InlineFragment(fragment) => {
                let on = fragment
                    .item
                    .type_condition
                    .as_ref()
                    .map_or(parent, |t| t.item)
                    .to_string();
                changed |= mask_selections(&mut fragment.item.selection_set, &on, root);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
    changed
}

/// The document of `source` when it is valid once its JSON literals are taken as JSON values:
/// None when it has no such literals (the caller reports its own errors), the validation
/// errors of the masked copy when it is still not valid.
pub(super) fn accept<'a>(
    root: &Root,
    source: &'a str,
    limits: &super::limits::Limits,
) -> Option<Result<Document<'a>, GraphqlError>> {
    if !applies(root) {
        return None;
    }
    let document: Document<'a> = parse_document_source(source, &untyped_root().schema).ok()?;
    let mut masked = document.clone();
    let mut changed = false;
    for def in masked.iter_mut() {
        match def {
            Definition::Operation(op) => {
                let schema = &root.schema;
                let ty = match op.item.operation_type {
                    OperationType::Query => Some(schema.concrete_query_type()),
                    OperationType::Mutation => schema.concrete_mutation_type(),
                    OperationType::Subscription => schema.concrete_subscription_type(),
                };
                if let Some(name) = ty.and_then(|t| t.name()) {
                    let name = name.to_string();
                    changed |= mask_selections(&mut op.item.selection_set, &name, root);
                }
            }
            Definition::Fragment(f) => {
                let on = f.item.type_condition.item.to_string();
                changed |= mask_selections(&mut f.item.selection_set, &on, root);
            }
        }
    }
    if !changed {
        return None;
    }
    if let Err(e) = super::limits::check(&document, limits) {
        return Some(Err(e.into()));
    }
    if let Err(e) = unknown_variable_types(root, &masked) {
        return Some(Err(e));
    }
    let mut ctx = ValidatorContext::new(&root.schema, &masked);
    visit_all_rules(&mut ctx, &masked);
    let errors = ctx.into_errors();
    if errors.is_empty() {
        Some(Ok(document))
    } else {
        Some(Err(GraphqlError::Validation(
            errors
                .iter()
                .map(|e| {
                    (
                        e.message().to_string(),
                        e.locations().iter().map(location).collect(),
                    )
                })
                .collect(),
        )))
    }
}
