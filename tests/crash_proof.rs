//! No client input crashes a request: variable types the schema lacks are validation errors
//! (juniper would panic looking them up), and a panic anywhere in a request is answered 500
//! with a code while the server goes on serving.

mod common;

use common::{app, app_with, Options};
use serde_json::json;

#[tokio::test]
async fn unknown_variable_types_are_400_validation_errors() {
    let app = app().await;
    for query in [
        "query($x: NoSuchType = 1) { __typename }",
        "query($x: [NoSuchType] = [1]) { __typename }",
        "query($x: NoSuchType! = 1) { __typename }",
        "query($x: [[NoSuchType!]!] = [[1]]) { __typename }",
        "query($x: NoSuchType) { __typename }",
        "query Q($a: Int = 1, $x: NoSuchType = {a: 1}) { __typename }",
        "mutation($x: NoSuchType = \"s\") { __typename }",
    ] {
        let r = app.gql(query, json!({}), None).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
        let message = r.errors().unwrap()[0]["message"].as_str().unwrap();
        assert!(message.contains("NoSuchType"), "{query}: {message}");
        assert_eq!(
            r.first_error_code(),
            Some("GRAPHQL_VALIDATION_FAILED"),
            "{query}"
        );
    }
    // Known types with wrong defaults stay ordinary validation errors.
    for query in [
        "query($x: Int = \"one\") { __typename }",
        "query($x: Query = 1) { __typename }",
        "query($x: [Int!]! = [null]) { __typename }",
    ] {
        let r = app.gql(query, json!({}), None).await;
        assert_eq!(r.status, 400, "{query}: {}", r.body);
    }
}

#[tokio::test]
async fn a_panic_in_a_request_is_a_500_with_a_code_and_the_server_keeps_serving() {
    let app = app_with(Options {
        panic_path: Some("/boom".into()),
        ..Options::default()
    })
    .await;
    let base = format!("http://{}", app.running.addr);
    for _ in 0..2 {
        let r = app.http.get(format!("{base}/boom")).send().await.unwrap();
        assert_eq!(r.status(), 500);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"],
            "INTERNAL_SERVER_ERROR"
        );
        let r = app.gql("{ __typename }", json!({}), None).await;
        assert_eq!((r.status, r.data()), (200, &json!({"__typename": "Query"})));
    }
}
