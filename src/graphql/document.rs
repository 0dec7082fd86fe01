//! Parse and validate a request with juniper, then walk the chosen operation into the
//! engine's own selection tree: fragments inlined, aliases kept, fields merged by response
//! key, variables substituted, `@skip`/`@include` applied.

use super::schema::{Root, S};
use super::GraphqlError;
use juniper::parser::parse_document_source;
use juniper::validation::{validate_input_values, visit_all_rules, ValidatorContext};
use juniper::{Definition, InputValue, OperationType, Selection, Spanning, Variables};
use std::collections::HashMap;

/// A value after variables were substituted.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
    /// A leaf that came from the request's variables, and where: the planner binds such
    /// values as parameters that a cached plan can re-bind for the next request.
    Var(Box<Value>, VarPath),
}

/// The place of a leaf in the request's variables: the variable and the path inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VarPath {
    pub name: String,
    pub path: Vec<PathSeg>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl VarPath {
    fn child(&self, seg: PathSeg) -> VarPath {
        let mut path = self.path.clone();
        path.push(seg);
        VarPath {
            name: self.name.clone(),
            path,
        }
    }
}

impl Value {
    /// The value itself, whether or not it came from a variable.
    pub fn resolved(&self) -> &Value {
        match self {
            Value::Var(v, _) => v,
            v => v,
        }
    }
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self.resolved() {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.resolved(), Value::Null)
    }
}

