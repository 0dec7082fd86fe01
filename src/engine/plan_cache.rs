//! The compiled-plan cache: a query text (and operation name) is parsed, validated, planned
//! and turned into SQL once; later requests only re-bind their variables as parameters.
//!
//! Some variable values shape the SQL (`first`, `orderBy`, `@skip`, a `null` condition,
//! which keys an input object has), others are plain parameters. A cached plan therefore
//! records which variable leaves it bound as parameters; it serves a request whose
//! variables match it everywhere else. A few such variants (operation name and variable
//! shape) are kept per query text, which is the key so that a lookup copies nothing.

use super::CompiledOperation;
use crate::graphql::document::{leaf, PathSeg, Value, VarPath};
use crate::graphql::schema::S;
use juniper::{InputValue, Variables};
use lru::LruCache;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

const QUERIES: usize = 512;
const VARIANTS_PER_QUERY: usize = 8;

struct Variant {
    operation_name: Option<String>,
    shape: String,
    compiled: Arc<CompiledOperation>,
}

pub struct PlanCache {
    entries: Mutex<LruCache<String, Vec<Variant>>>,
}

impl Default for PlanCache {
    fn default() -> Self {
        PlanCache {
            entries: Mutex::new(LruCache::new(NonZeroUsize::new(QUERIES).expect("non-zero"))),
        }
    }
}

impl PlanCache {
    pub fn get(
        &self,
        query: &str,
        operation_name: Option<&str>,
        variables: &Variables<S>,
    ) -> Option<Arc<CompiledOperation>> {
        let mut entries = self.entries.lock().expect("plan cache");
        let variants = entries.get(query)?;
        variants
            .iter()
            .filter(|v| v.operation_name.as_deref() == operation_name)
            .find(|v| shape(variables, &v.compiled.param_paths) == v.shape)
            .map(|v| v.compiled.clone())
    }

    pub fn put(
        &self,
        query: &str,
        operation_name: Option<&str>,
        variables: &Variables<S>,
        compiled: Arc<CompiledOperation>,
    ) {
        let shape = shape(variables, &compiled.param_paths);
        let mut entries = self.entries.lock().expect("plan cache");
        let variants = entries.get_or_insert_mut(query.to_string(), Vec::new);
        let known = variants
            .iter()
            .any(|v| v.operation_name.as_deref() == operation_name && v.shape == shape);
        if variants.len() < VARIANTS_PER_QUERY && !known {
            variants.push(Variant {
                operation_name: operation_name.map(str::to_string),
                shape,
                compiled,
            });
        }
    }
}

/// The variables with every parameter-bound leaf reduced to whether it is null: two requests
/// with the same shape compile to the same SQL.
fn shape(variables: &Variables<S>, params: &HashSet<VarPath>) -> String {
    let mut names: Vec<&String> = variables.keys().collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        let mut path = VarPath {
            name: name.clone(),
            path: vec![],
        };
        let _ = write!(out, "{name}=");
        write_shape(&variables[name.as_str()], &mut path, params, &mut out);
        out.push(';');
    }
    out
}

fn write_shape(v: &InputValue<S>, path: &mut VarPath, params: &HashSet<VarPath>, out: &mut String) {
    match v {
        InputValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                path.path.push(PathSeg::Index(i));
                write_shape(&item.item, path, params, out);
                path.path.pop();
                out.push(',');
            }
            out.push(']');
        }
        InputValue::Object(fields) => {
            out.push('{');
            for (k, item) in fields {
                let _ = write!(out, "{:?}:", k.item);
                path.path.push(PathSeg::Key(k.item.clone()));
                write_shape(&item.item, path, params, out);
                path.path.pop();
                out.push(',');
            }
            out.push('}');
        }
        InputValue::Null if params.contains(path) => out.push_str("null"),
        _ if params.contains(path) => out.push('$'),
        other => {
            let _ = write!(out, "{:?}", leaf(other));
        }
    }
}

/// The leaf of the request's variables at `path` (null when absent).
pub fn variable_leaf(variables: &Variables<S>, path: &VarPath) -> Value {
    let mut v = match variables.get(&path.name) {
        Some(v) => v,
        None => return Value::Null,
    };
    for seg in &path.path {
        let next = match (seg, v) {
            (PathSeg::Index(i), InputValue::List(items)) => items.get(*i).map(|s| &s.item),
            (PathSeg::Key(k), InputValue::Object(fields)) => fields
                .iter()
                .find(|(name, _)| name.item == *k)
                .map(|(_, s)| &s.item),
            _ => None,
        };
        match next {
            Some(n) => v = n,
            None => return Value::Null,
        }
    }
    leaf(v)
}
