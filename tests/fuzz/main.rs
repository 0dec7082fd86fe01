//! Fuzzing the whole request path (parse → validate → plan → SQL → Postgres) with documents
//! generated from the served schema, valid and corrupted, anonymous and signed in. Whatever
//! arrives, postgraph must answer 200 or 400 with a JSON body, and a document it accepts must
//! never yield SQL that Postgres rejects as malformed (those are engine bugs, not user errors).
//!
//! CI replays the corpus and a fixed-seed run of `FUZZ_CASES` (default 400) cases. By hand:
//! `FUZZ_SEED=random FUZZ_CASES=20000 cargo test --release --test fuzz -- --nocapture`. A
//! failing case is written to `target/fuzz-failures/`; once fixed, move it into
//! `tests/fuzz/corpus/` so it is replayed on every run.

#[path = "../common/mod.rs"]
mod common;
mod generate;

use common::{app_with, Options, TestApp};
use generate::{Case, Rng, Schema};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(
    include_str!("../fixtures/json_values.sql"),
    include_str!("../fixtures/mutations.sql"),
    include_str!("../fixtures/filter.sql")
);

/// SQLSTATEs that mean the engine wrote SQL Postgres could not take, whatever the input.
fn engine_bug(code: &str) -> bool {
    let class = code.get(..2).unwrap_or("");
    code.len() == 5
        && ((class == "42" && code != "42501")
            || ["0A", "08", "25", "26", "34", "XX", "54", "39", "2F"].contains(&class))
        || code == "INTERNAL_SERVER_ERROR"
}

/// What is wrong with postgraph's answer to `case`, if anything.
async fn check(app: &TestApp, case: &Case, token: &str) -> Option<String> {
    let body = json!({"query": case.query, "variables": case.variables}).to_string();
    let bearer = format!("Bearer {token}");
    let headers: Vec<(&str, &str)> = if case.signed_in {
        vec![("authorization", bearer.as_str())]
    } else {
        vec![]
    };
    let r = app.post_raw(body, &headers).await;
    if r.status != 200 && r.status != 400 {
        return Some(format!("status {}: {}", r.status, r.body));
    }
    let errors = r.errors().cloned().unwrap_or_default();
    if r.status == 200 && r.body.get("data").is_none() {
        return Some(format!("200 without data: {}", r.body));
    }
    if r.status == 400 && errors.is_empty() {
        return Some(format!("400 without errors: {}", r.body));
    }
    for e in &errors {
        let code = e["extensions"]["code"].as_str().unwrap_or("");
        if engine_bug(code) {
            return Some(format!("engine error {code}: {}", r.body));
        }
    }
    None
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed() -> u64 {
    match std::env::var("FUZZ_SEED").as_deref() {
        Ok("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
        Ok(s) => s.parse().expect("FUZZ_SEED is a number or `random`"),
        Err(_) => 20261202,
    }
}

/// Keeps a failing case where a developer finds it, as a corpus file.
fn save_failure(case: &Case, what: &str, seed: u64, n: u64) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    std::fs::create_dir_all(&dir).expect("failure dir");
    let path = dir.join(format!("{seed}-{n}.graphql"));
    std::fs::write(&path, corpus_text(case, what)).expect("write failure");
    path.display().to_string()
}

/// A corpus file: the document, with the variables and whether it is signed in as comments.
fn corpus_text(case: &Case, what: &str) -> String {
    format!(
        "# {}\n# variables: {}\n# signed-in: {}\n{}\n",
        what.lines().next().unwrap_or(""),
        case.variables,
        case.signed_in,
        case.query
    )
}

fn parse_corpus(text: &str) -> Case {
    let mut variables = json!({});
    let mut signed_in = false;
    let mut query = String::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("# variables: ") {
            variables = serde_json::from_str(v).expect("corpus variables are JSON");
        } else if let Some(v) = line.strip_prefix("# signed-in: ") {
            signed_in = v.trim() == "true";
        } else if !line.starts_with('#') {
            query.push_str(line);
            query.push('\n');
        }
    }
    Case {
        query,
        variables,
        signed_in,
    }
}

async fn fuzz_app() -> (TestApp, Schema, String) {
    let app = app_with(Options {
        setup_sql: Some(FIXTURES),
        // Filters on relations too, so generated filters reach EXISTS subqueries.
        schema_flags: postgraph::schema::SchemaFlags {
            filter: postgraph::schema::filter::FilterFlags {
                relations: true,
                ..Default::default()
            },
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let token = app.signup("fuzzer").await;
    let r = app.gql(generate::INTROSPECTION, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let schema = Schema::from_introspection(r.data());
    (app, schema, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_cases_are_answered_cleanly() {
    let (app, _, token) = fuzz_app().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus is in {}", dir.display());
    let mut failures = vec![];
    for path in &files {
        let case = parse_corpus(&std::fs::read_to_string(path).unwrap());
        if let Some(what) = check(&app, &case, &token).await {
            failures.push(format!("{}: {what}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_documents_never_break_the_engine() {
    let (app, schema, token) = fuzz_app().await;
    let seed = seed();
    let cases = env_number("FUZZ_CASES", 400);
    let mut rng = Rng::new(seed);
    let mut failures = vec![];
    let mut accepted = 0;
    for n in 0..cases {
        let case = if rng.chance(25) {
            generate::corrupted(&schema, &mut rng)
        } else {
            generate::valid(&schema, &mut rng)
        };
        match check(&app, &case, &token).await {
            Some(what) => {
                let path = save_failure(&case, &what, seed, n);
                failures.push(format!("case {n} ({path}): {what}\n  {}", case.query));
            }
            None => accepted += 1,
        }
        if failures.len() >= 5 {
            break;
        }
    }
    eprintln!("fuzz: seed {seed}, {accepted} cases answered cleanly");
    assert!(
        failures.is_empty(),
        "seed {seed}: {} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The engine is still healthy afterwards.
    let r = app.gql("{ query { __typename } }", Value::Null, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
