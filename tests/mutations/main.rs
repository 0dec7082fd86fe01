//! The write API through HTTP against a real Postgres: CRUD payloads as PostGraphile v4 builds
//! them, updates and deletes by every key, patches, constraint and RLS refusals that change
//! nothing, and function mutations of each kind.

#[path = "../common/mod.rs"]
mod common;
mod crud;
mod functions;
mod upsert_bulk;

use common::{app_with, Options, TestApp};
use serde_json::{json, Value};

pub(crate) const FIXTURE: &str = include_str!("../fixtures/mutations.sql");

pub(crate) async fn fixture() -> TestApp {
    app_with(Options {
        setup_sql: Some(FIXTURE),
        ..Options::default()
    })
    .await
}

pub(crate) fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

pub(crate) fn unb64(s: &Value) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap_or_else(|| panic!("not a string: {s}")))
        .expect("base64");
    String::from_utf8(bytes).expect("utf8")
}

/// Runs statements as superuser (setup that returns nothing).
pub(crate) async fn exec(app: &TestApp, sql: &str) {
    let admin = postgraph::db::connect(&app.admin_url).await.expect("admin");
    admin.batch_execute(sql).await.expect("sql");
}

pub(crate) async fn rows(app: &TestApp) -> Vec<Value> {
    app.sql("select code, quantity, note from app_public.items order by id")
        .await
}

pub(crate) async fn count(app: &TestApp, table: &str) -> i64 {
    app.sql(&format!("select count(*) as n from app_public.{table}"))
        .await[0]["n"]
        .as_i64()
        .expect("count")
}

/// The one error of a reply that failed field `field`: its code, message and constraint.
pub(crate) fn field_error(r: &common::Reply, field: &str) -> (String, String, Option<String>) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()[field].is_null(), "{}", r.body);
    let e = r
        .errors()
        .and_then(|es| es.iter().find(|e| e["path"] == json!([field])))
        .unwrap_or_else(|| panic!("no error for {field}: {}", r.body));
    (
        e["extensions"]["code"].as_str().unwrap_or("").to_string(),
        e["message"].as_str().unwrap_or("").to_string(),
        e["extensions"]["constraint"].as_str().map(str::to_string),
    )
}
