//! The generated API on the example app, through HTTP against a real Postgres: queries,
//! mutations under RLS, one statement per root field, and the checked-in schema.

mod common;

use common::{app, app_with, Options};
use serde_json::{json, Value};

async fn create_post(app: &common::TestApp, token: &str, title: &str, published: bool) -> i64 {
    let r = app
        .gql(
            "mutation($t: String!, $p: Boolean) { createPost(input: {post: {title: $t, body: \"b\", published: $p}, clientMutationId: \"c1\"}) { clientMutationId post { id title authorId published userByAuthorId { username } } } }",
            json!({"t": title, "p": published}),
            Some(token),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(r.data()["createPost"]["clientMutationId"], "c1");
    assert_eq!(r.data()["createPost"]["post"]["title"], title);
    r.data()["createPost"]["post"]["id"].as_i64().expect("id")
}

#[tokio::test]
async fn authors_write_their_own_posts_and_rls_refuses_others() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let draft = create_post(&app, &alice, "draft by alice", false).await;
    let public = create_post(&app, &alice, "public by alice", true).await;

    // Anonymous sees only the published post; the author also sees the draft.
    let list = "{ allPosts { totalCount nodes { id title } } }";
    let anon = app.gql(list, json!({}), None).await;
    assert_eq!(anon.data()["allPosts"]["totalCount"], 1, "{}", anon.body);
    assert_eq!(anon.data()["allPosts"]["nodes"][0]["id"], public);
    let own = app.gql(list, json!({}), Some(&alice)).await;
    assert_eq!(own.data()["allPosts"]["totalCount"], 2);
    let other = app.gql(list, json!({}), Some(&bob)).await;
    assert_eq!(other.data()["allPosts"]["totalCount"], 1);

    // Bob can neither update nor delete Alice's post: an error, and the row is unchanged.
    let upd = app.gql("mutation($id: Int!) { updatePostById(input: {id: $id, postPatch: {title: \"pwned\"}}) { post { id } } }", json!({"id": public}), Some(&bob)).await;
    assert_eq!(upd.status, 200);
    assert!(upd.data()["updatePostById"].is_null());
    assert_eq!(upd.first_error_code(), Some("NOT_FOUND"), "{}", upd.body);
    let del = app
        .gql(
            "mutation($id: Int!) { deletePostById(input: {id: $id}) { post { id } } }",
            json!({"id": public}),
            Some(&bob),
        )
        .await;
    assert_eq!(del.first_error_code(), Some("NOT_FOUND"), "{}", del.body);
    let rows = app
        .sql(&format!(
            "select title from app_public.posts where id = {public}"
        ))
        .await;
    assert_eq!(rows, vec![json!({"title": "public by alice"})]);

    // Bob cannot insert a post in Alice's name: RLS says 42501 and nothing is written.
    let alice_id = common::claims(&alice)["user_id"].clone();
    let forged = app.gql("mutation($a: Int!) { createPost(input: {post: {title: \"forged\", authorId: $a}}) { post { id } } }", json!({"a": alice_id}), Some(&bob)).await;
    assert_eq!(forged.first_error_code(), Some("42501"), "{}", forged.body);
    assert_eq!(
        app.sql("select count(*) as n from app_public.posts where title = 'forged'")
            .await[0]["n"],
        0
    );

    // Anonymous cannot write at all.
    let anon_create = app
        .gql(
            "mutation { createPost(input: {post: {title: \"x\", authorId: 1}}) { post { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        anon_create.first_error_code(),
        Some("42501"),
        "{}",
        anon_create.body
    );

    // The author updates and deletes her own post.
    let upd = app.gql("mutation($id: Int!) { updatePostById(input: {id: $id, postPatch: {title: \"edited\", published: true}}) { post { id title published } } }", json!({"id": draft}), Some(&alice)).await;
    assert_eq!(
        upd.data()["updatePostById"]["post"],
        json!({"id": draft, "title": "edited", "published": true}),
        "{}",
        upd.body
    );
    let del = app
        .gql(
            "mutation($id: Int!) { deletePostById(input: {id: $id}) { post { id title } } }",
            json!({"id": draft}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        del.data()["deletePostById"]["post"]["title"],
        "edited",
        "{}",
        del.body
    );
    assert_eq!(
        app.sql(&format!(
            "select count(*) as n from app_public.posts where id = {draft}"
        ))
        .await[0]["n"],
        0
    );
}

#[tokio::test]
async fn nested_query_runs_one_statement_per_root_field() {
    let app = app().await;
    let alice = app.signup("alice").await;
    for i in 0..3 {
        create_post(&app, &alice, &format!("p{i}"), true).await;
    }
    let q = "{ allUsers { nodes { username postsByAuthorId(first: 2) { totalCount nodes { title userByAuthorId { username postsByAuthorId { totalCount nodes { id } } } } } } } \
              postById(id: 1) { title userByAuthorId { postsByAuthorId { totalCount } } } }";
    let before = app.statement_count("%app_public%").await;
    let r = app.gql(q, json!({}), None).await;
    assert!(r.errors().is_none(), "{}", r.body);
    let after = app.statement_count("%app_public%").await;
    assert_eq!(after - before, 2, "two root fields, two statements");

    let users = r.data()["allUsers"]["nodes"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    let posts = &users[0]["postsByAuthorId"];
    assert_eq!(posts["totalCount"], 3);
    assert_eq!(posts["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(
        posts["nodes"][0]["userByAuthorId"]["postsByAuthorId"]["totalCount"],
        3
    );
    assert_eq!(
        r.data()["postById"]["userByAuthorId"]["postsByAuthorId"]["totalCount"],
        3
    );
}

#[tokio::test]
async fn connections_page_order_and_filter() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    for (t, title) in [(&alice, "c"), (&alice, "a"), (&bob, "b")] {
        create_post(&app, t, title, true).await;
    }
    let r = app.gql("{ allPosts(orderBy: [TITLE_DESC], first: 2, offset: 1) { totalCount nodes { title } pageInfo { hasNextPage hasPreviousPage } } }", json!({}), None).await;
    assert_eq!(
        r.data()["allPosts"],
        json!({"totalCount": 3, "nodes": [{"title": "b"}, {"title": "a"}], "pageInfo": {"hasNextPage": false, "hasPreviousPage": true}}),
        "{}",
        r.body
    );

    let bob_id = common::claims(&bob)["user_id"].clone();
    let r = app
        .gql(
            "query($a: Int) { allPosts(condition: {authorId: $a}) { nodes { title } } }",
            json!({"a": bob_id}),
            None,
        )
        .await;
    assert_eq!(r.data()["allPosts"]["nodes"], json!([{"title": "b"}]));

    let r = app.gql("{ userByUsername(username: \"alice\") { username postsByAuthorId(orderBy: TITLE_ASC) { nodes { title } } } }", json!({}), None).await;
    assert_eq!(
        r.data()["userByUsername"]["postsByAuthorId"]["nodes"],
        json!([{"title": "a"}, {"title": "c"}]),
        "{}",
        r.body
    );

    // Aliases, fragments, __typename and @skip/@include shape the response.
    let r = app
        .gql(
            "query($no: Boolean!) { first: allPosts(first: 1) { ...P } again: allPosts(first: 1) { __typename nodes { t: title hidden: id @skip(if: true) shown: id @include(if: $no) } } } fragment P on PostsConnection { nodes { __typename title } }",
            json!({"no": false}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["first"]["nodes"][0]["__typename"],
        "Post",
        "{}",
        r.body
    );
    assert_eq!(r.data()["again"]["__typename"], "PostsConnection");
    let node = r.data()["again"]["nodes"][0].as_object().unwrap();
    assert_eq!(node.keys().collect::<Vec<_>>(), vec!["t"]);
}

#[tokio::test]
async fn constraint_violations_are_field_errors_that_change_nothing() {
    let app = app().await;
    app.signup("henry").await;
    let r = app.gql("mutation { signup(input: {username: \"henry\", email: \"other@example.com\", password: \"long enough pw\"}) { jwtToken } }", json!({}), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.first_error_code(), Some("23505"), "{}", r.body);
    assert_eq!(
        r.errors().unwrap()[0]["extensions"]["constraint"],
        "users_username_key"
    );
    assert_eq!(
        app.sql("select count(*) as n from app_public.users").await[0]["n"],
        1
    );
    let msg = r.errors().unwrap()[0]["message"].as_str().unwrap();
    assert!(
        !msg.contains("select") && !msg.contains("insert into"),
        "no SQL text in errors: {msg}"
    );
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_statuses() {
    let app = app_with(Options {
        body_limit: 2048,
        ..Options::default()
    })
    .await;
    let r = app.post_raw("{not json", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_error_code(), Some("BAD_REQUEST"));

    let r = app
        .post_raw(
            json!({"query": "{ allPosts { "}).to_string(),
            &[("accept", "application/graphql-response+json")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_error_code(), Some("GRAPHQL_PARSE_FAILED"));
    assert_eq!(
        r.headers["content-type"],
        "application/graphql-response+json"
    );

    let r = app
        .post_raw(
            json!({"query": "{ allPostz { totalCount } }"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_error_code(), Some("GRAPHQL_VALIDATION_FAILED"));
    assert!(r.errors().unwrap()[0]["locations"].is_array());

    // Legacy clients accepting only application/json get 200 for document errors.
    let r = app
        .post_raw(
            json!({"query": "{ allPostz { totalCount } }"}).to_string(),
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("data").is_none());

    let r = app
        .post_raw(
            json!({"query": "{ allPosts(orderBy: [NOPE]) { totalCount } }"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(r.status, 400, "unknown enum literal: {}", r.body);

    let r = app.post_raw(json!({"query": "query($n: Int) { allPosts(first: $n) { totalCount } }", "variables": {"n": "ten"}}).to_string(), &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_error_code(), Some("BAD_USER_INPUT"));

    let big = json!({"query": format!("{{ allPosts {{ totalCount }} }} #{}", "x".repeat(4096))})
        .to_string();
    let r = app.post_raw(big, &[]).await;
    assert_eq!(r.status, 413);

    let r = app
        .post_raw(
            "query { allPosts { totalCount } }",
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(r.status, 415);

    let get = app.http.get(format!("{}?query={}", app.url(), "mutation%20%7B%20signin(input%3A%20%7Bemail%3A%20%22a%22%2C%20password%3A%20%22b%22%7D)%20%7B%20jwtToken%20%7D%20%7D")).send().await.unwrap();
    assert_eq!(get.status(), 405);

    let get = app
        .http
        .get(format!(
            "{}?query=%7B%20allPosts%20%7B%20totalCount%20%7D%20%7D",
            app.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    let body: Value = get.json().await.unwrap();
    assert_eq!(body["data"]["allPosts"]["totalCount"], 0);

    let put = app.http.put(app.url()).body("{}").send().await.unwrap();
    assert_eq!(put.status(), 405);

    let health = app
        .http
        .get(app.url().replace("/graphql", "/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let graphiql = app
        .http
        .get(app.url().replace("/graphql", "/graphiql"))
        .send()
        .await
        .unwrap();
    assert_eq!(graphiql.status(), 200);
    assert!(graphiql.text().await.unwrap().contains("GraphiQL"));
}

#[tokio::test]
async fn introspection_works_and_schema_graphql_is_current() {
    let app = app().await;
    let r = app.gql("{ __schema { queryType { name } mutationType { name } } __type(name: \"Post\") { fields { name } } }", json!({}), None).await;
    assert_eq!(
        r.data()["__schema"]["queryType"]["name"],
        "Query",
        "{}",
        r.body
    );
    assert_eq!(r.data()["__schema"]["mutationType"]["name"], "Mutation");
    let fields: Vec<&str> = r.data()["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for f in ["id", "authorId", "title", "userByAuthorId"] {
        assert!(fields.contains(&f), "Post.{f} missing from {fields:?}");
    }

    let client = postgraph::db::connect(&app.authenticator_url)
        .await
        .unwrap();
    let api = postgraph::server::build_api(
        &client,
        &["app_public".to_string()],
        &Some("app_public.jwt_token".into()),
    )
    .await
    .unwrap();
    let sdl = api.sdl();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == sdl, "schema.graphql is stale: run `UPDATE_SCHEMA=1 cargo test --test api introspection` (or `postgraph export-schema schema.graphql`) and commit it");
}

#[tokio::test]
async fn computed_columns_take_the_row_and_their_own_arguments() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let r = app
        .gql(
            "mutation { createPost(input: {post: {title: \"long\", body: \"0123456789abcdef\", published: true}}) { post { summary short: summary(length: 4) } } }",
            json!({}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        r.data()["createPost"]["post"],
        json!({"summary": "0123456789abcdef", "short": "0123…"}),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_repeated_query_is_prepared_once_with_its_variables_as_parameters() {
    // One connection, so every request runs on the same prepared statements.
    let app = app_with(Options {
        max_pool_size: 1,
        ..Options::default()
    })
    .await;
    let alice = app.signup("alice").await;
    let mut posts = Vec::new();
    for title in ["x1", "x2", "x3"] {
        posts.push((create_post(&app, &alice, title, true).await, title));
    }
    let q = "query($id: Int!) { postById(id: $id) { id title } }";
    let pattern = "%from \"app_public\".\"posts\" as __t1 where __t1.\"id\" = $1::%";
    let (calls_before, plans_before) = app.statement_plans(pattern).await;
    for _ in 0..4 {
        for (id, title) in &posts {
            let r = app.gql(q, json!({ "id": id }), None).await;
            assert_eq!(
                r.data()["postById"],
                json!({"id": id, "title": title}),
                "{}",
                r.body
            );
        }
    }
    let (calls, plans) = app.statement_plans(pattern).await;
    let (calls, plans) = (calls - calls_before, plans - plans_before);
    assert_eq!(calls, 12, "one statement per request");
    // SQL text per id would plan every execution (a new statement, or a re-prepared one);
    // one prepared statement reused with a parameter settles on its generic plan.
    assert!(
        plans < calls,
        "{plans} plans for {calls} executions: the statement is not reused"
    );
}

#[tokio::test]
async fn one_document_serves_each_operation_by_name_from_the_cache() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let id = create_post(&app, &alice, "named", true).await;
    let doc = "query Post($id: Int!) { postById(id: $id) { title } } \
               query Users { allUsers { nodes { username } } }";
    let run = |name: &'static str| {
        let body = json!({"query": doc, "operationName": name, "variables": {"id": id}});
        app.post_raw(body.to_string(), &[("content-type", "application/json")])
    };
    // Alternating names on the same text: each must get its own compiled operation.
    for _ in 0..2 {
        let r = run("Post").await;
        assert_eq!(
            r.data(),
            &json!({"postById": {"title": "named"}}),
            "{}",
            r.body
        );
        let r = run("Users").await;
        assert_eq!(
            r.data(),
            &json!({"allUsers": {"nodes": [{"username": "alice"}]}}),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn cached_plans_rebind_variables_and_respect_their_shape() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    for (t, title) in [(&alice, "a1"), (&alice, "a2"), (&bob, "b1")] {
        create_post(&app, t, title, true).await;
    }
    let alice_id = common::claims(&alice)["user_id"].clone();
    let bob_id = common::claims(&bob)["user_id"].clone();
    let q = "query($a: Int, $o: [PostsOrderBy!], $n: Int, $hide: Boolean!) { allPosts(condition: {authorId: $a}, orderBy: $o, first: $n) { nodes { title } totalCount @skip(if: $hide) } }";
    let titles = |r: &common::Reply| -> Vec<String> {
        r.data()["allPosts"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_string())
            .collect()
    };

    // The same text, run again and again: each run must answer for its own variables.
    let r = app
        .gql(
            q,
            json!({"a": alice_id, "o": ["TITLE_ASC"], "n": 10, "hide": false}),
            None,
        )
        .await;
    assert_eq!(titles(&r), ["a1", "a2"], "{}", r.body);
    assert_eq!(r.data()["allPosts"]["totalCount"], 2);
    let r = app
        .gql(
            q,
            json!({"a": bob_id, "o": ["TITLE_ASC"], "n": 10, "hide": false}),
            None,
        )
        .await;
    assert_eq!(titles(&r), ["b1"]);
    let r = app
        .gql(
            q,
            json!({"a": alice_id, "o": ["TITLE_DESC"], "n": 10, "hide": false}),
            None,
        )
        .await;
    assert_eq!(
        titles(&r),
        ["a2", "a1"],
        "orderBy from a variable shapes the SQL"
    );
    let r = app
        .gql(
            q,
            json!({"a": alice_id, "o": ["TITLE_DESC"], "n": 1, "hide": true}),
            None,
        )
        .await;
    assert_eq!(titles(&r), ["a2"]);
    assert!(
        r.data()["allPosts"].get("totalCount").is_none(),
        "@skip from a variable"
    );
    let r = app
        .gql(
            q,
            json!({"a": null, "o": ["TITLE_ASC"], "n": 10, "hide": false}),
            None,
        )
        .await;
    assert_eq!(
        titles(&r),
        Vec::<String>::new(),
        "a null condition means IS NULL"
    );
    let r = app
        .gql(q, json!({"o": ["TITLE_ASC"], "hide": false}), None)
        .await;
    assert_eq!(
        titles(&r),
        ["a1", "a2", "b1"],
        "an absent condition value filters nothing"
    );

    // A whole input object as one variable, with different values each time.
    let m = "mutation($input: CreatePostInput!) { createPost(input: $input) { clientMutationId post { title published } } }";
    for (i, published) in [(1, true), (2, false)] {
        let r = app.gql(m, json!({"input": {"clientMutationId": format!("m{i}"), "post": {"title": format!("t{i}"), "published": published}}}), Some(&alice)).await;
        assert_eq!(
            r.data()["createPost"],
            json!({"clientMutationId": format!("m{i}"), "post": {"title": format!("t{i}"), "published": published}}),
            "{}",
            r.body
        );
    }
    let r = app
        .gql(
            m,
            json!({"input": {"post": {"title": "no cmid"}}}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        r.data()["createPost"],
        json!({"clientMutationId": null, "post": {"title": "no cmid", "published": false}}),
        "{}",
        r.body
    );

    // Bad variables are still refused on a cached plan.
    let r = app
        .gql(q, json!({"a": "not a number", "hide": false}), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn node_ids_are_postgraphile_compatible_and_resolve_through_node() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let id = create_post(&app, &alice, "hello", true).await;
    let expected = b64(&format!("[\"posts\",{id}]"));

    let r = app
        .gql(
            "query($id: Int!) { nodeId postById(id: $id) { nodeId userByAuthorId { nodeId } } }",
            json!({"id": id}),
            None,
        )
        .await;
    assert_eq!(r.data()["nodeId"], "query");
    assert_eq!(
        r.data()["postById"]["nodeId"],
        expected.as_str(),
        "{}",
        r.body
    );
    let user_node = r.data()["postById"]["userByAuthorId"]["nodeId"]
        .as_str()
        .unwrap()
        .to_string();

    let q = "query($n: ID!) { node(nodeId: $n) { __typename nodeId ... on Post { title } ... on User { username } } }";
    let r = app.gql(q, json!({"n": expected}), None).await;
    assert_eq!(
        r.data()["node"],
        json!({"__typename": "Post", "nodeId": expected, "title": "hello"}),
        "{}",
        r.body
    );
    let r = app.gql(q, json!({"n": user_node}), None).await;
    assert_eq!(
        r.data()["node"],
        json!({"__typename": "User", "nodeId": user_node, "username": "alice"}),
        "{}",
        r.body
    );
    let r = app
        .gql(q, json!({"n": b64("[\"posts\",999999]")}), None)
        .await;
    assert_eq!(
        r.data()["node"],
        Value::Null,
        "an unknown row is null: {}",
        r.body
    );
    // A malformed id finds nothing, as in v4 (see v4_compat for the other cases).
    let r = app.gql(q, json!({"n": "not-a-node-id"}), None).await;
    assert_eq!(r.body, json!({"data": {"node": null}}), "{}", r.body);

    let r = app
        .gql(
            "query($n: ID!) { post(nodeId: $n) { id } }",
            json!({"n": expected}),
            None,
        )
        .await;
    assert_eq!(r.data()["post"]["id"], id);
    let r = app
        .gql(
            "query($n: ID!) { post(nodeId: $n) { id } }",
            json!({"n": user_node}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"post": null}}),
        "a user's id is not a post's: {}",
        r.body
    );

    let r = app.gql("mutation($n: ID!) { updatePost(input: {nodeId: $n, postPatch: {title: \"renamed\"}}) { post { title } } }", json!({"n": expected}), Some(&alice)).await;
    assert_eq!(
        r.data()["updatePost"]["post"]["title"],
        "renamed",
        "{}",
        r.body
    );
    let r = app
        .gql(
            "mutation($n: ID!) { deletePost(input: {nodeId: $n}) { deletedPostId post { id } } }",
            json!({"n": expected}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        r.data()["deletePost"],
        json!({"deletedPostId": expected, "post": {"id": id}}),
        "{}",
        r.body
    );
    assert_eq!(
        app.sql(&format!(
            "select count(*) as n from app_public.posts where id = {id}"
        ))
        .await[0]["n"],
        0
    );
}

#[tokio::test]
async fn cursors_page_forwards_and_backwards() {
    let app = app().await;
    let alice = app.signup("alice").await;
    for t in ["p1", "p2", "p3", "p4", "p5"] {
        create_post(&app, &alice, t, true).await;
    }
    let q = "query($first: Int, $last: Int, $after: Cursor, $before: Cursor, $order: [PostsOrderBy!]) { \
             allPosts(first: $first, last: $last, after: $after, before: $before, orderBy: $order) { \
             edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let page = |r: &common::Reply| -> Vec<String> {
        r.data()["allPosts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["title"].as_str().unwrap().to_string())
            .collect()
    };

    let r = app.gql(q, json!({"first": 2}), None).await;
    assert_eq!(page(&r), ["p1", "p2"], "{}", r.body);
    let info = r.data()["allPosts"]["pageInfo"].clone();
    assert_eq!(info["hasNextPage"], true);
    assert_eq!(info["hasPreviousPage"], false);
    assert_eq!(
        info["endCursor"],
        r.data()["allPosts"]["edges"][1]["cursor"]
    );

    // Same query text, the next cursors: each page answers for its own cursor.
    let r = app
        .gql(q, json!({"first": 2, "after": info["endCursor"]}), None)
        .await;
    assert_eq!(page(&r), ["p3", "p4"], "{}", r.body);
    assert_eq!(r.data()["allPosts"]["pageInfo"]["hasPreviousPage"], true);
    let end = r.data()["allPosts"]["pageInfo"]["endCursor"].clone();
    let r = app.gql(q, json!({"first": 2, "after": end}), None).await;
    assert_eq!(page(&r), ["p5"]);
    assert_eq!(r.data()["allPosts"]["pageInfo"]["hasNextPage"], false);

    let r = app.gql(q, json!({"last": 2}), None).await;
    assert_eq!(
        page(&r),
        ["p4", "p5"],
        "last reads from the end, in order: {}",
        r.body
    );
    assert_eq!(r.data()["allPosts"]["pageInfo"]["hasPreviousPage"], true);
    let start = r.data()["allPosts"]["pageInfo"]["startCursor"].clone();
    let r = app.gql(q, json!({"last": 2, "before": start}), None).await;
    assert_eq!(page(&r), ["p2", "p3"], "{}", r.body);

    // Descending order by title: cursors carry the order, so they cannot be mixed up.
    let r = app
        .gql(q, json!({"first": 2, "order": ["TITLE_DESC"]}), None)
        .await;
    assert_eq!(page(&r), ["p5", "p4"]);
    let desc_end = r.data()["allPosts"]["pageInfo"]["endCursor"].clone();
    let r = app
        .gql(
            q,
            json!({"first": 2, "order": ["TITLE_DESC"], "after": desc_end}),
            None,
        )
        .await;
    assert_eq!(page(&r), ["p3", "p2"], "{}", r.body);
    let r = app
        .gql(q, json!({"first": 2, "after": desc_end}), None)
        .await;
    // A refused cursor fails its field only, as in v4: null, with the error on its path.
    assert_eq!(
        r.status, 200,
        "a cursor of another ordering is refused: {}",
        r.body
    );
    assert_eq!(r.body["data"]["allPosts"], Value::Null, "{}", r.body);
    assert_eq!(
        r.body["errors"][0]["path"],
        json!(["allPosts"]),
        "{}",
        r.body
    );
    assert_eq!(r.body["errors"][0]["extensions"]["code"], "INVALID_CURSOR");
    let r = app
        .gql(q, json!({"first": 2, "after": "garbage"}), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["errors"][0]["message"],
        "Invalid cursor, please enter a cursor from a previous request, or null.",
        "{}",
        r.body
    );
    assert_eq!(r.body["data"]["allPosts"], Value::Null, "{}", r.body);
}

#[tokio::test]
async fn cors_preflight_and_headers_when_enabled() {
    let app = app().await;
    let pre = app
        .http
        .request(reqwest::Method::OPTIONS, app.url())
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), 204);
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
    assert!(pre.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("Authorization"));
    let r = app.gql("{ __typename }", json!({}), None).await;
    assert_eq!(r.headers["access-control-allow-origin"], "*");
    assert_eq!(r.data()["__typename"], "Query");
}

#[tokio::test]
async fn variables_may_come_json_encoded_and_must_be_an_object() {
    let app = app().await;
    let q = "query($n: Int) { allPosts(first: $n) { totalCount } }";
    let r = app
        .post_raw(
            json!({"query": q, "variables": "{\"n\": 1}"}).to_string(),
            &[],
        )
        .await;
    assert_eq!(r.data()["allPosts"]["totalCount"], 0, "{}", r.body);
    let r = app
        .post_raw(json!({"query": q, "variables": [1, 2]}).to_string(), &[])
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_error_code(), Some("BAD_REQUEST"));
}

#[tokio::test]
async fn several_mutations_run_in_order_and_a_failing_one_rolls_back_alone() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let m = "mutation { \
             bad: createPost(input: {post: {title: \"forged\", authorId: 999999}}) { post { id } } \
             good: createPost(input: {post: {title: \"kept\"}}) { post { title } } \
             again: createPost(input: {post: {title: \"kept too\"}}) { post { title } query { allPosts { totalCount } } } }";
    let r = app.gql(m, json!({}), Some(&alice)).await;
    assert_eq!(r.status, 200);
    assert!(r.data()["bad"].is_null(), "{}", r.body);
    assert_eq!(r.data()["good"]["post"]["title"], "kept");
    assert_eq!(
        r.data()["again"]["query"]["allPosts"]["totalCount"],
        2,
        "the payload sees the writes before it: {}",
        r.body
    );
    assert_eq!(r.errors().unwrap().len(), 1);
    assert_eq!(r.errors().unwrap()[0]["path"], json!(["bad"]));
    let titles = app
        .sql("select title from app_public.posts order by id")
        .await;
    assert_eq!(
        titles,
        vec![json!({"title": "kept"}), json!({"title": "kept too"})]
    );
}
