//! The write API through HTTP against a real Postgres: CRUD payloads as PostGraphile v4 builds
//! them, updates and deletes by every key, patches, constraint and RLS refusals that change
//! nothing, and function mutations of each kind.

mod common;

use common::{app, app_with, Options, TestApp};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("fixtures/mutations.sql");

async fn fixture() -> TestApp {
    app_with(Options {
        setup_sql: Some(FIXTURE),
        ..Options::default()
    })
    .await
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unb64(s: &Value) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap_or_else(|| panic!("not a string: {s}")))
        .expect("base64");
    String::from_utf8(bytes).expect("utf8")
}

/// Runs statements as superuser (setup that returns nothing).
async fn exec(app: &TestApp, sql: &str) {
    let admin = postgraph::db::connect(&app.admin_url).await.expect("admin");
    admin.batch_execute(sql).await.expect("sql");
}

async fn rows(app: &TestApp) -> Vec<Value> {
    app.sql("select code, quantity, note from app_public.items order by id")
        .await
}

async fn count(app: &TestApp, table: &str) -> i64 {
    app.sql(&format!("select count(*) as n from app_public.{table}"))
        .await[0]["n"]
        .as_i64()
        .expect("count")
}

/// The one error of a reply that failed field `field`: its code, message and constraint.
fn field_error(r: &common::Reply, field: &str) -> (String, String, Option<String>) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()[field].is_null(), "{}", r.body);
    let e = r
        .errors()
        .and_then(|es| es.iter().find(|e| e["path"] == json!([field])))
        .unwrap_or_else(|| panic!("no error for {field}: {}", r.body));
    (
        e["extensions"]["code"].as_str().unwrap_or("").to_string(),
        e["message"].as_str().unwrap_or("").to_string(),
        e["extensions"]["constraint"].as_str().map(str::to_string),
    )
}

#[tokio::test]
async fn crud_payloads_carry_the_row_its_relations_its_edge_query_and_client_mutation_id() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let r = app
        .gql(
            "mutation { createPost(input: {clientMutationId: \"c-1\", post: {title: \"Hello\", published: true}}) { \
               clientMutationId post { id title } userByAuthorId { username } \
               postEdge { __typename cursor node { id title } } \
               byTitle: postEdge(orderBy: TITLE_ASC) { cursor } \
               query { allPosts { totalCount } } } }",
            json!({}),
            Some(&alice),
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    let p = &r.data()["createPost"];
    let id = p["post"]["id"].as_i64().expect("id");
    assert_eq!(p["clientMutationId"], "c-1");
    assert_eq!(p["userByAuthorId"]["username"], "alice");
    assert_eq!(p["postEdge"]["__typename"], "PostsEdge");
    assert_eq!(p["postEdge"]["node"], json!({"id": id, "title": "Hello"}));
    assert_eq!(
        unb64(&p["postEdge"]["cursor"]),
        format!("[\"primary_key_asc\",[{id}]]")
    );
    assert_eq!(
        unb64(&p["byTitle"]["cursor"]),
        format!("[\"title_asc\",[\"Hello\",{id}]]")
    );
    assert_eq!(p["query"]["allPosts"]["totalCount"], 1);

    // The edge's cursor pages the connection in its order.
    let later = create_post(&app, &alice, "World").await;
    let page = app
        .gql(
            "query($c: Cursor) { allPosts(after: $c) { nodes { id } } }",
            json!({"c": p["postEdge"]["cursor"]}),
            None,
        )
        .await;
    assert_eq!(
        page.data()["allPosts"]["nodes"],
        json!([{"id": later}]),
        "{}",
        page.body
    );

    // Update and delete payloads: the same parts, and the deleted row's node id.
    let upd = app
        .gql(
            "mutation($id: Int!) { updatePostById(input: {id: $id, clientMutationId: \"c-2\", postPatch: {title: \"Hi\"}}) { \
               clientMutationId post { title } userByAuthorId { username } postEdge { cursor node { title } } } }",
            json!({"id": id}),
            Some(&alice),
        )
        .await;
    assert!(upd.errors().is_none(), "{}", upd.body);
    let u = &upd.data()["updatePostById"];
    assert_eq!(u["clientMutationId"], "c-2");
    assert_eq!(u["post"]["title"], "Hi");
    assert_eq!(u["userByAuthorId"]["username"], "alice");
    assert_eq!(u["postEdge"]["node"]["title"], "Hi");
    let del = app
        .gql(
            "mutation($id: Int!) { deletePostById(input: {id: $id, clientMutationId: \"c-3\"}) { \
               clientMutationId deletedPostId post { id } userByAuthorId { username } postEdge { cursor } \
               query { allPosts { totalCount } } } }",
            json!({"id": id}),
            Some(&alice),
        )
        .await;
    assert!(del.errors().is_none(), "{}", del.body);
    let d = &del.data()["deletePostById"];
    assert_eq!(d["clientMutationId"], "c-3");
    assert_eq!(d["deletedPostId"], b64(&format!("[\"posts\",{id}]")));
    assert_eq!(d["post"]["id"], id);
    assert_eq!(d["userByAuthorId"]["username"], "alice");
    assert_eq!(
        unb64(&d["postEdge"]["cursor"]),
        format!("[\"primary_key_asc\",[{id}]]")
    );
    assert_eq!(
        d["query"]["allPosts"]["totalCount"], 1,
        "query sees the delete"
    );
}

