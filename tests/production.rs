//! `--production`: introspection and GraphiQL off, no suggestions in validation messages,
//! server-side error detail hidden (the code stays), client-facing errors unchanged.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::json;

/// A function failing with a server-side error (42P01) and one raising the app's own (P0001).
const FAILING: &str =
    "create function app_public.broken() returns integer language plpgsql stable as \
    $$ begin return (select count(*) from app_private.no_such_table); end $$; \
    create function app_public.refuse() returns integer language plpgsql stable as \
    $$ begin raise exception 'posting is closed today'; end $$; \
    grant execute on function app_public.broken(), app_public.refuse() to app_anonymous;";

async fn app(production: bool) -> TestApp {
    app_with(Options {
        production,
        setup_sql: Some(FAILING),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn production_turns_introspection_and_graphiql_off() {
    let app = app(true).await;
    let before = app.statement_count("%").await;
    for q in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Post\") { name } }",
        "{ allPosts { nodes { ... on Post { __schema { types { name } } } } } }",
    ] {
        let r = app.gql(q, json!({}), None).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert_eq!(
            r.first_error_code(),
            Some("INTROSPECTION_DISABLED"),
            "{}",
            r.body
        );
        let message = r.errors().unwrap()[0]["message"].as_str().unwrap();
        assert!(message.contains("introspection is disabled"), "{message}");
    }
    assert_eq!(app.statement_count("%").await, before, "nothing ran");
    // __typename is not introspection.
    let r = app.gql("{ __typename }", json!({}), None).await;
    assert_eq!(r.data()["__typename"], "Query", "{}", r.body);
    let graphiql = reqwest::get(format!("http://{}/graphiql", app.running.addr))
        .await
        .unwrap();
    assert_eq!(graphiql.status(), 404);

    // Without --production both work.
    let dev = self::app(false).await;
    let r = dev
        .gql("{ __schema { queryType { name } } }", json!({}), None)
        .await;
    assert_eq!(
        r.data()["__schema"]["queryType"]["name"],
        "Query",
        "{}",
        r.body
    );
    let graphiql = reqwest::get(format!("http://{}/graphiql", dev.running.addr))
        .await
        .unwrap();
    assert_eq!(graphiql.status(), 200);
}

#[tokio::test]
async fn production_validation_messages_carry_no_suggestions() {
    let query = "{ allPosts }";
    let dev = app(false).await;
    let r = dev.gql(query, json!({}), None).await;
    assert_eq!(r.status, 400);
    let message = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(message.contains("Did you mean"), "{message}");

    let prod = app(true).await;
    let r = prod.gql(query, json!({}), None).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    let message = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(
        message.contains("must have a selection of subfields"),
        "{message}"
    );
    assert!(!message.contains("Did you mean"), "{message}");
}

#[tokio::test]
async fn production_hides_server_side_error_detail_but_keeps_the_code() {
    let dev = app(false).await;
    let r = dev.gql("{ broken }", json!({}), None).await;
    assert_eq!(r.first_error_code(), Some("42P01"), "{}", r.body);
    let message = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(message.contains("no_such_table"), "{message}");

    let prod = app(true).await;
    let r = prod.gql("{ broken }", json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["broken"].is_null());
    let broken = &r.errors().unwrap()[0];
    assert_eq!(broken["extensions"]["code"], "42P01");
    assert_eq!(broken["message"], "an internal error occurred");
    assert!(!r.body.to_string().contains("no_such_table"), "{}", r.body);
    // The application's own message is meant for the client and stays.
    let r = prod.gql("{ refuse }", json!({}), None).await;
    let refuse = &r.errors().unwrap()[0];
    assert_eq!(refuse["extensions"]["code"], "P0001");
    assert_eq!(refuse["message"], "posting is closed today");

    // So do constraint violations (a duplicate username on signup).
    prod.signup("hanna").await;
    let dup = prod
        .gql(
            "mutation { signup(input: {username: \"hanna\", email: \"other@example.com\", password: \"correct horse battery\"}) { jwtToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(dup.first_error_code(), Some("23505"), "{}", dup.body);
    let message = dup.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(message.contains("duplicate key"), "{message}");
}
