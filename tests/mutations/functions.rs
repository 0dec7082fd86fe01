//! Function mutations of each kind, and what a failing one keeps.

use crate::common::{self, app_with, Options};
use crate::{count, field_error, fixture, unb64, FIXTURE};
use serde_json::json;

#[tokio::test]
async fn function_mutations_return_scalars_rows_sets_and_tokens() {
    let app = fixture().await;
    let r = app
        .gql(
            "mutation { addNumbers(input: {a: 2, b: 3, clientMutationId: \"n\"}) { clientMutationId integer } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["addNumbers"],
        json!({"clientMutationId": "n", "integer": 5}),
        "{}",
        r.body
    );

    // One row: its relations and its edge too.
    let tools = app
        .sql("select id from app_public.categories where slug = 'tools'")
        .await[0]["id"]
        .clone();
    let r = app
        .gql(
            "mutation($c: Int) { makeItem(input: {code: \"m1\", categoryId: $c}) { \
               item { code categoryByCategoryId { slug } } categoryByCategoryId { label } \
               itemEdge { cursor node { code } } query { allItems { totalCount } } } }",
            json!({"c": tools}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    let p = &r.data()["makeItem"];
    assert_eq!(
        p["item"],
        json!({"code": "m1", "categoryByCategoryId": {"slug": "tools"}})
    );
    assert_eq!(p["categoryByCategoryId"]["label"], "Tools");
    assert_eq!(p["itemEdge"]["node"]["code"], "m1");
    let id = app
        .sql("select id from app_public.items where code = 'm1'")
        .await[0]["id"]
        .clone();
    assert_eq!(
        unb64(&p["itemEdge"]["cursor"]),
        format!("[\"primary_key_asc\",[{id}]]")
    );
    assert_eq!(p["query"]["allItems"]["totalCount"], 1);

    // A set of rows is a list.
    let r = app
        .gql(
            "mutation { makeItems(input: {prefix: \"s\", n: 3}) { items { code quantity } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["makeItems"]["items"],
        json!([{"code": "s1", "quantity": 0}, {"code": "s2", "quantity": 0}, {"code": "s3", "quantity": 0}]),
        "{}",
        r.body
    );
    // A set of scalars is a list too.
    let r = app
        .gql(
            "mutation { renameItems(input: {prefix: \"s\"}) { strings } }",
            json!({}),
            None,
        )
        .await;
    let mut codes: Vec<String> = serde_json::from_value(r.data()["renameItems"]["strings"].clone())
        .unwrap_or_else(|_| panic!("{}", r.body));
    codes.sort();
    assert_eq!(codes, ["s1", "s2", "s3"]);
    assert_eq!(
        app.sql("select count(*) as n from app_public.items where note = 'renamed'")
            .await[0]["n"],
        3
    );

    // A token: signed, its attributes the claims.
    let r = app
        .gql(
            "mutation { issueToken(input: {userId: 42}) { jwtToken } }",
            json!({}),
            None,
        )
        .await;
    let token = r.data()["issueToken"]["jwtToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", r.body));
    let claims = common::claims(token);
    assert_eq!(claims["user_id"], 42);
    assert_eq!(claims["role"], "app_user");
}

#[tokio::test]
async fn a_failing_function_mutation_keeps_nothing_it_wrote_and_the_others_their_results() {
    let app = fixture().await;
    let r = app
        .gql(
            "mutation { \
               a: makeItem(input: {code: \"before\"}) { item { code } } \
               b: failAfterInsert(input: {code: \"half\"}) { item { code } } \
               c: makeItem(input: {code: \"after\"}) { item { code } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.data()["a"]["item"]["code"], "before", "{}", r.body);
    assert_eq!(r.data()["c"]["item"]["code"], "after", "{}", r.body);
    let (code, message, _) = field_error(&r, "b");
    assert_eq!(code, "P0001");
    assert_eq!(message, "refused after writing half");
    assert_eq!(
        app.sql("select code from app_public.items order by id")
            .await,
        vec![json!({"code": "before"}), json!({"code": "after"})]
    );
    // Alone, too: the whole transaction is rolled back.
    let r = app
        .gql(
            "mutation { failAfterInsert(input: {code: \"alone\"}) { item { code } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(field_error(&r, "failAfterInsert").0, "P0001");
    assert_eq!(count(&app, "items").await, 2);
}

#[tokio::test]
async fn disable_default_mutations_keeps_function_mutations_only() {
    let app = app_with(Options {
        setup_sql: Some(FIXTURE),
        disable_default_mutations: true,
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ __type(name: \"Mutation\") { fields { name } } }",
            json!({}),
            None,
        )
        .await;
    let mut names: Vec<String> = r.data()["__type"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.body))
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "addNumbers",
            "createCategories",
            "failAfterInsert",
            "issueToken",
            "makeItem",
            "makeItems",
            "refresh",
            "renameItems",
            "signin",
            "signinWithRefresh",
            "signout",
            "signoutEverywhere",
            "signup",
            "signupWithRefresh"
        ]
    );
    let r = app
        .gql(
            "mutation { createItem(input: {item: {code: \"x\"}}) { item { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(count(&app, "items").await, 0);
    let r = app
        .gql(
            "mutation { makeItem(input: {code: \"x\"}) { item { code } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.data()["makeItem"]["item"]["code"], "x", "{}", r.body);
}
