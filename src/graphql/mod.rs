//! GraphQL front end: the juniper schema built from the model, request parsing and
//! validation, the walk into the engine's selection tree, and introspection execution.

pub mod document;
mod json_literals;
pub mod limits;
pub mod schema;

use crate::schema::Model;
use document::{Operation, ValidDocument};
use juniper::Variables;
use lru::LruCache;
use schema::{Root, S};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::Mutex;

/// A request that fails before execution: parse, validation, variables, operation choice.
#[derive(Debug, thiserror::Error)]
pub enum GraphqlError {
    #[error("Syntax Error: {message}")]
    Parse {
        message: String,
        location: (usize, usize),
    },
    #[error("the document is not valid against the schema")]
    Validation(Vec<(String, Vec<(usize, usize)>)>),
    #[error("the variables are not valid")]
    Variables(Vec<(String, Vec<(usize, usize)>)>),
    #[error("{0}")]
    Request(String),
    /// Over one of the abuse limits (`limits`): refused before validation.
    #[error(transparent)]
    Limit(#[from] limits::LimitError),
}

impl GraphqlError {
    pub fn code(&self) -> &'static str {
        match self {
            GraphqlError::Parse { .. } => "GRAPHQL_PARSE_FAILED",
            GraphqlError::Validation(_) => "GRAPHQL_VALIDATION_FAILED",
            GraphqlError::Variables(_) => "BAD_USER_INPUT",
            GraphqlError::Request(_) => "BAD_REQUEST",
            GraphqlError::Limit(e) => e.code,
        }
    }

    /// Each error as (message, locations).
    pub fn messages(&self) -> Vec<(String, Vec<(usize, usize)>)> {
        match self {
            GraphqlError::Parse { location, .. } => vec![(self.to_string(), vec![*location])],
            GraphqlError::Validation(v) | GraphqlError::Variables(v) => v.clone(),
            GraphqlError::Request(m) => vec![(m.clone(), vec![])],
            GraphqlError::Limit(e) => vec![(e.message.clone(), e.location.into_iter().collect())],
        }
    }
}

/// How many distinct query texts keep their parsed, validated document.
const DOCUMENT_CACHE_SIZE: usize = 512;

/// The schema as juniper sees it plus the model it was built from; built once per catalog.
pub struct Api {
    pub model: Arc<Model>,
    pub root: Root,
    /// What a document must stay within; checked once per query text, before it is cached.
    pub limits: limits::Limits,
    /// Query text → its validated document: a query is parsed and validated once.
    documents: Mutex<LruCache<String, Arc<ValidDocument>>>,
}

impl Api {
    pub fn new(model: Model) -> Self {
        let model = Arc::new(model);
        let root = schema::root_node(model.clone());
        let documents = Mutex::new(LruCache::new(
            NonZeroUsize::new(DOCUMENT_CACHE_SIZE).expect("non-zero"),
        ));
        Api {
            model,
            root,
            limits: limits::Limits::default(),
            documents,
        }
    }

    pub fn sdl(&self) -> String {
        self.root.as_sdl()
    }

    /// The result of graphql-js' standard introspection query, as v4's
    /// `--export-schema-json` writes it (`{"data": {"__schema": ...}}`).
    pub async fn introspection_json(&self) -> Result<String, GraphqlError> {
        let fields = self
            .introspect(INTROSPECTION_QUERY, None, &Variables::new())
            .await?;
        let err = |e: serde_json::Error| GraphqlError::Request(e.to_string());
        let mut data = serde_json::Map::new();
        for (key, text) in fields {
            data.insert(key, serde_json::from_str(&text).map_err(err)?);
        }
        serde_json::to_string_pretty(&serde_json::json!({ "data": data })).map_err(err)
    }

    pub fn prepare(
        &self,
        source: &str,
        operation_name: Option<&str>,
        variables: &Variables<S>,
    ) -> Result<Operation, GraphqlError> {
        let doc = self.document(source)?;
        document::operation(&self.root, &doc, operation_name, variables)
    }

    /// The validated document of `source`, from the cache when it was seen before.
    pub fn document(&self, source: &str) -> Result<Arc<ValidDocument>, GraphqlError> {
        if let Some(doc) = self.documents.lock().expect("document cache").get(source) {
            return Ok(doc.clone());
        }
        // Parsed outside the lock; invalid documents (and those over a limit) are not cached.
        limits::check_tokens(source, &self.limits)?;
        let doc = Arc::new(document::parse(
            &self.root,
            source.to_string(),
            &self.limits,
        )?);
        self.documents
            .lock()
            .expect("document cache")
            .put(source.to_string(), doc.clone());
        Ok(doc)
    }

    /// Runs the document through juniper (introspection only; data fields are placeholders):
    /// each root field's response key with its value as JSON text. The values are written
    /// straight from juniper's result, without a `serde_json::Value` copy of a large answer.
    pub async fn introspect(
        &self,
        source: &str,
        operation_name: Option<&str>,
        variables: &Variables<S>,
    ) -> Result<Vec<(String, String)>, GraphqlError> {
        let (value, _errors) = juniper::execute(source, operation_name, &self.root, variables, &())
            .await
            .map_err(|e| GraphqlError::Request(e.to_string()))?;
        let Some(object) = value.as_object_value() else {
            return Ok(vec![]);
        };
        object
            .iter()
            .map(|(key, v)| {
                serde_json::to_string(v)
                    .map(|text| (key.to_string(), text))
                    .map_err(|e| GraphqlError::Request(e.to_string()))
            })
            .collect()
    }
}

const INTROSPECTION_QUERY: &str = include_str!("introspection.graphql");

/// Converts request variables (JSON) to juniper's input values.
pub fn variables_from_json(v: Option<serde_json::Value>) -> Result<Variables<S>, GraphqlError> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(Variables::new()),
        Some(serde_json::Value::Object(map)) => {
            Ok(map.into_iter().map(|(k, v)| (k, input_value(v))).collect())
        }
        // Some clients send the variables JSON-encoded, as express-graphql accepts.
        Some(serde_json::Value::String(text)) if !text.trim().is_empty() => {
            match serde_json::from_str(&text) {
                Ok(v @ serde_json::Value::Object(_)) => variables_from_json(Some(v)),
                _ => Err(GraphqlError::Request(
                    "variables must be a JSON object".into(),
                )),
            }
        }
        Some(serde_json::Value::String(_)) => Ok(Variables::new()),
        Some(_) => Err(GraphqlError::Request(
            "variables must be a JSON object".into(),
        )),
    }
}

fn input_value(v: serde_json::Value) -> juniper::InputValue<S> {
    use juniper::InputValue;
    match v {
        serde_json::Value::Null => InputValue::null(),
        serde_json::Value::Bool(b) => InputValue::scalar(b),
        serde_json::Value::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => InputValue::scalar(i),
            None => InputValue::scalar(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => InputValue::scalar(s),
        serde_json::Value::Array(a) => InputValue::list(a.into_iter().map(input_value).collect()),
        serde_json::Value::Object(o) => {
            InputValue::object(o.into_iter().map(|(k, v)| (k, input_value(v))).collect())
        }
    }
}
