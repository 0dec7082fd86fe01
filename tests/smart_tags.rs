//! Smart comments (PostGraphile v4's `COMMENT ON ... '@tag ...'`): renames, omissions,
//! keys and relations declared on views, deprecations; the tag lines never reach a description.

mod common;

use common::{app_with, Options};
use serde_json::{json, Value};

const TAGGED: &str = r#"
create table app_public.gadgets (
  id serial primary key,
  label text not null,
  secret text,
  legacy text,
  internal_code text
);
comment on table app_public.gadgets is E'@name widget\n@omit delete\nThings we sell.';
comment on column app_public.gadgets.label is E'@name title\nWhat it is called.';
comment on column app_public.gadgets.secret is '@omit';
comment on column app_public.gadgets.legacy is E'@deprecated Use title.\nThe old name.';
comment on column app_public.gadgets.internal_code is '@omit create,update';
insert into app_public.gadgets (label, secret, legacy, internal_code) values ('w1', 's', 'old', 'c1');

create type app_public.gadget_size as enum ('small', 'large');
comment on type app_public.gadget_size is E'@name size\nHow big a gadget is.';
create table app_public.sized (id int primary key, size app_public.gadget_size, code text unique, serial_no text unique);
comment on constraint sized_code_key on app_public.sized is '@omit';
grant select on app_public.sized to app_anonymous;

create table app_public.hidden_things (id int primary key);
comment on table app_public.hidden_things is '@omit';

create view app_public.post_summaries as select id, author_id, title from app_public.posts;
comment on view app_public.post_summaries is
  E'@primaryKey id\n@foreignKey (author_id) references app_public.users (id)\n@unique title\nOne line per post.';

insert into app_public.users (id, username) values (100, 'alice');
insert into app_public.posts (id, author_id, title, published) values (200, 100, 'hello', true);

create function app_public.gadget_count() returns int language sql stable
  as $$ select count(*)::int from app_public.gadgets $$;
comment on function app_public.gadget_count() is E'@name widget_total\nHow many widgets there are.';
create function app_public.secret_number() returns int language sql stable as $$ select 42 $$;
comment on function app_public.secret_number() is '@omit execute';
create function app_public.gadget_labels() returns setof text language sql stable
  as $$ select label from app_public.gadgets order by id $$;
comment on function app_public.gadget_labels() is '@name widget_labels';
grant execute on function app_public.gadget_count(), app_public.secret_number(),
  app_public.gadget_labels() to app_anonymous;

grant select, insert, update, delete on app_public.gadgets to app_anonymous;
grant usage on sequence app_public.gadgets_id_seq to app_anonymous;
grant select on app_public.hidden_things, app_public.post_summaries to app_anonymous;
"#;

