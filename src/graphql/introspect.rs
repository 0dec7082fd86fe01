//! Introspection answers written straight to JSON text from juniper's schema metadata.
//! juniper's executor first builds an answer as a `Value` tree, about ten times the size of
//! its text: hundreds of megabytes per request on a schema of thousands of tables. The output
//! is juniper's own, field for field (tests/introspection_writer.rs compares the two).

use super::document::{FieldNode, Value};
use super::schema::{Root, S};
use juniper::meta::{Argument, DeprecationStatus, EnumValue, Field, MetaType};
use juniper::{SchemaType, Type};

/// Names of juniper's stand-ins for absent roots, left out of `__schema.types` as juniper does.
const HIDDEN_TYPES: [&str; 2] = ["_EmptyMutation", "_EmptySubscription"];

/// The value of the root field `field` (`__schema` or `__type(name:)`) as JSON text.
pub fn root_field(root: &Root, field: &FieldNode) -> String {
    let mut w = Writer {
        schema: &root.schema,
        out: Vec::new(),
    };
    match field.name.as_str() {
        "__schema" => w.schema(&field.selection),
        "__type" => match field.arg("name").and_then(|v| match v.resolved() {
            Value::String(s) => w.schema.concrete_type_by_name(s),
            _ => None,
        }) {
            Some(t) => w.named(t, &field.selection),
            None => w.null(),
        },
        _ => w.null(),
    }
    String::from_utf8(w.out).expect("JSON text is UTF-8")
}

/// A type reference as introspection walks it: `ofType` by `ofType`.
enum TypeRef<'s> {
    Named(&'s MetaType<S>),
    NonNull(Box<TypeRef<'s>>),
    List(Box<TypeRef<'s>>),
}

struct Writer<'s> {
    schema: &'s SchemaType<S>,
    out: Vec<u8>,
}

/// The fields of `selection` that apply to an object of type `typename`.
fn applying<'f>(
    selection: &'f [FieldNode],
    typename: &'f str,
) -> impl Iterator<Item = &'f FieldNode> {
    selection
        .iter()
        .filter(move |f| f.on_type.as_deref().is_none_or(|t| t == typename))
}

/// `includeDeprecated` (false when absent).
fn include_deprecated(field: &FieldNode) -> bool {
    matches!(
        field.arg("includeDeprecated").map(Value::resolved),
        Some(Value::Bool(true))
    )
}

fn kind(t: &MetaType<S>) -> &'static str {
    match t {
        MetaType::Scalar(_) => "SCALAR",
        MetaType::Object(_) => "OBJECT",
        MetaType::Interface(_) => "INTERFACE",
        MetaType::Union(_) => "UNION",
        MetaType::Enum(_) => "ENUM",
        MetaType::InputObject(_) => "INPUT_OBJECT",
        MetaType::List(_) => "LIST",
        MetaType::Nullable(_) | MetaType::Placeholder(_) => "NON_NULL",
    }
}

/// juniper's order of `__schema.types`: by kind, then by name.
fn kind_rank(t: &MetaType<S>) -> u8 {
    match t {
        MetaType::Enum(_) => 0,
        MetaType::InputObject(_) => 1,
        MetaType::Interface(_) => 2,
        MetaType::Scalar(_) => 3,
        MetaType::Object(_) => 4,
        MetaType::Union(_) => 5,
        _ => 6,
    }
}

impl<'s> Writer<'s> {
    fn raw(&mut self, s: &str) {
        self.out.extend_from_slice(s.as_bytes());
    }

    fn null(&mut self) {
        self.raw("null");
    }

    fn string(&mut self, s: &str) {
        serde_json::to_writer(&mut self.out, s).expect("a string serializes");
    }

