//! Upserts, bulk creates, generated columns and name clashes.

use crate::common::{self, app_with, Options};
use crate::{count, exec, field_error, fixture};
use serde_json::json;

#[tokio::test]
async fn upsert_inserts_or_updates_on_the_key_it_names_under_rls() {
    let app = fixture().await;
    let upsert = "mutation($i: ItemInput!, $k: ItemsUniqueKey) { upsertItem(input: {clientMutationId: \"u\", item: $i, onConflict: $k}) { \
                    clientMutationId item { id code quantity note } categoryByCategoryId { slug } itemEdge { node { code } } } }";
    let r = app
        .gql(
            upsert,
            json!({"i": {"code": "u1", "quantity": 1}, "k": "CODE"}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    let first = r.data()["upsertItem"]["item"].clone();
    assert_eq!(r.data()["upsertItem"]["clientMutationId"], "u");
    assert_eq!(first["quantity"], 1);
    exec(&app, "update app_public.items set note = 'kept'").await;
    // The same code again: an update of the columns given, the others left alone.
    let tools = app
        .sql("select id from app_public.categories where slug = 'tools'")
        .await[0]["id"]
        .clone();
    let r = app
        .gql(
            upsert,
            json!({"i": {"code": "u1", "quantity": 5, "categoryId": tools}, "k": "CODE"}),
            None,
        )
        .await;
    let p = &r.data()["upsertItem"];
    assert_eq!(
        p["item"],
        json!({"id": first["id"], "code": "u1", "quantity": 5, "note": "kept"}),
        "{}",
        r.body
    );
    assert_eq!(p["categoryByCategoryId"]["slug"], "tools");
    assert_eq!(p["itemEdge"]["node"]["code"], "u1");
    assert_eq!(count(&app, "items").await, 1);
    // By primary key (the default): the id conflicts, the code is updated.
    let r = app
        .gql(
            upsert,
            json!({"i": {"id": first["id"], "code": "u2"}}),
            None,
        )
        .await;
    assert_eq!(r.data()["upsertItem"]["item"]["code"], "u2", "{}", r.body);
    assert_eq!(
        app.sql("select code, quantity, note from app_public.items")
            .await,
        vec![json!({"code": "u2", "quantity": 5, "note": "kept"})]
    );
    // A refused value changes nothing; an unknown key is an error.
    let r = app
        .gql(
            upsert,
            json!({"i": {"code": "u2", "quantity": -1}, "k": "CODE"}),
            None,
        )
        .await;
    assert_eq!(field_error(&r, "upsertItem").0, "23514");
    let r = app
        .gql(
            "mutation { upsertItem(input: {item: {code: \"x\"}, onConflict: NOPE}) { item { id } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.status == 400 || r.errors().is_some(), "{}", r.body);
    assert_eq!(
        app.sql("select code, quantity, note from app_public.items")
            .await,
        vec![json!({"code": "u2", "quantity": 5, "note": "kept"})]
    );

    // RLS: a conflict with someone else's row is refused, and so is a row in their name.
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let alice_id = common::claims(&alice)["user_id"].clone();
    let r = app
        .gql(
            "mutation { upsertNote(input: {note: {body: \"alice's\"}}) { note { id } } }",
            json!({}),
            Some(&alice),
        )
        .await;
    let note = r.data()["upsertNote"]["note"]["id"].clone();
    assert!(note.is_i64(), "{}", r.body);
    let r = app
        .gql(
            "mutation($id: Int!) { upsertNote(input: {note: {id: $id, body: \"bob's now\"}}) { note { id } } }",
            json!({"id": note}),
            Some(&bob),
        )
        .await;
    assert_eq!(field_error(&r, "upsertNote").0, "42501", "{}", r.body);
    let r = app
        .gql(
            "mutation($a: Int!) { upsertNote(input: {note: {body: \"forged\", ownerId: $a}}) { note { id } } }",
            json!({"a": alice_id}),
            Some(&bob),
        )
        .await;
    assert_eq!(field_error(&r, "upsertNote").0, "42501", "{}", r.body);
    assert_eq!(
        app.sql("select owner_id, body from app_public.notes").await,
        vec![json!({"owner_id": alice_id, "body": "alice's"})]
    );
}

#[tokio::test]
async fn bulk_create_writes_every_row_in_one_statement_or_none() {
    let app = fixture().await;
    let bulk = "mutation($rows: [ItemInput!]!) { createItems(input: {clientMutationId: \"b\", items: $rows}) { \
                  clientMutationId items { code quantity } query { allItems { totalCount } } } }";
    let r = app
        .gql(
            bulk,
            json!({"rows": [{"code": "b1"}, {"code": "b2", "quantity": 3}, {"code": "b3", "note": "n"}]}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(
        r.data()["createItems"],
        json!({
            "clientMutationId": "b",
            "items": [{"code": "b1", "quantity": 0}, {"code": "b2", "quantity": 3}, {"code": "b3", "quantity": 0}],
            "query": {"allItems": {"totalCount": 3}}
        })
    );
    // Another number of rows through the same document.
    let r = app.gql(bulk, json!({"rows": [{"code": "b4"}]}), None).await;
    assert_eq!(
        r.data()["createItems"]["items"],
        json!([{"code": "b4", "quantity": 0}]),
        "{}",
        r.body
    );
    assert_eq!(count(&app, "items").await, 4);

    // One bad row: nothing is written.
    for (rows, sqlstate) in [
        (json!([{"code": "new1"}, {"code": "b1"}]), "23505"),
        (
            json!([{"code": "new2"}, {"code": "new3", "quantity": -2}]),
            "23514",
        ),
        (json!([{"code": "new4", "categoryId": 999}]), "23503"),
    ] {
        let r = app.gql(bulk, json!({"rows": rows}), None).await;
        assert_eq!(field_error(&r, "createItems").0, sqlstate, "{}", r.body);
        assert_eq!(count(&app, "items").await, 4);
    }
    let r = app.gql(bulk, json!({"rows": []}), None).await;
    assert!(r.errors().is_some(), "{}", r.body);
    assert_eq!(count(&app, "items").await, 4);

    // RLS is checked on every row: one in someone else's name refuses them all.
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let alice_id = common::claims(&alice)["user_id"].clone();
    let r = app
        .gql(
            "mutation($a: Int!) { createNotes(input: {notes: [{body: \"mine\"}, {body: \"forged\", ownerId: $a}]}) { notes { id } } }",
            json!({"a": alice_id}),
            Some(&bob),
        )
        .await;
    assert_eq!(field_error(&r, "createNotes").0, "42501", "{}", r.body);
    assert_eq!(count(&app, "notes").await, 0);
    let r = app
        .gql(
            "mutation { createNotes(input: {notes: [{body: \"one\"}, {body: \"two\"}]}) { notes { body ownerId } } }",
            json!({}),
            Some(&bob),
        )
        .await;
    let bob_id = common::claims(&bob)["user_id"].clone();
    assert_eq!(
        r.data()["createNotes"]["notes"],
        json!([{"body": "one", "ownerId": bob_id}, {"body": "two", "ownerId": bob_id}]),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn columns_only_postgres_writes_are_left_out_of_inputs_and_patches() {
    let app = fixture().await;
    let r = app
        .gql(
            "{ input: __type(name: \"TallyInput\") { inputFields { name } } \
               patch: __type(name: \"TallyPatch\") { inputFields { name } } \
               mutation: __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["input"]["inputFields"],
        json!([{"name": "qty"}]),
        "{}",
        r.body
    );
    assert_eq!(
        r.data()["patch"]["inputFields"],
        json!([{"name": "qty"}]),
        "{}",
        r.body
    );
    let names: Vec<&str> = r.data()["mutation"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .filter(|n| n.contains("Ticket"))
        .collect();
    // Nothing to write: no create or update, but rows can still be deleted.
    assert_eq!(names, ["deleteTicket", "deleteTicketById"], "{}", r.body);

    let r = app
        .gql(
            "mutation { createTally(input: {tally: {qty: 3}}) { tally { id qty doubled } } }",
            json!({}),
            None,
        )
        .await;
    let tally = &r.data()["createTally"]["tally"];
    assert_eq!(tally["qty"], 3, "{}", r.body);
    assert_eq!(tally["doubled"], 6, "{}", r.body);
    let r = app
        .gql(
            "mutation($id: Int!) { updateTallyById(input: {id: $id, tallyPatch: {qty: 4}}) { tally { doubled } } }",
            json!({"id": tally["id"]}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["updateTallyById"]["tally"]["doubled"],
        8,
        "{}",
        r.body
    );
    let r = app
        .gql(
            "mutation { createTally(input: {tally: {qty: 1, doubled: 5}}) { tally { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(count(&app, "tallies").await, 1);
}

#[tokio::test]
async fn a_function_keeps_its_v4_mutation_name_over_bulk_create() {
    let app = fixture().await;
    let r = app
        .gql(
            "mutation { createCategories(input: {n: 4}) { integer } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.data()["createCategories"]["integer"], 40, "{}", r.body);
    // Upsert and bulk create stay for tables whose names are free.
    let r = app
        .gql(
            "mutation { upsertCategory(input: {category: {slug: \"tools\", label: \"Hardware\"}, onConflict: SLUG}) { category { slug label } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["upsertCategory"]["category"],
        json!({"slug": "tools", "label": "Hardware"}),
        "{}",
        r.body
    );
    assert_eq!(count(&app, "categories").await, 2);
}

#[tokio::test]
async fn upsert_conflicts_only_on_constraints_an_insert_can_hit() {
    // `tallies`' only key is GENERATED ALWAYS AS IDENTITY (no insert supplies it, so it never
    // conflicts); a `@unique` smart tag is no constraint `ON CONFLICT` could name.
    let app = app_with(Options {
        setup_sql: Some(concat!(
            include_str!("../fixtures/mutations.sql"),
            "comment on table app_public.items is E'@unique note';"
        )),
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ keys: __type(name: \"ItemsUniqueKey\") { enumValues { name } } \
               mutation: __type(name: \"Mutation\") { fields { name } } \
               lookup: __type(name: \"Query\") { fields { name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.data()["keys"]["enumValues"],
        json!([{"name": "PRIMARY_KEY"}, {"name": "CODE"}]),
        "{}",
        r.body
    );
    let names = |root: &str| -> Vec<String> {
        r.data()[root]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["name"].as_str().map(str::to_string))
            .collect()
    };
    assert!(
        names("lookup").contains(&"itemByNote".to_string()),
        "{}",
        r.body
    );
    assert!(
        !names("mutation").contains(&"upsertTally".to_string()),
        "{}",
        r.body
    );
    assert!(
        names("mutation").contains(&"createTally".to_string()),
        "{}",
        r.body
    );

    let r = app
        .gql(
            "mutation { upsertTally(input: {tally: {}}) { tally { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert_eq!(count(&app, "tallies").await, 0);
}
