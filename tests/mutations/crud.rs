//! Create, update and delete: payloads, keys, patches, constraint and RLS refusals.

use crate::common::{self, app, TestApp};
use crate::{b64, count, exec, field_error, fixture, rows, unb64};
use serde_json::json;

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