async fn tagged_app() -> common::TestApp {
    app_with(Options {
        setup_sql: Some(TAGGED),
        ..Options::default()
    })
    .await
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn name_and_omit_rename_and_hide_tables_columns_and_actions() {
    let app = tagged_app().await;
    let r = app
        .gql(
            "{ allWidgets { nodes { id title legacy internalCode } } widgetById(id: 1) { title } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({
            "allWidgets": {"nodes": [{"id": 1, "title": "w1", "legacy": "old", "internalCode": "c1"}]},
            "widgetById": {"title": "w1"}
        })
    );

    let r = app
        .gql(
            "{ widget: __type(name: \"Widget\") { description fields(includeDeprecated: true) { name description isDeprecated deprecationReason } } \
               input: __type(name: \"WidgetInput\") { inputFields { name } } \
               patch: __type(name: \"WidgetPatch\") { inputFields { name } } \
               deletePayload: __type(name: \"DeleteWidgetPayload\") { name } \
               __schema { queryType { fields { name } } mutationType { fields { name } } } }",
            json!({}),
            None,
        )
        .await;
    let d = &r.body["data"];
    assert_eq!(d["widget"]["description"], "Things we sell.", "{}", r.body);
    let fields = d["widget"]["fields"].as_array().unwrap();
    let field = |n: &str| fields.iter().find(|f| f["name"] == n).cloned();
    assert!(field("secret").is_none(), "{fields:?}");
    assert!(field("label").is_none(), "{fields:?}");
    assert_eq!(field("title").unwrap()["description"], "What it is called.");
    let legacy = field("legacy").unwrap();
    assert_eq!(
        (
            &legacy["description"],
            &legacy["isDeprecated"],
            &legacy["deprecationReason"]
        ),
        (&json!("The old name."), &json!(true), &json!("Use title."))
    );
    assert_eq!(names(&d["input"]["inputFields"]), ["id", "title", "legacy"]);
    assert_eq!(names(&d["patch"]["inputFields"]), ["id", "title", "legacy"]);
    assert_eq!(
        d["deletePayload"],
        Value::Null,
        "omitted mutations leave no types"
    );
    let mutations = names(&d["__schema"]["mutationType"]["fields"]);
    assert!(
        mutations.contains(&"createWidget".to_string()),
        "{mutations:?}"
    );
    assert!(mutations.contains(&"updateWidgetById".to_string()));
    assert!(
        !mutations.iter().any(|m| m.starts_with("deleteWidget")),
        "{mutations:?}"
    );
    let queries = names(&d["__schema"]["queryType"]["fields"]);
    assert!(
        !queries.iter().any(|q| q.contains("HiddenThing")),
        "{queries:?}"
    );
    assert!(
        !queries.contains(&"secretNumber".to_string()),
        "{queries:?}"
    );
    assert!(!queries.contains(&"gadgetCount".to_string()), "{queries:?}");
    let r = app
        .gql(
            "{ widgetTotal __type(name: \"Query\") { fields { name description } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.body["data"]["widgetTotal"], 1, "{}", r.body);
    let r2 = app
        .gql(
            "{ widgetLabels { nodes } __type(name: \"WidgetLabelsConnection\") { name } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r2.body["data"],
        json!({"widgetLabels": {"nodes": ["w1"]}, "__type": {"name": "WidgetLabelsConnection"}}),
        "{}",
        r2.body
    );
    let total = r.body["data"]["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "widgetTotal")
        .cloned();
    assert_eq!(total.unwrap()["description"], "How many widgets there are.");

    // The renamed table is written through its new names, and what @omit hides stays put.
    let r = app
        .gql(
            "mutation { createWidget(input: {widget: {title: \"w2\"}}) { widget { id title } } \
                        updateWidgetById(input: {id: 1, widgetPatch: {title: \"w1b\"}}) { widget { title } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({"createWidget": {"widget": {"id": 2, "title": "w2"}}, "updateWidgetById": {"widget": {"title": "w1b"}}}),
        "{}",
        r.body
    );
    assert_eq!(
        app.sql("select label, secret from app_public.gadgets where id = 1")
            .await[0],
        json!({"label": "w1b", "secret": "s"})
    );
    let r = app
        .gql(
            "mutation { createWidget(input: {widget: {title: \"w3\", internalCode: \"x\"}}) { widget { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.status, 400,
        "an omitted column is not an input: {}",
        r.body
    );
}

#[tokio::test]
async fn omitted_unique_constraints_give_no_lookup_and_enums_take_their_tags() {
    let app = tagged_app().await;
    let r = app
        .gql(
            "{ __schema { queryType { fields { name } } } __type(name: \"Size\") { description enumValues { name } } }",
            json!({}),
            None,
        )
        .await;
    let queries = names(&r.body["data"]["__schema"]["queryType"]["fields"]);
    assert!(
        queries.contains(&"sizedBySerialNo".to_string()),
        "{queries:?}"
    );
    assert!(!queries.contains(&"sizedByCode".to_string()), "{queries:?}");
    assert_eq!(
        r.body["data"]["__type"],
        json!({"description": "How big a gadget is.", "enumValues": [{"name": "SMALL"}, {"name": "LARGE"}]}),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn views_get_keys_and_relations_from_smart_tags() {
    let app = tagged_app().await;
    let r = app
        .gql(
            "{ postSummaryById(id: 200) { nodeId title userByAuthorId { username } } \
               postSummaryByTitle(title: \"hello\") { id } \
               userById(id: 100) { postSummariesByAuthorId { nodes { title } } } \
               summary: __type(name: \"PostSummary\") { description fields { name type { kind } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let d = &r.body["data"];
    assert_eq!(d["postSummaryById"]["title"], "hello", "{}", r.body);
    assert_eq!(d["postSummaryById"]["userByAuthorId"]["username"], "alice");
    assert_eq!(d["postSummaryByTitle"]["id"], 200);
    assert_eq!(
        d["userById"]["postSummariesByAuthorId"]["nodes"],
        json!([{"title": "hello"}])
    );
    assert_eq!(d["summary"]["description"], "One line per post.");
    // The key is non-null (as v4 makes it); other view columns stay nullable.
    let kinds: Vec<(String, String)> = d["summary"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["name"] == "id" || f["name"] == "title")
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["type"]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("id".to_string(), "NON_NULL".to_string()),
            ("title".to_string(), "SCALAR".to_string())
        ]
    );
    let node_id = d["postSummaryById"]["nodeId"].clone();
    let r = app
        .gql(
            "query($n: ID!) { node(nodeId: $n) { __typename ... on PostSummary { title } } }",
            json!({"n": node_id}),
            None,
        )
        .await;
    assert_eq!(
        r.body["data"]["node"],
        json!({"__typename": "PostSummary", "title": "hello"}),
        "{}",
        r.body
    );
}
