//! Mutations on views, as PostGraphile v4 gives them: the CRUD actions Postgres allows on
//! the relation (`pg_relation_is_updatable`), update and delete by the `@primaryKey` smart
//! tag; a view Postgres cannot write through (a join, an aggregate) and a materialized
//! view get none; tables are unchanged.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::{json, Value};

const SETUP: &str = r#"
create table app_public.gadgets (
  id     serial primary key,
  name   text not null,
  weight int
);
insert into app_public.gadgets (name, weight) values ('lamp', 3), ('kettle', 5);
-- Auto-updatable: one table, no aggregate.
create view app_public.light_gadgets as
  select id, name, weight from app_public.gadgets where weight < 100;
comment on view app_public.light_gadgets is E'@primaryKey id';
-- Not updatable: a join and an aggregate.
create view app_public.gadget_totals as
  select g.id, g.name, count(h.id) as twins
  from app_public.gadgets g join app_public.gadgets h on h.name = g.name
  group by g.id, g.name;
comment on view app_public.gadget_totals is E'@primaryKey id';
create materialized view app_public.gadget_snapshots as select id, name from app_public.gadgets;
comment on materialized view app_public.gadget_snapshots is E'@primaryKey id';
grant select, insert, update, delete on app_public.gadgets, app_public.light_gadgets,
  app_public.gadget_totals to app_anonymous;
grant select on app_public.gadget_snapshots to app_anonymous;
"#;

async fn fixture() -> TestApp {
    app_with(Options {
        setup_sql: Some(SETUP),
        ..Options::default()
    })
    .await
}

async fn mutation_names(app: &TestApp) -> Vec<String> {
    let r = app
        .gql(
            "{ __schema { mutationType { fields { name } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.data()["__schema"]["mutationType"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name").to_string())
        .collect()
}

async fn gadgets(app: &TestApp) -> Vec<Value> {
    app.sql("select id, name, weight from app_public.gadgets order by id")
        .await
}

#[tokio::test]
async fn updatable_view_gets_crud_that_writes_through_to_its_table() {
    let app = fixture().await;
    let names = mutation_names(&app).await;
    for m in [
        "createLightGadget",
        "updateLightGadget",
        "updateLightGadgetById",
        "deleteLightGadget",
        "deleteLightGadgetById",
    ] {
        assert!(names.contains(&m.to_string()), "{m} missing: {names:?}");
    }

    // `@primaryKey` makes `id` non-null, so the input requires it (as in v4).
    let r = app
        .gql(
            r#"mutation { createLightGadget(input: {lightGadget: {id: 3, name: "fan", weight: 7}}) {
                 lightGadget { id name weight } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(
        r.data()["createLightGadget"]["lightGadget"],
        json!({"id": 3, "name": "fan", "weight": 7})
    );

    let r = app
        .gql(
            r#"mutation { updateLightGadgetById(input: {id: 1, lightGadgetPatch: {weight: 4}}) {
                 lightGadget { id name weight } } }"#,
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(
        r.data()["updateLightGadgetById"]["lightGadget"],
        json!({"id": 1, "name": "lamp", "weight": 4})
    );

    let r = app
        .gql(
            r#"mutation { deleteLightGadgetById(input: {id: 2}) { lightGadget { id name } } }"#,
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(
        r.data()["deleteLightGadgetById"]["lightGadget"],
        json!({"id": 2, "name": "kettle"})
    );

    assert_eq!(
        gadgets(&app).await,
        vec![
            json!({"id": 1, "name": "lamp", "weight": 4}),
            json!({"id": 3, "name": "fan", "weight": 7}),
        ]
    );
}

#[tokio::test]
async fn views_postgres_cannot_write_through_get_no_mutations_and_tables_keep_theirs() {
    let app = fixture().await;
    let names = mutation_names(&app).await;
    for m in &names {
        assert!(
            !m.contains("GadgetTotal") && !m.contains("GadgetSnapshot"),
            "{m} on a view Postgres cannot write through"
        );
    }
    for m in [
        "createGadget",
        "upsertGadget",
        "updateGadget",
        "updateGadgetById",
        "deleteGadget",
        "deleteGadgetById",
    ] {
        assert!(names.contains(&m.to_string()), "{m} missing: {names:?}");
    }
    // Still readable, and writing to them is refused at validation: nothing changes.
    let r = app
        .gql(
            "{ allGadgetTotals { nodes { id twins } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(
        r.data()["allGadgetTotals"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let r = app
        .gql(
            r#"mutation { deleteGadgetTotalById(input: {id: 1}) { clientMutationId } }"#,
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    assert_eq!(gadgets(&app).await.len(), 2);
}
