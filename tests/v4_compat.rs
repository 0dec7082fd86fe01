//! Details a PostGraphile v4 client depends on: node ids, cursors, names, page info, errors.

mod common;

use common::{app, app_with, Options};
use serde_json::{json, Value};

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unb64(s: &Value) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_str().expect("a string"))
        .expect("base64");
    String::from_utf8(bytes).expect("utf8")
}

const SCHEMA: &str = r#"
create table app_public.network (id bigint primary key, name text not null);
insert into app_public.network values (9007199254740990, 'big'), (7, 'small');
create table app_public.person (id int primary key, name text);
insert into app_public.person values (1, 'ann');
create view app_public.houses as select 1 as id, 'villa'::text as kind;
create table app_public.reserved (id int primary key);
create table app_public.reserved_patch (id int primary key, note text);
insert into app_public.reserved_patch values (1, 'kept');
create function app_public.nums() returns setof int language sql stable
  as $$ select unnest(array[10, 20, 30]) $$;
grant execute on function app_public.nums() to app_anonymous;
grant select on app_public.network, app_public.person, app_public.houses,
  app_public.reserved, app_public.reserved_patch to app_anonymous;
"#;

async fn v4_app() -> common::TestApp {
    app_with(Options {
        setup_sql: Some(SCHEMA),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn node_ids_name_the_plural_table_and_take_large_integer_keys() {
    let app = v4_app().await;
    let r = app
        .gql(
            "{ allNetworks { nodes { nodeId id } } allPeople { nodes { nodeId } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let nodes = r.data()["allNetworks"]["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["id"], "7");
    assert_eq!(unb64(&nodes[0]["nodeId"]), r#"["networks",7]"#);
    assert_eq!(
        unb64(&nodes[1]["nodeId"]),
        r#"["networks",9007199254740990]"#
    );
    assert_eq!(
        unb64(&r.data()["allPeople"]["nodes"][0]["nodeId"]),
        r#"["people",1]"#
    );

    let q = "query($n: ID!) { node(nodeId: $n) { __typename ... on Network { name } } network(nodeId: $n) { id } }";
    for id in [
        r#"["networks",9007199254740990]"#,
        r#"["networks","9007199254740990"]"#,
        // v4 also accepts the type name in place of the alias.
        r#"["Network",9007199254740990]"#,
    ] {
        let r = app.gql(q, json!({"n": b64(id)}), None).await;
        assert_eq!(r.status, 200, "{id}: {}", r.body);
        assert_eq!(
            r.body["data"],
            json!({"node": {"__typename": "Network", "name": "big"}, "network": {"id": "9007199254740990"}}),
            "{id}"
        );
    }
}

#[tokio::test]
async fn cursors_are_compact_json_as_v4_writes_them() {
    let app = v4_app().await;
    let q = "query($after: Cursor, $order: [NetworksOrderBy!]) { allNetworks(first: 1, after: $after, orderBy: $order) { edges { cursor node { name } } } }";
    let r = app.gql(q, json!({}), None).await;
    let cursor = &r.data()["allNetworks"]["edges"][0]["cursor"];
    assert_eq!(unb64(cursor), r#"["primary_key_asc",[7]]"#, "{}", r.body);
    let r = app.gql(q, json!({"order": ["NAME_DESC"]}), None).await;
    let cursor = &r.data()["allNetworks"]["edges"][0]["cursor"];
    assert_eq!(unb64(cursor), r#"["name_desc",["small",7]]"#, "{}", r.body);

    // A cursor a v4 client stored pages on.
    let stored = b64(r#"["primary_key_asc",[7]]"#);
    let r = app.gql(q, json!({"after": stored}), None).await;
    assert_eq!(
        r.data()["allNetworks"]["edges"][0]["node"]["name"],
        "big",
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_set_of_scalars_pages_by_v4_natural_cursors() {
    let app = v4_app().await;
    let r = app
        .gql(
            "{ nums(first: 2) { edges { cursor node } } }",
            json!({}),
            None,
        )
        .await;
    let edges = r.data()["nums"]["edges"].as_array().expect("edges").clone();
    assert_eq!(unb64(&edges[0]["cursor"]), r#"["natural",1]"#, "{}", r.body);
    assert_eq!(unb64(&edges[1]["cursor"]), r#"["natural",2]"#);
    let r = app
        .gql(
            "query($c: Cursor) { nums(after: $c) { nodes } }",
            json!({"c": b64(r#"["natural",1]"#)}),
            None,
        )
        .await;
    assert_eq!(r.data()["nums"]["nodes"], json!([20, 30]), "{}", r.body);
}

#[tokio::test]
async fn an_empty_page_has_no_next_or_previous_page() {
    let app = app().await;
    let alice = app.signup("alice").await;
    for title in ["a", "b"] {
        let r = app
            .gql(
                "mutation($t: String!) { createPost(input: {post: {title: $t, published: true}}) { post { id } } }",
                json!({"t": title}),
                Some(&alice),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for args in ["first: 0", "last: 0", "first: 0, offset: 1"] {
        let r = app
            .gql(
                &format!("{{ allPosts({args}) {{ nodes {{ id }} pageInfo {{ hasNextPage hasPreviousPage }} }} }}"),
                json!({}),
                None,
            )
            .await;
        assert_eq!(
            r.data()["allPosts"],
            json!({"nodes": [], "pageInfo": {"hasNextPage": false, "hasPreviousPage": false}}),
            "{args}: {}",
            r.body
        );
    }
    let r = app
        .gql(
            "{ allPosts(first: 1) { pageInfo { hasNextPage } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.data()["allPosts"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn names_singularise_as_v4_and_input_like_names_get_record() {
    let app = v4_app().await;
    let r = app
        .gql(
            "{ allHouses { nodes { __typename kind } } \
               allReservedPatchRecords { nodes { __typename note } } \
               reservedPatchRecordById(id: 1) { note } \
               patch: __type(name: \"ReservedPatch\") { kind } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({
            "allHouses": {"nodes": [{"__typename": "House", "kind": "villa"}]},
            "allReservedPatchRecords": {"nodes": [{"__typename": "ReservedPatchRecord", "note": "kept"}]},
            "reservedPatchRecordById": {"note": "kept"},
            "patch": {"kind": "INPUT_OBJECT"}
        })
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_shape_is_a_validation_error() {
    let app = app().await;
    for q in [
        "{ postById(id: {a: 1}) { id } }",
        "{ allPosts(condition: {title: {x: 1}}) { totalCount } }",
    ] {
        let r = app.gql(q, json!({}), None).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
        assert_eq!(
            r.first_error_code(),
            Some("GRAPHQL_VALIDATION_FAILED"),
            "{q}: {}",
            r.body
        );
    }
    // A document that does not parse is still a syntax error.
    let r = app.gql("{ postById(id: 1 { id } }", json!({}), None).await;
    assert_eq!(
        r.first_error_code(),
        Some("GRAPHQL_PARSE_FAILED"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn node_lookups_by_a_bad_id_are_null_and_node_query_is_the_query_object() {
    let app = v4_app().await;
    let node = "query($n: ID!) { node(nodeId: $n) { __typename nodeId ... on Person { name } } }";
    let by_id = "query($n: ID!) { person(nodeId: $n) { name } }";
    let good = b64("[\"people\",1]");
    // Malformed (not base64, not JSON, not a list), unknown type, wrong arity, a value
    // the key column cannot take, another type's id: v4 answers null, with no error.
    let bad = [
        "%%%".to_string(),
        b64("not json"),
        b64("{\"a\":1}"),
        b64("[\"nothing_here\",1]"),
        b64("[\"people\"]"),
        b64("[\"people\",1,2]"),
        b64("[\"people\",\"x\"]"),
        b64("[\"people\",99999999999]"),
    ];
    for id in &bad {
        let r = app.gql(node, json!({ "n": id }), None).await;
        assert_eq!(
            r.body,
            json!({"data": {"node": null}}),
            "node({id}): {}",
            r.body
        );
        let r = app.gql(by_id, json!({ "n": id }), None).await;
        assert_eq!(
            r.body,
            json!({"data": {"person": null}}),
            "person({id}): {}",
            r.body
        );
    }
    let network = b64("[\"networks\",7]");
    let r = app.gql(by_id, json!({ "n": network }), None).await;
    assert_eq!(r.body, json!({"data": {"person": null}}), "{}", r.body);
    // The plan of a bad id is not served for a good one (the id keys the cached plan).
    for (id, expected) in [
        (&bad[0], json!(null)),
        (&good, json!({"name": "ann"})),
        (&bad[6], json!(null)),
        (&good, json!({"name": "ann"})),
    ] {
        let r = app.gql(by_id, json!({ "n": id }), None).await;
        assert_eq!(r.body, json!({"data": {"person": expected}}), "{}", r.body);
    }
    // An id literal in the query text, and an integer (GraphQL's ID takes those too).
    let r = app
        .gql(
            r#"{ node(nodeId: "bad") { nodeId } person(nodeId: 5) { name } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {"node": null, "person": null}}),
        "{}",
        r.body
    );

    // `node(nodeId: "query")` is the Query object, and so is its nested `query`.
    let r = app
        .gql(
            r#"{ node(nodeId: "query") { __typename nodeId ... on Query { personById(id: 1) { name } } ... on Person { name } }
                 query { node(nodeId: "query") { nodeId } } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"data": {
            "node": {"__typename": "Query", "nodeId": "query", "personById": {"name": "ann"}},
            "query": {"node": {"nodeId": "query"}}
        }}),
        "{}",
        r.body
    );
    // A per-type lookup by "query" is not a row of that type.
    let r = app.gql(by_id, json!({ "n": "query" }), None).await;
    assert_eq!(r.body, json!({"data": {"person": null}}), "{}", r.body);

    // Mutations by node id still refuse a bad one (v4 throws there): nothing changes.
    let r = app
        .gql(
            "mutation($n: ID!) { deletePerson(input: {nodeId: $n}) { clientMutationId } }",
            json!({ "n": network }),
            None,
        )
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    assert_eq!(
        app.sql("select count(*) as n from app_public.person").await[0]["n"],
        1
    );
}

#[tokio::test]
async fn a_backward_relation_over_a_unique_key_is_one_row_and_its_connection_deprecated() {
    let app = app_with(Options {
        setup_sql: Some(
            "insert into app_public.users (username) values ('uma'), ('vic');
             create table app_public.profiles (
               user_id int primary key references app_public.users (id), bio text);
             insert into app_public.profiles
               select id, 'bio of ' || username from app_public.users where username = 'uma';
             grant select on app_public.profiles to app_anonymous;",
        ),
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ allUsers(orderBy: USERNAME_ASC, condition: {}) { nodes { username \
                 profileByUserId { bio userByUserId { username } } \
                 profilesByUserId { totalCount } } } \
               t: __type(name: \"User\") { fields(includeDeprecated: true) { name isDeprecated deprecationReason type { name kind } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let users: Vec<&Value> = r.data()["allUsers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["username"] == "uma" || u["username"] == "vic")
        .collect();
    assert_eq!(
        users,
        [
            &json!({"username": "uma", "profileByUserId": {"bio": "bio of uma", "userByUserId": {"username": "uma"}}, "profilesByUserId": {"totalCount": 1}}),
            &json!({"username": "vic", "profileByUserId": null, "profilesByUserId": {"totalCount": 0}}),
        ],
        "{}",
        r.body
    );
    let fields = r.data()["t"]["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).cloned();
    assert_eq!(
        field("profileByUserId"),
        Some(
            json!({"name": "profileByUserId", "isDeprecated": false, "deprecationReason": null, "type": {"name": "Profile", "kind": "OBJECT"}})
        )
    );
    assert_eq!(
        field("profilesByUserId").unwrap()["deprecationReason"],
        "Please use profileByUserId instead"
    );
    // A non-unique relation is not deprecated.
    assert_eq!(field("postsByAuthorId").unwrap()["isDeprecated"], false);
}
