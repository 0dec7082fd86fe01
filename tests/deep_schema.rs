//! Schema shapes that grow: a relation chain thousands of tables deep builds (no recursion
//! whose depth follows the schema), and its API answers.

mod common;

use postgraph::db;

const GENERATOR: &str = include_str!("../bench/generate_schema.sql");

/// A fresh database holding `n` generated tables, each referencing one of the `spread` before it.
async fn generated(n: u32, spread: u32) -> String {
    let url = common::empty_database().await;
    let client = db::connect(&url).await.expect("connect");
    client.batch_execute(GENERATOR).await.expect("generator");
    client
        .batch_execute(&format!("call gen.generate({n}, {spread})"))
        .await
        .expect("generate");
    url
}

#[tokio::test]
async fn a_foreign_key_chain_thousands_of_tables_deep_builds_and_answers() {
    // Every table references the one before it: relations chain 2,000 deep.
    let url = generated(2000, 1).await;
    let client = db::connect(&url).await.expect("connect");
    let schemas = ["gen".to_string()];
    let api = postgraph::server::build_api(&client, &schemas, &None)
        .await
        .expect("the schema builds");
    let sdl = api.sdl();
    assert!(sdl.contains("type T2000 implements Node"), "T2000 missing");
    assert!(
        sdl.contains("t1999ByT1999Id: T1999"),
        "the chain's last relation is missing"
    );
    // The far end of the chain is reachable from the API too.
    let op = api
        .prepare(
            "{ t1ById(id: 1) { t2SByT1Id { totalCount } } allT2000S { totalCount } }",
            None,
            &Default::default(),
        )
        .expect("a query on both ends of the chain validates");
    assert_eq!(op.fields.len(), 2);
}