    fn opt_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.null(),
        }
    }

    fn bool(&mut self, b: bool) {
        self.raw(if b { "true" } else { "false" });
    }

    /// An object of introspection type `typename`: each applying field's key, then its value
    /// written by `value` (`__typename` is answered here).
    fn object(
        &mut self,
        typename: &str,
        selection: &[FieldNode],
        mut value: impl FnMut(&mut Self, &FieldNode),
    ) {
        self.raw("{");
        for (i, f) in applying(selection, typename).enumerate() {
            if i > 0 {
                self.raw(",");
            }
            self.string(&f.key);
            self.raw(":");
            if f.name == "__typename" {
                self.string(typename);
            } else {
                value(self, f);
            }
        }
        self.raw("}");
    }

    fn list<T>(&mut self, items: impl IntoIterator<Item = T>, mut item: impl FnMut(&mut Self, T)) {
        self.raw("[");
        for (i, t) in items.into_iter().enumerate() {
            if i > 0 {
                self.raw(",");
            }
            item(self, t);
        }
        self.raw("]");
    }

    fn schema(&mut self, selection: &[FieldNode]) {
        let schema = self.schema;
        self.object("__Schema", selection, |w, f| match f.name.as_str() {
            "types" => {
                let mut types: Vec<&MetaType<S>> = schema
                    .type_list()
                    .iter()
                    .filter_map(|t| schema.concrete_type_by_name(t.to_string()))
                    .filter(|t| !t.name().is_some_and(|n| HIDDEN_TYPES.contains(&n.as_str())))
                    .collect();
                types.sort_by(|a, b| (kind_rank(a), a.name()).cmp(&(kind_rank(b), b.name())));
                w.list(types, |w, t| w.named(t, &f.selection));
            }
            "queryType" => w.named(schema.concrete_query_type(), &f.selection),
            "mutationType" => match schema.concrete_mutation_type() {
                Some(t) => w.named(t, &f.selection),
                None => w.null(),
            },
            "subscriptionType" => match schema.concrete_subscription_type() {
                Some(t) => w.named(t, &f.selection),
                None => w.null(),
            },
            "directives" => {
                let directives = schema.directive_list();
                w.list(directives, |w, d| {
                    w.object("__Directive", &f.selection, |w, g| match g.name.as_str() {
                        "name" => w.string(&d.name),
                        "description" => w.opt_string(d.description.as_deref()),
                        "isRepeatable" => w.bool(d.is_repeatable),
                        "locations" => w.list(&d.locations, |w, l| {
                            w.string(&l.to_string().to_uppercase().replace(' ', "_"))
                        }),
                        "args" => {
                            let all = include_deprecated(g);
                            w.list(
                                d.arguments
                                    .iter()
                                    .filter(|a| all || !a.deprecation_status.is_deprecated()),
                                |w, a| w.input_value(a, &g.selection),
                            )
                        }
                        "onOperation" => {
                            w.bool(d.locations.iter().any(|l| l.to_string() == "query"))
                        }
                        "onFragment" => w.bool(d.locations.iter().any(|l| {
                            matches!(
                                l.to_string().as_str(),
                                "fragment definition" | "inline fragment" | "fragment spread"
                            )
                        })),
                        "onField" => w.bool(d.locations.iter().any(|l| l.to_string() == "field")),
                        _ => w.null(),
                    })
                });
            }
            // The schema's own description: none is set.
            _ => w.null(),
        });
    }

    /// A type reference (`type` of a field or input value).
    fn reference(&mut self, t: &Type, selection: &[FieldNode]) {
        match self.resolve(&t.to_string()) {
            Some(r) => self.type_ref(&r, selection),
            None => self.null(),
        }
    }

    /// `[Foo!]!` → NonNull(List(NonNull(Named Foo))).
    fn resolve(&self, text: &str) -> Option<TypeRef<'s>> {
        if let Some(inner) = text.strip_suffix('!') {
            return Some(TypeRef::NonNull(Box::new(self.resolve(inner)?)));
        }
        if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return Some(TypeRef::List(Box::new(self.resolve(inner)?)));
        }
        self.schema.concrete_type_by_name(text).map(TypeRef::Named)
    }

    fn type_ref(&mut self, t: &TypeRef<'s>, selection: &[FieldNode]) {
        match t {
            TypeRef::Named(t) => self.named(t, selection),
            TypeRef::NonNull(inner) | TypeRef::List(inner) => {
                let kind = if matches!(t, TypeRef::List(_)) {
                    "LIST"
                } else {
                    "NON_NULL"
                };
                self.object("__Type", selection, |w, f| match f.name.as_str() {
                    "kind" => w.string(kind),
                    "ofType" => w.type_ref(inner, &f.selection),
                    // A wrapper has no name, fields, ... of its own.
                    _ => w.null(),
                })
            }
        }
    }

    /// A named type (`__Type` of a concrete type).
    fn named(&mut self, t: &'s MetaType<S>, selection: &[FieldNode]) {
        let schema = self.schema;
        self.object("__Type", selection, |w, f| match f.name.as_str() {
            "kind" => w.string(kind(t)),
            "name" => w.opt_string(t.name().map(|n| n.as_str())),
            "description" => w.opt_string(t.description().map(|d| d.as_str())),
            "specifiedByURL" => w.opt_string(t.specified_by_url().map(|u| u.as_str())),
            "fields" => match t {
                MetaType::Object(o) => w.fields(&o.fields, f),
                MetaType::Interface(i) => w.fields(&i.fields, f),
                _ => w.null(),
            },
            "interfaces" => match t {
                MetaType::Object(o) => w.type_names(&o.interface_names, &f.selection),
                MetaType::Interface(i) => w.type_names(&i.interface_names, &f.selection),
                _ => w.null(),
            },
            "possibleTypes" => match t {
                MetaType::Interface(_) => {
                    let mut names: Vec<_> = schema
                        .possible_types(t)
                        .into_iter()
                        .filter_map(|p| p.name().cloned())
                        .collect();
                    names.sort();
                    w.type_names(&names, &f.selection)
                }
                MetaType::Union(u) => w.type_names(&u.of_type_names, &f.selection),
                _ => w.null(),
            },
            "enumValues" => match t {
                MetaType::Enum(e) => {
                    let all = include_deprecated(f);
                    w.list(
                        e.values
                            .iter()
                            .filter(|v| all || !v.deprecation_status.is_deprecated()),
                        |w, v| w.enum_value(v, &f.selection),
                    )
                }
                _ => w.null(),
            },
            "inputFields" => match t {
                MetaType::InputObject(i) => {
                    let all = include_deprecated(f);
                    w.list(
                        i.input_fields
                            .iter()
                            .filter(|a| all || !a.deprecation_status.is_deprecated()),
                        |w, a| w.input_value(a, &f.selection),
                    )
                }
                _ => w.null(),
            },
            "isOneOf" => match t {
                MetaType::InputObject(i) => w.bool(i.is_one_of),
                _ => w.null(),
            },
            // `ofType` of a named type, and anything else.
            _ => w.null(),
        });
    }

    fn type_names(&mut self, names: &[juniper::ArcStr], selection: &[FieldNode]) {
        let schema = self.schema;
        let types = names.iter().filter_map(|n| schema.concrete_type_by_name(n));
        self.list(types, |w, t| w.named(t, selection));
    }

    fn fields(&mut self, fields: &'s [Field<S>], f: &FieldNode) {
        let all = include_deprecated(f);
        let shown = fields
            .iter()
            .filter(|field| all || !field.deprecation_status.is_deprecated())
            .filter(|field| !field.name.starts_with("__"));
        self.list(shown, |w, field| {
            w.object("__Field", &f.selection, |w, g| match g.name.as_str() {
                "name" => w.string(&field.name),
                "description" => w.opt_string(field.description.as_deref()),
                "args" => {
                    let all = include_deprecated(g);
                    w.list(
                        field
                            .arguments
                            .iter()
                            .flatten()
                            .filter(|a| all || !a.deprecation_status.is_deprecated()),
                        |w, a| w.input_value(a, &g.selection),
                    )
                }
                "type" => w.reference(&field.field_type, &g.selection),
                "isDeprecated" => w.bool(field.deprecation_status.is_deprecated()),
                "deprecationReason" => w.deprecation_reason(&field.deprecation_status),
                _ => w.null(),
            })
        });
    }

    fn input_value(&mut self, a: &Argument<S>, selection: &[FieldNode]) {
        self.object("__InputValue", selection, |w, f| match f.name.as_str() {
            "name" => w.string(&a.name),
            "description" => w.opt_string(a.description.as_deref()),
            "type" => w.reference(&a.arg_type, &f.selection),
            "defaultValue" => {
                let text = a.default_value.as_ref().map(ToString::to_string);
                w.opt_string(text.as_deref())
            }
            "isDeprecated" => w.bool(a.deprecation_status.is_deprecated()),
            "deprecationReason" => w.deprecation_reason(&a.deprecation_status),
            _ => w.null(),
        })
    }

    fn enum_value(&mut self, v: &EnumValue, selection: &[FieldNode]) {
        self.object("__EnumValue", selection, |w, f| match f.name.as_str() {
            "name" => w.string(&v.name),
            "description" => w.opt_string(v.description.as_deref()),
            "isDeprecated" => w.bool(v.deprecation_status.is_deprecated()),
            "deprecationReason" => w.deprecation_reason(&v.deprecation_status),
            _ => w.null(),
        })
    }

    fn deprecation_reason(&mut self, status: &DeprecationStatus) {
        self.opt_string(status.reason().map(|r| r.as_str()))
    }
}