async fn create_post(app: &TestApp, token: &str, title: &str) -> i64 {
    let r = app
        .gql(
            "mutation($t: String!) { createPost(input: {post: {title: $t, published: true}}) { post { id } } }",
            json!({"t": title}),
            Some(token),
        )
        .await;
    r.data()["createPost"]["post"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", r.body))
}

#[tokio::test]
async fn updates_and_deletes_by_every_key_set_only_the_patched_columns() {
    let app = fixture().await;
    exec(
        &app,
        "insert into app_public.items (code, quantity, note) values ('a1', 5, 'keep')",
    )
    .await;

    // A field absent leaves its column alone.
    let r = app
        .gql(
            "mutation { updateItemByCode(input: {code: \"a1\", itemPatch: {quantity: 7}}) { item { code quantity note } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["updateItemByCode"]["item"],
        json!({"code": "a1", "quantity": 7, "note": "keep"}),
        "{}",
        r.body
    );
    assert_eq!(
        rows(&app).await,
        vec![json!({"code": "a1", "quantity": 7, "note": "keep"})]
    );

    // An explicit null sets NULL, from a literal or a variable.
    let r = app
        .gql(
            "mutation($p: ItemPatch!) { updateItemByCode(input: {code: \"a1\", itemPatch: $p}) { item { note } } }",
            json!({"p": {"note": null}}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["updateItemByCode"]["item"],
        json!({"note": null}),
        "{}",
        r.body
    );
    assert_eq!(
        rows(&app).await,
        vec![json!({"code": "a1", "quantity": 7, "note": null})]
    );

    // An empty patch is refused before anything runs.
    let r = app
        .gql(
            "mutation { updateItemByCode(input: {code: \"a1\", itemPatch: {}}) { item { code } } }",
            json!({}),
            None,
        )
        .await;
    let msg = r.errors().expect("error")[0]["message"]
        .as_str()
        .unwrap_or("");
    assert!(msg.contains("patch sets no field"), "{}", r.body);
    assert_eq!(
        rows(&app).await,
        vec![json!({"code": "a1", "quantity": 7, "note": null})]
    );

    // By primary key and by node id.
    let id = app.sql("select id from app_public.items").await[0]["id"].clone();
    let r = app
        .gql(
            "mutation($id: Int!) { updateItemById(input: {id: $id, itemPatch: {note: \"by id\"}}) { item { nodeId note } } }",
            json!({"id": id}),
            None,
        )
        .await;
    let node_id = r.data()["updateItemById"]["item"]["nodeId"].clone();
    assert_eq!(node_id, b64(&format!("[\"items\",{id}]")), "{}", r.body);
    let r = app
        .gql(
            "mutation($n: ID!) { updateItem(input: {nodeId: $n, itemPatch: {quantity: 1}}) { item { quantity note } } }",
            json!({"n": node_id}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["updateItem"]["item"],
        json!({"quantity": 1, "note": "by id"}),
        "{}",
        r.body
    );

    // No such row: v4's words, and nothing changes.
    for (m, word) in [
        (
            "updateItemByCode(input: {code: \"nope\", itemPatch: {quantity: 3}}) { item { id } }",
            "updated",
        ),
        (
            "deleteItemByCode(input: {code: \"nope\"}) { item { id } }",
            "deleted",
        ),
    ] {
        let field = m.split('(').next().unwrap_or_default();
        let r = app
            .gql(&format!("mutation {{ {m} }}"), json!({}), None)
            .await;
        let (code, message, _) = field_error(&r, field);
        assert_eq!(code, "NOT_FOUND");
        let verb = &word[..word.len() - 1];
        assert_eq!(
            message,
            format!("No values were {word} in collection 'items' because no values you can {verb} were found matching these criteria.")
        );
    }

    // Deletes: by unique key, by node id, by primary key.
    exec(
        &app,
        "insert into app_public.items (code) values ('b1'), ('c1')",
    )
    .await;
    let r = app
        .gql(
            "mutation { deleteItemByCode(input: {code: \"b1\"}) { item { code } deletedItemId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["deleteItemByCode"]["item"]["code"],
        "b1",
        "{}",
        r.body
    );
    let r = app
        .gql(
            "mutation($n: ID!) { deleteItem(input: {nodeId: $n}) { item { code } } }",
            json!({"n": node_id}),
            None,
        )
        .await;
    assert_eq!(r.data()["deleteItem"]["item"]["code"], "a1", "{}", r.body);
    let c1 = app
        .sql("select id from app_public.items where code = 'c1'")
        .await[0]["id"]
        .clone();
    let r = app
        .gql(
            "mutation($id: Int!) { deleteItemById(input: {id: $id}) { item { code } } }",
            json!({"id": c1}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["deleteItemById"]["item"]["code"],
        "c1",
        "{}",
        r.body
    );
    assert_eq!(count(&app, "items").await, 0);
}

#[tokio::test]
async fn updates_by_a_unique_key_on_the_example_app_follow_rls() {
    let app = app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let r = app
        .gql(
            "mutation { updateUserByUsername(input: {username: \"alice\", userPatch: {name: \"Alice\"}}) { user { username name } } }",
            json!({}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        r.data()["updateUserByUsername"]["user"],
        json!({"username": "alice", "name": "Alice"}),
        "{}",
        r.body
    );
    // Bob sees Alice's row but RLS lets him update only his own: v4's not-found error.
    let r = app
        .gql(
            "mutation { updateUserByUsername(input: {username: \"alice\", userPatch: {name: \"Bob was here\"}}) { user { name } } }",
            json!({}),
            Some(&bob),
        )
        .await;
    let (code, message, _) = field_error(&r, "updateUserByUsername");
    assert_eq!(code, "NOT_FOUND");
    assert_eq!(message, "No values were updated in collection 'users' because no values you can update were found matching these criteria.");
    assert_eq!(
        app.sql("select name from app_public.users where username = 'alice'")
            .await,
        vec![json!({"name": "Alice"})]
    );
}

#[tokio::test]
async fn constraint_violations_are_field_errors_naming_the_constraint_that_change_nothing() {
    let app = fixture().await;
    exec(&app, "insert into app_public.items (code) values ('taken')").await;
    let before = count(&app, "items").await;
    // Each kind alone, then all in one request between good writes.
    let cases = [
        (
            "unique",
            "createItem(input: {item: {code: \"taken\"}}) { item { id } }",
            "23505",
            Some("items_code_key"),
        ),
        (
            "foreign",
            "createItem(input: {item: {code: \"fk\", categoryId: 999}}) { item { id } }",
            "23503",
            Some("items_category_id_fkey"),
        ),
        (
            "check",
            "createItem(input: {item: {code: \"neg\", quantity: -1}}) { item { id } }",
            "23514",
            Some("items_quantity_positive"),
        ),
        (
            "notNull",
            "updateItemByCode(input: {code: \"taken\", itemPatch: {code: null}}) { item { id } }",
            "23502",
            None,
        ),
    ];
    for (alias, m, sqlstate, constraint) in &cases {
        let r = app
            .gql(&format!("mutation {{ {alias}: {m} }}"), json!({}), None)
            .await;
        let (code, message, named) = field_error(&r, alias);
        assert_eq!(code, *sqlstate, "{}", r.body);
        assert_eq!(named.as_deref(), *constraint, "{}", r.body);
        if let Some(c) = constraint {
            assert!(
                message.contains(c),
                "the message names the constraint: {message}"
            );
        }
        for sql_word in ["insert into", "update \"", "select ", "$1"] {
            assert!(!message.contains(sql_word), "no SQL in errors: {message}");
        }
        assert_eq!(count(&app, "items").await, before, "{alias} wrote nothing");
    }
    let mut doc = String::from(
        "mutation { first: createItem(input: {item: {code: \"g1\"}}) { item { code } } ",
    );
    for (alias, m, _, _) in &cases {
        doc.push_str(&format!("{alias}: {m} "));
    }
    doc.push_str("last: createItem(input: {item: {code: \"g2\"}}) { item { code } query { allItems { totalCount } } } }");
    let r = app.gql(&doc, json!({}), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.data()["first"]["item"]["code"], "g1", "{}", r.body);
    assert_eq!(r.data()["last"]["item"]["code"], "g2", "{}", r.body);
    assert_eq!(
        r.data()["last"]["query"]["allItems"]["totalCount"],
        before + 2,
        "the failed writes left nothing behind: {}",
        r.body
    );
    assert_eq!(r.errors().map(Vec::len), Some(cases.len()), "{}", r.body);
    for (alias, _, sqlstate, _) in &cases {
        assert_eq!(field_error(&r, alias).0, *sqlstate);
    }
    assert_eq!(
        app.sql("select code from app_public.items order by id")
            .await,
        vec![
            json!({"code": "taken"}),
            json!({"code": "g1"}),
            json!({"code": "g2"})
        ]
    );
}

#[tokio::test]
async fn rls_refusals_leave_the_table_unchanged() {
    let app = fixture().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let alice_id = common::claims(&alice)["user_id"].clone();
    let r = app
        .gql(
            "mutation { createNote(input: {note: {body: \"mine\"}}) { note { id ownerId } } }",
            json!({}),
            Some(&alice),
        )
        .await;
    assert_eq!(
        r.data()["createNote"]["note"]["ownerId"],
        alice_id,
        "{}",
        r.body
    );
    let note = r.data()["createNote"]["note"]["id"].clone();
    let before = count(&app, "notes").await;

    // Inserting in someone else's name: WITH CHECK refuses it.
    let r = app
        .gql(
            "mutation($a: Int!) { createNote(input: {note: {body: \"forged\", ownerId: $a}}) { note { id } } }",
            json!({"a": alice_id}),
            Some(&bob),
        )
        .await;
    let (code, message, _) = field_error(&r, "createNote");
    assert_eq!(code, "42501");
    assert!(message.contains("row-level security"), "{message}");
    // Updating or deleting a row the caller cannot see: not found.
    let r = app
        .gql(
            "mutation($id: Int!) { updateNoteById(input: {id: $id, notePatch: {body: \"pwned\"}}) { note { id } } }",
            json!({"id": note}),
            Some(&bob),
        )
        .await;
    assert_eq!(field_error(&r, "updateNoteById").0, "NOT_FOUND");
    let r = app
        .gql(
            "mutation($id: Int!) { deleteNoteById(input: {id: $id}) { note { id } } }",
            json!({"id": note}),
            Some(&bob),
        )
        .await;
    assert_eq!(field_error(&r, "deleteNoteById").0, "NOT_FOUND");
    // Moving one's own row to someone else: WITH CHECK on update.
    let bob_id = common::claims(&bob)["user_id"].clone();
    let r = app
        .gql(
            "mutation($id: Int!, $b: Int!) { updateNoteById(input: {id: $id, notePatch: {ownerId: $b}}) { note { id } } }",
            json!({"id": note, "b": bob_id}),
            Some(&alice),
        )
        .await;
    assert_eq!(field_error(&r, "updateNoteById").0, "42501");
    assert_eq!(count(&app, "notes").await, before);
    assert_eq!(
        app.sql("select owner_id, body from app_public.notes").await,
        vec![json!({"owner_id": alice_id, "body": "mine"})]
    );
}

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
            include_str!("fixtures/mutations.sql"),
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
