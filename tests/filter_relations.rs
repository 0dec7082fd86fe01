//! Relation filters (connection-filter's `connectionFilterRelations`, here
//! `--connection-filter-relations`): forward and backward, one-to-one and one-to-many,
//! multi-column and smart-tag foreign keys, row-level security inside them, and `@omit
//! filter` on a foreign key constraint.

mod common;

use common::filter::{fixture, fixture_with, ids, input_fields};
use common::TestApp;
use serde_json::{json, Value};

async fn relations_fixture() -> TestApp {
    fixture_with(postgraph::schema::filter::FilterFlags {
        relations: true,
        ..Default::default()
    })
    .await
}

/// The `id`s (or `a`/`b` keys) of a root connection under a filter.
async fn keys(app: &TestApp, field: &str, filter: &str, token: Option<&str>) -> Vec<Value> {
    let q = format!("{{ {field}(filter: {filter}) {{ nodes {{ key: nodeId }} }} }}");
    let r = app.gql(&q, json!({}), token).await;
    assert!(r.errors().is_none(), "{filter}: {}", r.body);
    r.data()[field]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["key"].clone())
        .collect()
}

#[tokio::test]
async fn relation_filters_forward_backward_multi_column_and_smart_tags() {
    let app = relations_fixture().await;
    let count = |field: &'static str, filter: &'static str| {
        let app = &app;
        async move { keys(app, field, filter, None).await.len() }
    };
    // Forward over a two-column key, and whether the referenced row exists.
    assert_eq!(
        count(
            "allBoxes",
            "{shelfByShelfAAndShelfB: {title: {equalTo: \"top\"}}}"
        )
        .await,
        2
    );
    assert_eq!(
        count("allBoxes", "{shelfByShelfAAndShelfBExists: false}").await,
        1
    );
    assert_eq!(
        count("allBoxes", "{shelfByShelfAAndShelfBExists: true}").await,
        3
    );
    // Backward one-to-many: every, some, none, and whether any exist.
    assert_eq!(
        count(
            "allShelves",
            "{boxesByShelfAAndShelfB: {some: {label: {equalTo: \"y\"}}}}"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            "allShelves",
            "{boxesByShelfAAndShelfB: {every: {label: {in: [\"x\", \"y\"]}}}}"
        )
        .await,
        // (1,1) has x and y; (2,1) has no boxes at all.
        2
    );
    assert_eq!(
        count(
            "allShelves",
            "{boxesByShelfAAndShelfB: {none: {label: {equalTo: \"z\"}}}}"
        )
        .await,
        2
    );
    assert_eq!(
        count("allShelves", "{boxesByShelfAAndShelfBExist: false}").await,
        1
    );
    // A smart-tag foreign key, both ways.
    assert_eq!(
        ids(
            &app,
            "{memosByItemRef: {some: {body: {includes: \"note\"}}}}"
        )
        .await,
        [1]
    );
    assert_eq!(ids(&app, "{memosByItemRefExist: true}").await, [1, 2]);
    assert_eq!(
        count(
            "allMemos",
            "{thingByItemRef: {name: {startsWith: \"beta\"}}}"
        )
        .await,
        1
    );
    // Relation filters nest with logic and with each other.
    assert_eq!(
        count(
            "allBoxes",
            "{or: [{label: {equalTo: \"loose\"}}, {shelfByShelfAAndShelfB: {not: {boxesByShelfAAndShelfB: {some: {label: {equalTo: \"x\"}}}}}}]}"
        )
        .await,
        2
    );
    // Without the flag there are none.
    let plain = fixture().await;
    let r = plain
        .gql(
            "{ allBoxes(filter: {shelfByShelfAAndShelfBExists: true}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn relation_filters_see_only_rows_the_role_may_see() {
    let app = relations_fixture().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let admin = postgraph::db::connect(&app.admin_url).await.expect("admin");
    admin
        .batch_execute(
            "insert into app_public.posts (author_id, title, body, published)
               select id, 'secret draft', 'x', false from app_public.users where username = 'alice';
             insert into app_public.posts (author_id, title, body, published)
               select id, 'hello world', 'x', true from app_public.users where username = 'alice';",
        )
        .await
        .expect("posts");
    let users = |filter: &'static str, token: Option<String>| {
        let app = &app;
        async move {
            let q = format!("{{ allUsers(filter: {filter}) {{ nodes {{ username }} }} }}");
            let r = app.gql(&q, json!({}), token.as_deref()).await;
            assert!(r.errors().is_none(), "{filter}: {}", r.body);
            r.data()["allUsers"]["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .map(|n| n["username"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let draft = "{postsByAuthorId: {some: {title: {equalTo: \"secret draft\"}}}}";
    // The draft is alice's own: only her token sees it, so only she matches.
    assert!(users(draft, None).await.is_empty());
    assert!(users(draft, Some(bob.clone())).await.is_empty());
    assert_eq!(users(draft, Some(alice.clone())).await, ["alice"]);
    // `every` post published: anonymous sees only alice's published post (bob has none).
    let every = "{postsByAuthorId: {every: {published: {equalTo: true}}}}";
    assert_eq!(users(every, None).await, ["alice", "bob"]);
    assert_eq!(users(every, Some(alice.clone())).await, ["bob"]);
    // Forward: a post by its author; the draft stays hidden from bob.
    let r = app
        .gql(
            "{ allPosts(filter: {userByAuthorId: {username: {equalTo: \"alice\"}}}) { nodes { title } } }",
            json!({}),
            Some(&bob),
        )
        .await;
    assert_eq!(
        r.data()["allPosts"]["nodes"],
        json!([{"title": "hello world"}]),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn omit_filter_on_a_constraint_leaves_its_relation_out_of_filters() {
    let app = relations_fixture().await;
    let sticker = input_fields(&app, "StickerFilter").await;
    assert!(sticker.iter().any(|f| f == "word"), "{sticker:?}");
    assert!(
        !sticker.iter().any(|f| f.starts_with("boxByBoxId")),
        "{sticker:?}"
    );
    let boxes = input_fields(&app, "BoxFilter").await;
    assert!(
        !boxes.iter().any(|f| f.starts_with("stickersByBoxId")),
        "{boxes:?}"
    );
    // Other relations of the same tables stay filterable.
    assert!(
        boxes.iter().any(|f| f == "shelfByShelfAAndShelfB"),
        "{boxes:?}"
    );
    let r = app
        .gql(
            "{ allStickers(filter: {boxByBoxId: {label: {equalTo: \"x\"}}}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // The relation itself is still there to read.
    let r = app
        .gql(
            "{ allStickers(orderBy: ID_ASC) { nodes { word boxByBoxId { label } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["allStickers"]["nodes"],
        json!([{"word": "hi", "boxByBoxId": {"label": "x"}},
               {"word": "yo", "boxByBoxId": {"label": "z"}}]),
        "{}",
        r.body
    );
}

/// compare/queries_relations/*.graphql (checked against PostGraphile with connection-filter
/// and `connectionFilterRelations`, see compare/relations.postgraphilerc.js) answer as
/// tests/golden_relations/<query>.json says; `UPDATE_GOLDEN=1` rewrites those files.
#[tokio::test]
async fn relation_filter_corpus_answers_as_checked_against_the_plugin() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let app = relations_fixture().await;
    let mut files: Vec<_> = std::fs::read_dir(root.join("compare/queries_relations"))
        .expect("queries")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "graphql"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let query = std::fs::read_to_string(&file).expect("query");
        let r = app.gql(&query, json!({}), None).await;
        let got = json!({"status": r.status, "data": r.data(), "errors": r.errors()});
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let expected_path = root.join(format!("tests/golden_relations/{stem}.json"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(expected_path.parent().unwrap()).expect("dir");
            let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
            std::fs::write(&expected_path, text).expect("write");
            continue;
        }
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&expected_path).expect("expected answer"),
        )
        .expect("json");
        assert_eq!(got, expected, "{stem}");
    }
}