/// A leaf of a juniper input value as a `Value` (lists and objects are not leaves).
pub fn leaf(v: &InputValue<S>) -> Value {
    match v {
        InputValue::Scalar(s) => scalar(s),
        InputValue::Enum(e) => Value::Enum(e.clone()),
        _ => Value::Null,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Query,
    Mutation,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub kind: OpKind,
    pub name: Option<String>,
    pub fields: Vec<FieldNode>,
}

/// One field of the selection tree, merged by response key.
#[derive(Debug, Clone)]
pub struct FieldNode {
    /// The key in the response (alias or name).
    pub key: String,
    pub name: String,
    pub args: Vec<(String, Value)>,
    pub selection: Vec<FieldNode>,
    /// Line and column (1-based) of the first occurrence, for error locations.
    pub location: (usize, usize),
    /// The type condition of the fragment the field came from: it applies only to objects of
    /// that type (or implementing that interface). None: the parent's own type.
    pub on_type: Option<String>,
}

impl FieldNode {
    pub fn arg(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Each juniper rule error as (message, locations).
fn messages(errors: &[juniper::RuleError]) -> Vec<(String, Vec<(usize, usize)>)> {
    errors
        .iter()
        .map(|e| {
            (
                e.message().to_string(),
                e.locations().iter().map(location).collect(),
            )
        })
        .collect()
}

pub fn location(pos: &juniper::parser::SourcePosition) -> (usize, usize) {
    (pos.line() + 1, pos.column() + 1)
}

/// The document of a request after parsing and validation, kept with its source text so it
/// can be cached and reused (juniper's document borrows the text it was parsed from).
pub type Document<'a> = Vec<Definition<'a, S>>;

self_cell::self_cell!(
    pub struct ValidDocument {
        owner: String,
        #[covariant]
        dependent: Document,
    }
);

/// Parses `source`, checks it against the abuse limits (before validation, whose cost grows
/// with the document) and validates it against the schema.
#[tracing::instrument(level = "debug", skip_all)]
pub fn parse(
    root: &Root,
    source: String,
    limits: &super::limits::Limits,
) -> Result<ValidDocument, GraphqlError> {
    ValidDocument::try_new(source, |source| {
        let document = match parse_document_source(source, &root.schema) {
            Ok(document) => document,
            Err(e) => {
                return match super::json_literals::accept(root, source, limits) {
                    Some(accepted) => accepted,
                    None => Err(parse_failure(root, source, e)),
                }
            }
        };
        super::limits::check(&document, limits)?;
        unknown_variable_types(root, &document)?;
        let mut ctx = ValidatorContext::new(&root.schema, &document);
        visit_all_rules(&mut ctx, &document);
        let errors = ctx.into_errors();
        if !errors.is_empty() {
            // A list literal for a JSON argument parses, and fails validation.
            if let Some(accepted) = super::json_literals::accept(root, source, limits) {
                return accepted;
            }
            return Err(GraphqlError::Validation(messages(&errors)));
        }
        Ok(document)
    })
}

/// Variable types the schema does not have, as validation errors. juniper's rules look such a
/// type up and panic when it is missing (a variable with a default value), so this runs first.
pub(super) fn unknown_variable_types(root: &Root, document: &Document) -> Result<(), GraphqlError> {
    let errors: Vec<_> = document
        .iter()
        .filter_map(|def| match def {
            Definition::Operation(op) => op.item.variables_definition.as_ref(),
            Definition::Fragment(_) => None,
        })
        .flat_map(|vars| vars.item.items.iter())
        .filter_map(|(_, var)| {
            let name = var.var_type.item.innermost_name();
            root.schema.type_by_name(name).is_none().then(|| {
                (
                    format!("Unknown type \"{name}\"."),
                    vec![location(&var.var_type.span.start)],
                )
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(GraphqlError::Validation(errors))
    }
}

/// juniper's parser knows each argument's type and refuses a value of the wrong shape (an
/// object for a scalar) as a syntax error. When the document parses without the types it is
/// well-formed: then validating it against the real schema says what is wrong with the value.
fn parse_failure(
    root: &Root,
    source: &str,
    e: Spanning<juniper::parser::ParseError>,
) -> GraphqlError {
    let syntax = GraphqlError::Parse {
        message: e.item.to_string(),
        location: location(&e.span.start),
    };
    let Ok(untyped) = parse_document_source(source, &untyped_root().schema) else {
        return syntax;
    };
    if let Err(unknown) = unknown_variable_types(root, &untyped) {
        return unknown;
    }
    let mut ctx = ValidatorContext::new(&root.schema, &untyped);
    visit_all_rules(&mut ctx, &untyped);
    let errors = ctx.into_errors();
    if errors.is_empty() {
        syntax
    } else {
        GraphqlError::Validation(messages(&errors))
    }
}

/// A schema with no fields: its parser reads every value by its shape alone.
pub(super) fn untyped_root() -> &'static Root {
    static ROOT: std::sync::OnceLock<Root> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| {
        let empty = crate::catalog::Catalog::default();
        let mut model = crate::schema::build(&empty, &crate::schema::BuildOptions::default())
            .expect("the schema of an empty catalog");
        // The parser reads literals as the built-in scalars: they must be in the schema.
        if let Some(crate::schema::TypeDef::Object(query)) = model.types.get_mut("Query") {
            let template = query.fields[0].clone();
            for scalar in ["Int", "Float", "String", "Boolean", "ID"] {
                let mut f = template.clone();
                f.name = scalar.to_lowercase();
                f.ty = crate::schema::TypeRef::named(scalar);
                query.fields.push(f);
            }
        }
        super::schema::root_node(std::sync::Arc::new(model))
    })
}

/// Fragment name → its selection set and type condition.
type Fragments<'a, 'd> = HashMap<&'a str, (&'d [Selection<'a, S>], &'a str)>;

/// The operation `operation_name` picks (the only one when None), and the fragments.
fn select<'a, 'd>(
    document: &'d Document<'a>,
    operation_name: Option<&str>,
) -> Result<(&'d Spanning<juniper::Operation<'a, S>>, Fragments<'a, 'd>), GraphqlError> {
    let mut operation = None;
    let mut fragments = HashMap::new();
    let mut count = 0;
    for def in document.iter() {
        match def {
            Definition::Operation(op) => {
                count += 1;
                if operation_name.is_none()
                    || op.item.name.as_ref().map(|n| n.item) == operation_name
                {
                    operation.get_or_insert(op);
                }
            }
            Definition::Fragment(f) => {
                fragments.insert(
                    f.item.name.item,
                    (f.item.selection_set.as_slice(), f.item.type_condition.item),
                );
            }
        }
    }
    if operation_name.is_none() && count > 1 {
        return Err(GraphqlError::Request(
            "must provide operationName when the document contains several operations".into(),
        ));
    }
    match operation {
        Some(op) => Ok((op, fragments)),
        None if count == 0 => Err(GraphqlError::Request(
            "the document contains no operation".into(),
        )),
        None => Err(GraphqlError::Request(format!(
            "unknown operation named \"{}\"",
            operation_name.unwrap_or_default()
        ))),
    }
}

fn kind(op: &Spanning<juniper::Operation<'_, S>>) -> Result<OpKind, GraphqlError> {
    match op.item.operation_type {
        OperationType::Query => Ok(OpKind::Query),
        OperationType::Mutation => Ok(OpKind::Mutation),
        OperationType::Subscription => Err(GraphqlError::Request(
            "subscriptions are served over WebSocket only (GET /graphql with an upgrade)".into(),
        )),
    }
}

fn check_variables(
    root: &Root,
    op: &Spanning<juniper::Operation<'_, S>>,
    variables: &Variables<S>,
) -> Result<(), GraphqlError> {
    let masked;
    let model = &root.query_info.model;
    let variables = if model.dynamic_json || model.types.contains_key("KeyValueHash") {
        masked = json_values_masked(root, op, variables);
        &masked
    } else {
        variables
    };
    let errors = validate_input_values(variables, op, &root.schema);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(GraphqlError::Variables(messages(&errors)))
    }
}

/// With `--dynamic-json` a `JSON` value may be an object or a list, and a `KeyValueHash`
/// (hstore) is an object, which juniper's check of the variables refuses for a scalar: a
/// copy of the variables with such values replaced by a string is checked instead (the
/// planner reads the real ones).
fn json_values_masked(
    root: &Root,
    op: &Spanning<juniper::Operation<'_, S>>,
    variables: &Variables<S>,
) -> Variables<S> {
    use super::json_literals::{lists, mask};
    let mut out = variables.clone();
    if let Some(defs) = &op.item.variables_definition {
        for (name, def) in defs.item.iter() {
            if let Some(v) = out.get_mut(name.item) {
                let t = &def.var_type.item;
                mask(v, t.innermost_name(), lists(t), root);
            }
        }
    }
    out
}

/// Picks the operation and checks the variables against it (what a cached plan still needs).
pub fn check(
    root: &Root,
    document: &ValidDocument,
    operation_name: Option<&str>,
    variables: &Variables<S>,
) -> Result<OpKind, GraphqlError> {
    let (op, _) = select(document.borrow_dependent(), operation_name)?;
    let kind = kind(op)?;
    check_variables(root, op, variables)?;
    Ok(kind)
}

/// Picks the operation, checks the variables and walks it into an `Operation`.
#[tracing::instrument(level = "debug", skip_all)]
pub fn operation(
    root: &Root,
    document: &ValidDocument,
    operation_name: Option<&str>,
    variables: &Variables<S>,
) -> Result<Operation, GraphqlError> {
    let (op, fragments) = select(document.borrow_dependent(), operation_name)?;
    let kind = kind(op)?;
    check_variables(root, op, variables)?;
    Ok(Operation {
        kind,
        name: op.item.name.as_ref().map(|n| n.item.to_string()),
        fields: walk(op, fragments, variables)?,
    })
}

/// The root fields of the operation when it is a subscription (variables checked), None
/// when it is a query or a mutation.
pub fn subscription(
    root: &Root,
    document: &ValidDocument,
    operation_name: Option<&str>,
    variables: &Variables<S>,
) -> Result<Option<Vec<FieldNode>>, GraphqlError> {
    let (op, fragments) = select(document.borrow_dependent(), operation_name)?;
    if op.item.operation_type != OperationType::Subscription {
        return Ok(None);
    }
    check_variables(root, op, variables)?;
    walk(op, fragments, variables).map(Some)
}

fn walk<'a, 'd>(
    op: &'d Spanning<juniper::Operation<'a, S>>,
    fragments: Fragments<'a, 'd>,
    variables: &'d Variables<S>,
) -> Result<Vec<FieldNode>, GraphqlError> {
    // Variable defaults apply when the request leaves a variable out; they belong to the
    // query text, so they are constants rather than re-bindable variable values.
    let vars: HashMap<&str, &InputValue<S>> =
        variables.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut defaults: HashMap<&str, &InputValue<S>> = HashMap::new();
    if let Some(defs) = &op.item.variables_definition {
        for (name, def) in &defs.item.items {
            if let (false, Some(default)) = (vars.contains_key(name.item), &def.default_value) {
                defaults.insert(name.item, &default.item);
            }
        }
    }

    let walker = Walker {
        fragments,
        vars,
        defaults,
    };
    let mut fields = vec![];
    walker.collect(&op.item.selection_set, &mut fields, 0, None)?;
    Ok(fields)
}

struct Walker<'a, 'd> {
    fragments: Fragments<'a, 'd>,
    vars: HashMap<&'a str, &'d InputValue<S>>,
    defaults: HashMap<&'a str, &'d InputValue<S>>,
}

/// `@skip(if:)` / `@include(if:)`; a macro because juniper's directive type is not nameable.
macro_rules! included {
    ($walker:expr, $directives:expr) => {{
        let mut keep = true;
        if let Some(directives) = $directives {
            for d in directives {
                let cond = d
                    .item
                    .arguments
                    .as_ref()
                    .and_then(|a| a.item.items.iter().find(|(k, _)| k.item == "if"))
                    .map(|(_, v)| $walker.value(&v.item));
                let cond = matches!(cond.as_ref().map(Value::resolved), Some(Value::Bool(true)));
                match d.item.name.item {
                    "skip" if cond => keep = false,
                    "include" if !cond => keep = false,
                    _ => {}
                }
            }
        }
        keep
    }};
}

impl<'a, 'd> Walker<'a, 'd> {
    /// Collects `selection` into `out`; `on_type` is the innermost fragment type condition
    /// the fields sit under (None: the parent's own type).
    fn collect(
        &self,
        selection: &'d [Selection<'a, S>],
        out: &mut Vec<FieldNode>,
        depth: usize,
        on_type: Option<&str>,
    ) -> Result<(), GraphqlError> {
        if depth > 64 {
            return Err(GraphqlError::Request("fragments nest too deeply".into()));
        }
        for sel in selection {
            match sel {
                Selection::Field(f) => {
                    if !included!(self, &f.item.directives) {
                        continue;
                    }
                    let field = &f.item;
                    let key = field
                        .alias
                        .as_ref()
                        .map(|a| a.item)
                        .unwrap_or(field.name.item);
                    let args = match &field.arguments {
                        Some(args) => args
                            .item
                            .items
                            .iter()
                            .filter(|(_, v)| self.provided(&v.item))
                            .map(|(k, v)| (k.item.to_string(), self.value(&v.item)))
                            .collect(),
                        None => vec![],
                    };
                    let mut children = vec![];
                    if let Some(set) = &field.selection_set {
                        self.collect(set, &mut children, depth + 1, None)?;
                    }
                    merge(
                        out,
                        FieldNode {
                            key: key.to_string(),
                            name: field.name.item.to_string(),
                            args,
                            selection: children,
                            location: location(&f.span.start),
                            on_type: on_type.map(str::to_string),
                        },
                    );
                }
                Selection::FragmentSpread(spread) => {
                    if !included!(self, &spread.item.directives) {
                        continue;
                    }
                    let (frag, condition) =
                        self.fragments.get(spread.item.name.item).ok_or_else(|| {
                            GraphqlError::Request(format!(
                                "unknown fragment {}",
                                spread.item.name.item
                            ))
                        })?;
                    self.collect(frag, out, depth + 1, Some(condition))?;
                }
                Selection::InlineFragment(inline) => {
                    if !included!(self, &inline.item.directives) {
                        continue;
                    }
                    let condition = inline
                        .item
                        .type_condition
                        .as_ref()
                        .map(|c| c.item)
                        .or(on_type);
                    self.collect(&inline.item.selection_set, out, depth + 1, condition)?;
                }
            }
        }
        Ok(())
    }

    /// A variable the request leaves out (and without default) makes its argument or input
    /// field absent, not null (GraphQL's input coercion).
    fn provided(&self, v: &InputValue<S>) -> bool {
        match v {
            InputValue::Variable(name) => {
                self.vars.contains_key(name.as_str()) || self.defaults.contains_key(name.as_str())
            }
            _ => true,
        }
    }

    fn value(&self, v: &InputValue<S>) -> Value {
        match v {
            InputValue::Null => Value::Null,
            InputValue::Scalar(s) => scalar(s),
            InputValue::Enum(e) => Value::Enum(e.clone()),
            InputValue::Variable(name) => match (
                self.vars.get(name.as_str()),
                self.defaults.get(name.as_str()),
            ) {
                (Some(v), _) => from_variable(
                    v,
                    VarPath {
                        name: name.clone(),
                        path: vec![],
                    },
                ),
                (None, Some(d)) => self.value(d),
                (None, None) => Value::Null,
            },
            InputValue::List(items) => {
                Value::List(items.iter().map(|i| self.value(&i.item)).collect())
            }
            InputValue::Object(fields) => Value::Object(
                fields
                    .iter()
                    .filter(|(_, v)| self.provided(&v.item))
                    .map(|(k, v)| (k.item.clone(), self.value(&v.item)))
                    .collect(),
            ),
        }
    }
}

/// A variable's value, each leaf marked with its place in the variables.
fn from_variable(v: &InputValue<S>, path: VarPath) -> Value {
    match v {
        InputValue::List(items) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| from_variable(&item.item, path.child(PathSeg::Index(i))))
                .collect(),
        ),
        InputValue::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    (
                        k.item.clone(),
                        from_variable(&v.item, path.child(PathSeg::Key(k.item.clone()))),
                    )
                })
                .collect(),
        ),
        leaf_value => Value::Var(Box::new(leaf(leaf_value)), path),
    }
}

fn scalar(s: &S) -> Value {
    match s {
        S::Int(i) => Value::Int(*i as i64),
        S::Float(f) => Value::Float(*f),
        S::String(s) => Value::String(s.clone()),
        S::Boolean(b) => Value::Bool(*b),
    }
}

/// Adds `node` to `into`, merging it into a field with the same response key and type
/// condition (validation guarantees such fields are the same field with the same arguments).
pub fn merge(into: &mut Vec<FieldNode>, node: FieldNode) {
    if let Some(existing) = into
        .iter_mut()
        .find(|n| n.key == node.key && n.on_type == node.on_type)
    {
        for child in node.selection {
            merge(&mut existing.selection, child);
        }
    } else {
        into.push(node);
    }
}
