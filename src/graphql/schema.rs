//! juniper glue: every type of the schema model becomes a runtime-defined juniper type, so
//! juniper can parse, validate, answer introspection and print SDL for a schema it only
//! learns at startup. Data fields are never resolved here (the planner compiles them to SQL).

use crate::schema::{DefaultValue, FieldDef, Model, TypeDef, TypeRef};
use juniper::meta::{
    Argument, DeprecationStatus, EnumMeta, EnumValue, Field, InputObjectMeta, InterfaceMeta,
    MetaType, ObjectMeta, ScalarMeta,
};
use juniper::{
    arcstr, ArcStr, Arguments, BoxFuture, DefaultScalarValue, ExecutionResult, Executor,
    FromInputValue, GraphQLType, GraphQLValue, GraphQLValueAsync, InputValue, ParseScalarResult,
    ParseScalarValue, Registry, RootNode, ScalarToken, Type, Value,
};
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

thread_local! {
    /// The strings of the schema being registered: each distinct name and description is
    /// allocated once and shared by every meta type, field and type reference using it (tens
    /// of thousands of tables repeat the same argument descriptions and type names).
    static STRINGS: RefCell<HashSet<ArcStr>> = RefCell::new(HashSet::new());
}

/// The shared copy of `s` (see [`STRINGS`]).
fn intern(s: &str) -> ArcStr {
    STRINGS.with(|strings| {
        let mut strings = strings.borrow_mut();
        if let Some(shared) = strings.get(s) {
            return shared.clone();
        }
        let shared = ArcStr::from(s);
        strings.insert(shared.clone());
        shared
    })
}

pub type S = DefaultScalarValue;
pub type Root = RootNode<DynType, DynType, DynType, S>;

/// Which type of the model a `DynType` stands for.
#[derive(Clone)]
pub struct DynInfo {
    pub model: Arc<Model>,
    pub name: ArcStr,
}

/// The one Rust type behind every generated GraphQL type; its `TypeInfo` says which.
#[derive(Debug, Clone, Copy, Default)]
pub struct DynType;

/// Name of the mutation root when the schema has no mutations (juniper's convention).
const EMPTY_MUTATION: &str = "_EmptyMutation";
/// Name of the subscription root when there is none (juniper's convention).
const EMPTY_SUBSCRIPTION: &str = "_EmptySubscription";

/// Builds juniper's root node for the model, with document limits against hostile queries.
pub fn root_node(model: Arc<Model>) -> Root {
    let query = DynInfo {
        model: model.clone(),
        name: ArcStr::from(model.query_type.as_str()),
    };
    let mutation = DynInfo {
        model: model.clone(),
        name: ArcStr::from(model.mutation_type.as_deref().unwrap_or(EMPTY_MUTATION)),
    };
    let subscription = DynInfo {
        model: model.clone(),
        name: ArcStr::from(
            model
                .subscription_type
                .as_deref()
                .unwrap_or(EMPTY_SUBSCRIPTION),
        ),
    };
    STRINGS.with(|strings| strings.borrow_mut().clear());
    let root = RootNode::new_with_info(DynType, DynType, DynType, query, mutation, subscription)
        .limit_depth(32)
        .limit_tokens(50_000);
    // The registration is over: the strings live on in the schema only.
    STRINGS.with(|strings| *strings.borrow_mut() = HashSet::new());
    root
}

fn builtin_type(registry: &mut Registry<S>, name: &str) -> bool {
    match name {
        "Int" => registry.get_type::<i32>(&()),
        "Float" => registry.get_type::<f64>(&()),
        "String" => registry.get_type::<String>(&()),
        "Boolean" => registry.get_type::<bool>(&()),
        "ID" => registry.get_type::<juniper::ID>(&()),
        _ => return false,
    };
    true
}

/// A reference to a type. The model's own types are only named here, never registered: they
/// are all registered by the query root's `meta`, one after another (see [`register_all`]).
fn juniper_type(registry: &mut Registry<S>, t: &TypeRef) -> Type {
    match t {
        TypeRef::Named(n) => {
            builtin_type(registry, n);
            Type::nullable(intern(n))
        }
        TypeRef::NonNull(inner) => juniper_type(registry, inner).wrap_non_null(),
        TypeRef::List(inner) => juniper_type(registry, inner).wrap_list(None),
    }
}

fn default_value(d: &DefaultValue) -> InputValue<S> {
    match d {
        DefaultValue::EnumList(values) => {
            InputValue::list(values.iter().map(InputValue::enum_value).collect())
        }
    }
}

fn argument(
    registry: &mut Registry<S>,
    name: &str,
    description: &Option<String>,
    ty: &TypeRef,
    default: Option<&DefaultValue>,
) -> Argument<S> {
    let mut arg = Argument::new(intern(name), juniper_type(registry, ty));
    if let Some(d) = description {
        arg = arg.description(intern(d));
    }
    if let Some(d) = default {
        arg = arg.default_value(default_value(d));
    }
    arg
}

/// The fields of an object or interface, plus `__typename`.
fn fields_meta(
    registry: &mut Registry<S>,
    model: &Arc<Model>,
    fields: &[FieldDef],
) -> Vec<Field<S>> {
    let mut out = Vec::with_capacity(fields.len() + 1);
    for f in fields {
        let arguments = f
            .args
            .iter()
            .map(|a| argument(registry, &a.name, &a.description, &a.ty, a.default.as_ref()))
            .collect::<Vec<_>>();
        out.push(Field {
            name: intern(&f.name),
            description: f.description.as_deref().map(intern),
            arguments: (!arguments.is_empty()).then_some(arguments),
            field_type: juniper_type(registry, &f.ty),
            deprecation_status: match model.deprecation(&f.kind) {
                Some(reason) => DeprecationStatus::Deprecated(Some(intern(&reason))),
                None => DeprecationStatus::Current,
            },
        });
    }
    out.push(typename_field(registry));
    out
}

