//! Abuse limits through HTTP: a hostile query is refused with 400 and a stable code before
//! the database sees anything; connections are capped by `--max-page-size`.

mod common;

use common::{app, app_with, Options, TestApp};
use serde_json::json;

/// Runs `query` on a warmed-up app and checks it is refused with `code` (400, errors only)
/// without a single statement reaching Postgres.
async fn refused(app: &TestApp, query: &str, code: &str) -> String {
    // Warm up: the pool's connections exist and the count below only sees new statements.
    let warm = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(warm.status, 200, "{}", warm.body);
    let before = app.statement_count("%").await;
    let r = app.gql(query, json!({}), None).await;
    assert_eq!(r.status, 400, "{code}: {}", r.body);
    assert_eq!(r.first_error_code(), Some(code), "{}", r.body);
    assert!(r.body.get("data").is_none(), "errors only: {}", r.body);
    // Twice: a refused query is not cached, and the second time is refused the same way.
    let again = app.gql(query, json!({}), None).await;
    assert_eq!(again.first_error_code(), Some(code), "{}", again.body);
    assert_eq!(
        app.statement_count("%").await,
        before,
        "a refused query must not run any statement"
    );
    r.errors().unwrap()[0]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_thousand_aliases_are_refused_before_the_database() {
    let app = app().await;
    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: allPosts {{ totalCount }} "))
        .collect();
    let message = refused(&app, &format!("{{ {aliases} }}"), "TOO_MANY_ALIASES").await;
    assert!(message.contains("1000 aliases"), "{message}");
    assert!(message.contains("limit is 50"), "{message}");
}

#[tokio::test]
async fn twelve_hundred_directives_are_refused_before_the_database() {
    let app = app().await;
    let directives = "@include(if: true) ".repeat(1200);
    let message = refused(
        &app,
        &format!("{{ allPosts {directives} {{ totalCount }} }}"),
        "TOO_MANY_DIRECTIVES",
    )
    .await;
    assert!(message.contains("1200 directives"), "{message}");
}

#[tokio::test]
async fn deep_nesting_is_refused_before_the_database() {
    let app = app().await;
    // posts → author → posts → ...: 3 levels per hop, after 3 for `allPosts { nodes { id`.
    let nested = |hops: usize| {
        let mut q = String::from("id");
        for _ in 0..hops {
            q = format!("userByAuthorId {{ id postsByAuthorId {{ nodes {{ id {q} }} }} }}");
        }
        format!("{{ allPosts {{ nodes {{ id {q} }} }} }}")
    };
    // 15 levels pass; 21 do not.
    let ok = app.gql(&nested(4), json!({}), None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.errors().is_none(), "{}", ok.body);
    let message = refused(&app, &nested(6), "QUERY_TOO_DEEP").await;
    assert!(message.contains("21 levels"), "{message}");
    assert!(message.contains("limit is 16"), "{message}");
}

#[tokio::test]
async fn a_fragment_bomb_is_refused_by_the_field_limit() {
    let app = app().await;
    // 2^10 × 2 fields through fragments that each spread the next one twice.
    let mut doc = String::from("{ allPosts { nodes { ...F0 } } }\n");
    for i in 0..10 {
        doc.push_str(&format!(
            "fragment F{i} on Post {{ ...F{} ...F{} }}\n",
            i + 1,
            i + 1
        ));
    }
    doc.push_str("fragment F10 on Post { id title }\n");
    refused(&app, &doc, "TOO_MANY_FIELDS").await;
}

#[tokio::test]
async fn a_huge_document_is_refused_by_the_token_limit() {
    let app = app().await;
    let values = "1 ".repeat(20_000);
    refused(
        &app,
        &format!("{{ allPosts(condition: {{authorId: [{values}]}}) {{ totalCount }} }}"),
        "TOO_MANY_TOKENS",
    )
    .await;
}

#[tokio::test]
async fn limits_follow_the_graphql_over_http_status_rules_and_can_be_raised() {
    let app = app().await;
    let aliases: String = (0..60).map(|i| format!("a{i}: __typename ")).collect();
    let query = format!("{{ {aliases} }}");
    // A legacy client accepting only application/json gets 200, as for validation errors.
    let legacy = app
        .post_raw(
            json!({ "query": query }).to_string(),
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(legacy.status, 200, "{}", legacy.body);
    assert_eq!(legacy.first_error_code(), Some("TOO_MANY_ALIASES"));
    let modern = app
        .post_raw(
            json!({ "query": query }).to_string(),
            &[("accept", "application/graphql-response+json")],
        )
        .await;
    assert_eq!(modern.status, 400, "{}", modern.body);

    let relaxed = app_with(Options {
        limits: postgraph::graphql::limits::Limits {
            max_aliases: 100,
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let r = relaxed.gql(&query, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["a59"], "Query");
}

/// graphql-js's `getIntrospectionQuery()`, what GraphiQL sends: it must stay within the defaults.
const GRAPHIQL_INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;

#[tokio::test]
async fn graphiql_introspection_stays_within_the_default_limits() {
    let app = app().await;
    let r = app.gql(GRAPHIQL_INTROSPECTION, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(r.data()["__schema"]["queryType"]["name"], "Query");
}

/// 1,200 published posts by one author: more than the default page size of 1,000.
const MANY_POSTS: &str = "insert into app_public.users (username) values ('writer'); \
    insert into app_public.posts (author_id, title, published) \
    select (select id from app_public.users where username = 'writer'), 'post ' || i, true \
    from generate_series(1, 1200) as i;";

#[tokio::test]
async fn first_over_the_page_size_limit_is_refused_before_the_database() {
    let app = app_with(Options {
        setup_sql: Some(MANY_POSTS),
        ..Options::default()
    })
    .await;
    let message = refused(
        &app,
        "{ allPosts(first: 1000000) { nodes { id } } }",
        "PAGE_SIZE_TOO_LARGE",
    )
    .await;
    assert!(
        message.contains("1000000") && message.contains("1000"),
        "{message}"
    );
    refused(
        &app,
        "{ allUsers { nodes { postsByAuthorId(last: 5000) { totalCount } } } }",
        "PAGE_SIZE_TOO_LARGE",
    )
    .await;

    // From a variable too (it shapes the plan, so each value is planned and checked).
    let before = app.statement_count("%").await;
    let q = "query($n: Int) { allPosts(first: $n) { nodes { id } } }";
    let r = app.gql(q, json!({"n": 1001}), None).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("PAGE_SIZE_TOO_LARGE"));
    assert_eq!(app.statement_count("%").await, before);
    let ok = app.gql(q, json!({"n": 1000}), None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        ok.data()["allPosts"]["nodes"].as_array().unwrap().len(),
        1000
    );
}

#[tokio::test]
async fn a_connection_without_first_returns_one_capped_page_and_says_there_is_more() {
    let app = app_with(Options {
        setup_sql: Some(MANY_POSTS),
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ allPosts { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = &r.data()["allPosts"];
    assert_eq!(c["totalCount"], 1200, "{}", r.body);
    assert_eq!(c["nodes"].as_array().unwrap().len(), 1000);
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    // The rest is one `after` away.
    let rest = app
        .gql(
            "query($c: Cursor) { allPosts(after: $c) { nodes { id } pageInfo { hasNextPage } } }",
            json!({"c": c["pageInfo"]["endCursor"]}),
            None,
        )
        .await;
    assert_eq!(
        rest.data()["allPosts"]["nodes"].as_array().unwrap().len(),
        200
    );
    assert_eq!(rest.data()["allPosts"]["pageInfo"]["hasNextPage"], false);

    // Nested connections are capped the same way; 0 turns the cap off.
    let nested = app
        .gql(
            "{ userByUsername(username: \"writer\") { postsByAuthorId { nodes { id } } } }",
            json!({}),
            None,
        )
        .await;
    let nodes = &nested.data()["userByUsername"]["postsByAuthorId"]["nodes"];
    assert_eq!(nodes.as_array().unwrap().len(), 1000, "{}", nested.body);
    let uncapped = app_with(Options {
        setup_sql: Some(MANY_POSTS),
        max_page_size: None,
        max_groups: None,
        ..Options::default()
    })
    .await;
    let all = uncapped
        .gql("{ allPosts { nodes { id } } }", json!({}), None)
        .await;
    assert_eq!(
        all.data()["allPosts"]["nodes"].as_array().unwrap().len(),
        1200
    );
}

#[tokio::test]
async fn batched_requests_are_refused_so_there_is_no_batch_to_limit() {
    let app = app().await;
    let warm = app
        .gql("{ allPosts { totalCount } }", json!({}), None)
        .await;
    assert_eq!(warm.status, 200);
    let before = app.statement_count("%").await;
    let batch: Vec<_> = (0..100)
        .map(|_| json!({"query": "{ allPosts { totalCount } }"}))
        .collect();
    let r = app.post_raw(json!(batch).to_string(), &[]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("BAD_REQUEST"));
    assert_eq!(app.statement_count("%").await, before);
}
