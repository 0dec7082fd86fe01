//! The schema as one value: the API (model and juniper schema), the compiled plans and the
//! introspection answers made from it. A reload builds a new value beside the old one and
//! swaps it in; a request holds the value it started with to its end, so it never mixes two.

use super::plan_cache::PlanCache;
use crate::graphql::schema::S;
use crate::graphql::{Api, GraphqlError};
use bytes::Bytes;
use juniper::Variables;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Distinct introspection documents (with their operation and variables) kept per schema.
/// GraphiQL, codegen tools and Apollo each send one of a handful; an answer of a large schema
/// is tens of megabytes, so few are kept.
const INTROSPECTION_ANSWERS: usize = 8;

/// One introspection answer: each root field's response key with its value as JSON text
/// (shared with every response carrying it).
pub type IntrospectionAnswer = Vec<(String, Bytes)>;

type AnswerCell = Arc<OnceCell<Arc<IntrospectionAnswer>>>;

/// One schema and everything derived from it.
pub struct SchemaValue {
    pub api: Api,
    /// Counts the schemas this engine has served: 1 at startup, one more per reload.
    pub generation: u64,
    pub(super) plans: PlanCache,
    /// Introspection answers by document, operation and variables: the schema does not depend
    /// on who asks, so each is computed once (by the first asker; others wait for it).
    answers: Mutex<LruCache<String, AnswerCell>>,
}

impl SchemaValue {
    pub fn new(api: Api, generation: u64) -> Self {
        SchemaValue {
            api,
            generation,
            plans: PlanCache::default(),
            answers: Mutex::new(LruCache::new(
                NonZeroUsize::new(INTROSPECTION_ANSWERS).expect("non-zero"),
            )),
        }
    }

    /// The introspection fields' values of this document, computed once per schema.
    pub async fn introspection(
        &self,
        source: &str,
        operation_name: Option<&str>,
        variables: &Variables<S>,
    ) -> Result<Arc<IntrospectionAnswer>, GraphqlError> {
        let key = serde_json::json!([source, operation_name, variables_key(variables)]).to_string();
        let cell = self
            .answers
            .lock()
            .expect("introspection answers")
            .get_or_insert(key, || Arc::new(OnceCell::new()))
            .clone();
        cell.get_or_try_init(|| async {
            let answer = self
                .api
                .introspect(source, operation_name, variables)
                .await?;
            Ok(Arc::new(
                answer
                    .into_iter()
                    .map(|(key, text)| (key, Bytes::from(text)))
                    .collect(),
            ))
        })
        .await
        .cloned()
    }
}

/// The variables as text for the cache key (they may change an introspection answer, e.g.
/// `__type(name: $name)`).
fn variables_key(variables: &Variables<S>) -> String {
    let mut names: Vec<&String> = variables.keys().collect();
    names.sort();
    names
        .into_iter()
        .map(|n| format!("{n}={}", variables[n]))
        .collect::<Vec<_>>()
        .join("&")
}