fn typename_field(registry: &mut Registry<S>) -> Field<S> {
    registry.field::<String>(arcstr::literal!("__typename"), &())
}

/// Registers every type of the model in a loop. juniper registers a type's field types from
/// inside its `meta`, so following references would recurse as deep as the longest chain of
/// relations (thousands of tables overflowed the stack); here each `meta` only names the types
/// it refers to, and the depth stays two whatever the schema's shape.
fn register_all(registry: &mut Registry<S>, model: &Arc<Model>) {
    for name in model.types.keys() {
        registry.get_type::<DynType>(&DynInfo {
            model: model.clone(),
            name: intern(name),
        });
    }
}

impl GraphQLType<S> for DynType {
    fn name(info: &DynInfo) -> Option<ArcStr> {
        Some(info.name.clone())
    }

    fn meta(info: &DynInfo, registry: &mut Registry<S>) -> MetaType<S> {
        let model = &info.model;
        let Some(def) = model.types.get(info.name.as_str()) else {
            // Only the absent mutation and subscription roots land here.
            return ObjectMeta::new(info.name.clone(), &[typename_field(registry)]).into_meta();
        };
        if info.name.as_str() == model.query_type {
            register_all(registry, model);
        }
        let describe = |d: &Option<String>| d.as_deref().map(intern);
        match def {
            TypeDef::Object(o) => {
                let fields = fields_meta(registry, model, &o.fields);
                let interfaces: Vec<Type> = o
                    .interfaces
                    .iter()
                    .map(|i| juniper_type(registry, &TypeRef::named(i.clone())))
                    .collect();
                // Set, not passed to `new`, which would copy them.
                let mut meta = ObjectMeta::new(info.name.clone(), &[]).interfaces(&interfaces);
                meta.fields = fields;
                meta.description = describe(&o.description);
                meta.into_meta()
            }
            TypeDef::Interface(i) => {
                let fields = fields_meta(registry, model, &i.fields);
                let mut meta = InterfaceMeta::new(info.name.clone(), &[]);
                meta.fields = fields;
                meta.description = describe(&i.description);
                meta.into_meta()
            }
            TypeDef::Input(i) => {
                let fields = i
                    .fields
                    .iter()
                    .map(|f| argument(registry, &f.name, &f.description, &f.ty, None))
                    .collect::<Vec<_>>();
                let mut meta = InputObjectMeta::new::<DynType>(info.name.clone(), &[]);
                meta.input_fields = fields;
                meta.description = describe(&i.description);
                meta.into_meta()
            }
            TypeDef::Enum(e) => {
                let values = e
                    .values
                    .iter()
                    .map(|v| {
                        let mut ev = EnumValue::new(intern(&v.name));
                        ev.description = describe(&v.description);
                        ev
                    })
                    .collect::<Vec<_>>();
                let mut meta = EnumMeta::new::<DynType>(info.name.clone(), &[]);
                meta.values = values;
                meta.description = describe(&e.description);
                meta.into_meta()
            }
            TypeDef::Scalar(s) => {
                let mut meta = ScalarMeta::new::<DynType>(info.name.clone());
                meta.description = describe(&s.description);
                meta.into_meta()
            }
        }
    }
}

impl GraphQLValue<S> for DynType {
    type Context = ();
    type TypeInfo = DynInfo;

    fn type_name(&self, info: &DynInfo) -> Option<ArcStr> {
        Some(info.name.clone())
    }

    fn concrete_type_name(&self, _: &(), info: &DynInfo) -> String {
        info.name.to_string()
    }

    /// Data fields are compiled to SQL elsewhere; juniper only runs introspection, so a
    /// placeholder stands in for them and is replaced by the SQL result afterwards.
    fn resolve_field(
        &self,
        _: &DynInfo,
        _: &str,
        _: &Arguments<S>,
        _: &Executor<(), S>,
    ) -> ExecutionResult<S> {
        Ok(Value::Object(juniper::Object::with_capacity(0)))
    }
}

impl GraphQLValueAsync<S> for DynType {
    fn resolve_field_async<'a>(
        &'a self,
        info: &'a DynInfo,
        field_name: &'a str,
        args: &'a Arguments<S>,
        executor: &'a Executor<(), S>,
    ) -> BoxFuture<'a, ExecutionResult<S>> {
        let result = self.resolve_field(info, field_name, args, executor);
        Box::pin(async move { result })
    }
}

/// Input values are checked by juniper's validation against the metadata; the planner reads them.
impl FromInputValue<S> for DynType {
    type Error = String;
    fn from_input_value(_: &InputValue<S>) -> Result<Self, String> {
        Ok(DynType)
    }
}

/// Custom scalars (BigInt, Datetime, JSON, ...) accept string and number literals.
impl ParseScalarValue<S> for DynType {
    fn from_str(token: ScalarToken<'_>) -> ParseScalarResult<S> {
        match token {
            ScalarToken::String(_) => <String as ParseScalarValue<S>>::from_str(token),
            ScalarToken::Int(_) => <i32 as ParseScalarValue<S>>::from_str(token)
                .or_else(|_| <f64 as ParseScalarValue<S>>::from_str(token)),
            ScalarToken::Float(_) => <f64 as ParseScalarValue<S>>::from_str(token),
        }
    }
}
