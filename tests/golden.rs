//! The query corpus with its expected answers as readable files: every
//! `compare/queries/*.graphql` (the corpus the v4 comparison harness runs) against the
//! example app with the samples fixture and the comparison's seed rows, in file-name order
//! (mutations change what later queries see), compared with `tests/golden/<query>.json`:
//! HTTP status, `data`, and each error's message, path and code. JWTs are shown as their
//! claims' names, as compare/compare.js does.
//!
//! The expected files are postgraph's answers, checked against PostGraphile v4's on the same
//! database with `compare/run.sh`; where they differ on purpose the README says why.
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites them after a deliberate change.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const SETUP: &str = concat!(
    include_str!("fixtures/json_values.sql"),
    include_str!("fixtures/v4_functions.sql"),
    include_str!("fixtures/v4_schema.sql"),
    include_str!("fixtures/v4_types.sql"),
    include_str!("../compare/fixtures/10_forum.sql"),
    include_str!("../compare/fixtures/20_samples.sql"),
    // The filter corpus (compare/queries/5x_filter_*) reads its own tables.
    include_str!("fixtures/filter.sql"),
);

/// The seed accounts of compare/fixtures/10_forum.sql.
const PASSWORDS: &[(&str, &str)] = &[
    ("alice", "correct horse"),
    ("bob", "battery staple"),
    ("carol", "carol-password"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `# name: value` lines at the top of a query file (`token`, `variables`).
fn directive<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix('#')?.trim_start();
        let value = rest.strip_prefix(name)?.strip_prefix(':')?;
        Some(value.trim())
    })
}

/// A JWT as its claims' names (values too, but `exp` and `iat` which change every run).
fn mask_tokens(v: Value) -> Value {
    match v {
        Value::String(s) if is_jwt(&s) => {
            let claims = common::claims(&s);
            let mut keys: Vec<(&String, &Value)> = claims.as_object().unwrap().iter().collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = keys
                .iter()
                .map(|(k, v)| match k.as_str() {
                    "exp" | "iat" => k.to_string(),
                    _ => format!("{k}={v}"),
                })
                .collect();
            Value::String(format!("<jwt {}>", parts.join(" ")))
        }
        Value::Array(a) => Value::Array(a.into_iter().map(mask_tokens).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, x)| (k, mask_tokens(x))).collect())
        }
        other => other,
    }
}

fn is_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    s.starts_with("eyJ")
        && parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// What the expected file holds of a response.
fn observed(status: u16, body: &Value) -> Value {
    let mut out = Map::new();
    out.insert("status".into(), json!(status));
    if let Some(data) = body.get("data") {
        out.insert("data".into(), mask_tokens(data.clone()));
    }
    if let Some(errors) = body["errors"].as_array() {
        let errors: Vec<Value> = errors
            .iter()
            .map(|e| {
                json!({
                    "message": e["message"],
                    "path": e.get("path").cloned().unwrap_or(Value::Null),
                    "code": e["extensions"]["code"],
                })
            })
            .collect();
        out.insert("errors".into(), Value::Array(errors));
    }
    Value::Object(out)
}

async fn sign_in(app: &TestApp, who: &str, password: &str) -> String {
    let r = app
        .gql(
            "mutation($e: String!, $p: String!) { signin(input: {email: $e, password: $p}) { jwtToken } }",
            json!({"e": format!("{who}@example.com"), "p": password}),
            None,
        )
        .await;
    r.data()["signin"]["jwtToken"]
        .as_str()
        .unwrap_or_else(|| panic!("signin {who}: {}", r.body))
        .to_string()
}

fn expected_path(name: &str) -> PathBuf {
    root().join("tests/golden").join(format!("{name}.json"))
}

#[tokio::test]
async fn the_query_corpus_answers_as_its_expected_files_say() {
    let app = app_with(Options {
        setup_sql: Some(SETUP),
        ..Options::default()
    })
    .await;
    let mut tokens = std::collections::HashMap::new();
    for (who, password) in PASSWORDS {
        tokens.insert(*who, sign_in(&app, who, password).await);
    }
    let dir = root().join("compare/queries");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("compare/queries")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    assert!(files.len() > 40, "the corpus is in {}", dir.display());
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = vec![];
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(file).unwrap();
        let variables: Value = directive(&text, "variables")
            .map(|v| serde_json::from_str(v).expect("variables are JSON"))
            .unwrap_or(json!({}));
        let token = directive(&text, "token").map(|who| tokens[who].as_str());
        let r = app.gql(&text, variables, token).await;
        let got = observed(r.status, &r.body);
        let path = expected_path(name);
        if update {
            let pretty = serde_json::to_string_pretty(&got).unwrap() + "\n";
            std::fs::write(&path, pretty).expect("write expected file");
            continue;
        }
        let expected: Value = match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str(&t).expect("expected file is JSON"),
            Err(_) => {
                mismatches.push(format!("{name}: no expected file {}", path.display()));
                continue;
            }
        };
        if got != expected {
            mismatches.push(format!(
                "{name}:\n  expected {}\n  got      {}",
                short(&expected),
                short(&got)
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} corpus answers differ from tests/golden/ (UPDATE_GOLDEN=1 rewrites them \
         after a deliberate change):\n{}",
        mismatches.len(),
        files.len(),
        mismatches.join("\n")
    );
    // Every expected file belongs to a query (none left behind by a renamed query).
    for entry in std::fs::read_dir(root().join("tests/golden")).unwrap() {
        let p = entry.unwrap().path();
        let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
        assert!(
            Path::new(&dir).join(format!("{stem}.graphql")).exists(),
            "{} has no query in compare/queries",
            p.display()
        );
    }
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(600).collect()
}
