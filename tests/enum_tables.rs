//! Enum tables (PostGraphile v4.8): a table commented `@enum` with a text primary key becomes
//! a GraphQL enum of its rows (read at startup), is not exposed itself, and the columns that
//! reference it are typed as that enum in output, input and conditions.

mod common;

use common::{app_with, Options, TestApp};
use serde_json::{json, Value};

const SETUP: &str = r#"
create table app_public.post_status (status text primary key, description text);
comment on table app_public.post_status is E'@enum\nWhere a post is in its life.';
insert into app_public.post_status values
  ('draft', 'Not yet published'), ('published', 'Out there'), ('in_review', null);
create table app_public.priority (name varchar(10) primary key);
comment on table app_public.priority is E'@enum\n@enumName TaskPriority';
insert into app_public.priority values ('low'), ('high');
create table app_public.article (
  id serial primary key,
  title text not null,
  status text not null default 'draft' references app_public.post_status,
  priority varchar(10) references app_public.priority
);
insert into app_public.article (title, status, priority) values
  ('one', 'draft', 'low'), ('two', 'published', null), ('three', 'in_review', 'high');
grant select, insert, update on app_public.article to app_anonymous;
grant usage on sequence app_public.article_id_seq to app_anonymous;
-- v4 reads an enum table's rows as the connecting role at startup.
grant usage on schema app_public to app_authenticator;
grant select on app_public.post_status, app_public.priority to app_authenticator;
"#;

async fn fixture() -> TestApp {
    app_with(Options {
        setup_sql: Some(SETUP),
        ..Options::default()
    })
    .await
}

async fn ok(app: &TestApp, query: &str, variables: Value) -> Value {
    let r = app.gql(query, variables, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    r.data().clone()
}

#[tokio::test]
async fn an_enum_table_is_a_graphql_enum_of_its_rows() {
    let app = fixture().await;
    let d = ok(
        &app,
        r#"{ status: __type(name: "PostStatus") { kind description enumValues { name description } }
             priority: __type(name: "TaskPriority") { kind enumValues { name } }
             article: __type(name: "Article") { fields { name type { kind name ofType { name } } } }
             input: __type(name: "ArticleInput") { inputFields { name type { kind name ofType { name } } } }
             condition: __type(name: "ArticleCondition") { inputFields { name type { name } } }
             table: __type(name: "PostStatusesConnection") { name }
             query: __type(name: "Query") { fields { name } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        d["status"],
        json!({"kind": "ENUM", "description": "Where a post is in its life.", "enumValues": [
            {"name": "DRAFT", "description": "Not yet published"},
            {"name": "PUBLISHED", "description": "Out there"},
            {"name": "IN_REVIEW", "description": null}]})
    );
    assert_eq!(
        d["priority"],
        json!({"kind": "ENUM", "enumValues": [{"name": "LOW"}, {"name": "HIGH"}]})
    );
    let field = |list: &Value, name: &str| -> Value {
        list.as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == name)
            .map_or(Value::Null, |f| f["type"].clone())
    };
    let fields = &d["article"]["fields"];
    assert_eq!(
        field(fields, "status"),
        json!({"kind": "NON_NULL", "name": null, "ofType": {"name": "PostStatus"}})
    );
    assert_eq!(
        field(fields, "priority"),
        json!({"kind": "ENUM", "name": "TaskPriority", "ofType": null})
    );
    // No relation to the enum table: it is not a type.
    assert_eq!(field(fields, "postStatusByStatus"), Value::Null);
    let input = &d["input"]["inputFields"];
    assert_eq!(
        field(input, "status"),
        json!({"kind": "ENUM", "name": "PostStatus", "ofType": null})
    );
    assert_eq!(
        field(&d["condition"]["inputFields"], "status"),
        json!({"name": "PostStatus"})
    );
    assert_eq!(d["table"], Value::Null);
    let roots: Vec<&str> = d["query"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert!(roots.contains(&"allArticles"), "{roots:?}");
    assert!(
        !roots
            .iter()
            .any(|f| f.contains("PostStatus") || f.contains("Priorit")),
        "{roots:?}"
    );
}

#[tokio::test]
async fn enum_table_values_read_filter_and_write_as_labels() {
    let app = fixture().await;
    let d = ok(
        &app,
        "{ allArticles(orderBy: ID_ASC) { nodes { title status priority } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        d["allArticles"]["nodes"],
        json!([
            {"title": "one", "status": "DRAFT", "priority": "LOW"},
            {"title": "two", "status": "PUBLISHED", "priority": null},
            {"title": "three", "status": "IN_REVIEW", "priority": "HIGH"}])
    );
    let d = ok(
        &app,
        "{ allArticles(condition: {status: IN_REVIEW}) { nodes { title } } }",
        json!({}),
    )
    .await;
    assert_eq!(d["allArticles"]["nodes"], json!([{"title": "three"}]));
    // Through a variable too.
    let d = ok(
        &app,
        "query($p: TaskPriority) { allArticles(condition: {priority: $p}) { nodes { title } } }",
        json!({"p": "HIGH"}),
    )
    .await;
    assert_eq!(d["allArticles"]["nodes"], json!([{"title": "three"}]));

    let d = ok(
        &app,
        "mutation($p: TaskPriority) { createArticle(input: {article: {title: \"four\", status: PUBLISHED, priority: $p}}) { article { id status priority } } }",
        json!({"p": "HIGH"}),
    )
    .await;
    let article = &d["createArticle"]["article"];
    assert_eq!(article["status"], "PUBLISHED");
    assert_eq!(article["priority"], "HIGH");
    let id = article["id"].as_i64().expect("id");
    let rows = app
        .sql(&format!(
            "select status, priority from app_public.article where id = {id}"
        ))
        .await;
    assert_eq!(
        rows,
        vec![json!({"status": "published", "priority": "high"})]
    );

    let d = ok(
        &app,
        "mutation($id: Int!) { updateArticleById(input: {id: $id, articlePatch: {status: IN_REVIEW, priority: null}}) { article { status priority } } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(
        d["updateArticleById"]["article"],
        json!({"status": "IN_REVIEW", "priority": null})
    );
    let rows = app
        .sql(&format!(
            "select status, priority from app_public.article where id = {id}"
        ))
        .await;
    assert_eq!(rows, vec![json!({"status": "in_review", "priority": null})]);
}

#[tokio::test]
async fn a_value_not_in_the_enum_table_is_refused_and_nothing_changes() {
    let app = fixture().await;
    let r = app
        .gql(
            "mutation { createArticle(input: {article: {title: \"bad\", status: ARCHIVED}}) { article { id } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    let rows = app
        .sql("select count(*)::int as n from app_public.article where title = 'bad'")
        .await;
    assert_eq!(rows, vec![json!({"n": 0})]);
}

#[tokio::test]
async fn an_enum_table_the_connecting_role_cannot_read_stays_an_ordinary_table() {
    let app = app_with(Options {
        setup_sql: Some(
            r#"
create table app_public.colour (name text primary key);
comment on table app_public.colour is E'@enum';
insert into app_public.colour values ('red');
grant select on app_public.colour to app_anonymous;
"#,
        ),
        ..Options::default()
    })
    .await;
    let d = ok(
        &app,
        "{ allColours { nodes { name } } e: __type(name: \"Colour\") { kind } }",
        json!({}),
    )
    .await;
    assert_eq!(d["allColours"]["nodes"], json!([{"name": "red"}]));
    assert_eq!(d["e"]["kind"], "OBJECT");
}
