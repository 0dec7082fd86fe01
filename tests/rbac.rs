//! `--no-ignore-rbac`: tables, columns, mutations and functions the connecting role (or a
//! role it is a member of) has no privilege for are left out, as in PostGraphile v4; without
//! the flag everything is exposed.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::{json, Value};

/// The authenticator is a member of app_anonymous and app_user; these grants are theirs.
const PARTIAL_GRANTS: &str = r#"
create table app_public.gadgets (
  id serial primary key,
  name text not null,
  secret text,
  price int
);
grant select on app_public.gadgets to app_anonymous;
grant insert (name, price), update (price) on app_public.gadgets to app_user;
-- Column-level SELECT: `secret` is nobody's.
create table app_public.profiles (id int primary key, name text, secret text);
grant select (id, name) on app_public.profiles to app_anonymous;
insert into app_public.profiles values (1, 'pat', 'hidden');
grant usage on sequence app_public.gadgets_id_seq to app_user;
-- Nothing at all: only a SECURITY DEFINER function could reach it.
create table app_public.vaults (id int primary key, content text);
-- Read and delete, never written.
create table app_public.ledgers (id int primary key, amount int);
grant select, delete on app_public.ledgers to app_user;
create function app_public.granted_fn() returns int language sql stable as 'select 1';
grant execute on function app_public.granted_fn() to app_anonymous;
-- No EXECUTE (the example app's default privileges do not grant it to PUBLIC).
create function app_public.locked_fn() returns int language sql stable as 'select 2';
create function app_public.locked_mutation() returns int language sql volatile as 'select 3';
"#;

async fn app(no_ignore_rbac: bool) -> TestApp {
    app_with(Options {
        setup_sql: Some(PARTIAL_GRANTS),
        schema_flags: postgraph::schema::SchemaFlags {
            no_ignore_rbac,
            ..Default::default()
        },
        ..Options::default()
    })
    .await
}

/// The names of a type's fields, input fields or enum values (empty when there is no such type).
async fn names(app: &TestApp, ty: &str) -> Vec<String> {
    let r = app
        .gql(
            "query($t: String!) { __type(name: $t) { fields { name } inputFields { name } enumValues { name } } }",
            json!({ "t": ty }),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = &r.data()["__type"];
    ["fields", "inputFields", "enumValues"]
        .iter()
        .flat_map(|k| t[k].as_array().cloned().unwrap_or_default())
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

fn has(list: &[String], name: &str) -> bool {
    list.iter().any(|n| n == name)
}

#[tokio::test]
async fn without_grants_tables_columns_mutations_and_functions_are_left_out() {
    let app = app(true).await;
    let query = names(&app, "Query").await;
    let mutation = names(&app, "Mutation").await;
    for present in [
        "allGadgets",
        "gadgetById",
        "allLedgers",
        "grantedFn",
        "allPosts",
    ] {
        assert!(has(&query, present), "{present}: {query:?}");
    }
    for absent in ["allVaults", "vaultById", "vault", "lockedFn"] {
        assert!(!has(&query, absent), "{absent}: {query:?}");
    }
    for present in [
        "createGadget",
        "updateGadgetById",
        "deleteLedgerById",
        "createPost",
    ] {
        assert!(has(&mutation, present), "{present}: {mutation:?}");
    }
    for absent in [
        "deleteGadgetById",
        "createVault",
        "updateVaultById",
        "deleteVaultById",
        "createLedger",
        "updateLedgerById",
        "lockedMutation",
    ] {
        assert!(!has(&mutation, absent), "{absent}: {mutation:?}");
    }
    // Columns: INSERT on name and price only, UPDATE on price only; no SELECT on
    // `profiles.secret` (not read, no condition, no order).
    assert_eq!(
        names(&app, "Gadget").await,
        ["nodeId", "id", "name", "secret", "price"]
    );
    assert_eq!(names(&app, "GadgetInput").await, ["name", "price"]);
    assert_eq!(names(&app, "GadgetPatch").await, ["price"]);
    assert_eq!(names(&app, "Profile").await, ["nodeId", "id", "name"]);
    assert!(!has(&names(&app, "ProfileCondition").await, "secret"));
    assert!(!has(&names(&app, "ProfilesOrderBy").await, "SECRET_ASC"));
    assert!(has(&names(&app, "ProfilesOrderBy").await, "NAME_ASC"));
    // A table nobody may use is not in the schema at all.
    assert!(names(&app, "Vault").await.is_empty());

    // What is left works for the roles that have the grants.
    let token = app.signup("gina").await;
    let r = app
        .gql(
            "mutation { createGadget(input: {gadget: {name: \"lamp\", price: 3}}) { gadget { id name price } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        r.data()["createGadget"]["gadget"],
        json!({"id": 1, "name": "lamp", "price": 3}),
        "{}",
        r.body
    );
    let r = app
        .gql(
            "mutation { updateGadgetById(input: {id: 1, gadgetPatch: {price: 5}}) { gadget { price } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        r.data()["updateGadgetById"]["gadget"]["price"],
        5,
        "{}",
        r.body
    );
    let rows: Vec<Value> = app
        .sql("select name, price, secret from app_public.gadgets")
        .await;
    assert_eq!(rows, [json!({"name": "lamp", "price": 5, "secret": null})]);
    let r = app
        .gql(
            "{ grantedFn profileById(id: 1) { id name } allProfiles { totalCount nodes { id name } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data(),
        &json!({
            "grantedFn": 1,
            "profileById": {"id": 1, "name": "pat"},
            "allProfiles": {"totalCount": 1, "nodes": [{"id": 1, "name": "pat"}]}
        }),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn by_default_privileges_are_ignored() {
    let app = app(false).await;
    let query = names(&app, "Query").await;
    let mutation = names(&app, "Mutation").await;
    assert!(
        has(&query, "allVaults") && has(&query, "lockedFn"),
        "{query:?}"
    );
    assert!(
        has(&mutation, "deleteGadgetById") && has(&mutation, "lockedMutation"),
        "{mutation:?}"
    );
    assert!(has(&names(&app, "Profile").await, "secret"));
    assert!(has(&names(&app, "GadgetPatch").await, "name"));
    // The database still says no.
    let r = app
        .gql("{ allVaults { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.first_error_code(), Some("42501"), "{}", r.body);
}
