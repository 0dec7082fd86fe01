//! Introspection answers are written straight to JSON text (src/graphql/introspect.rs), not
//! through juniper's executor; a client must not see a difference. Each query here is answered
//! over HTTP and compared with what juniper's executor gives for the same schema.

mod common;

use serde_json::{json, Value};

const STANDARD: &str = include_str!("../src/graphql/introspection.graphql");

/// Aliases, `__typename`, fragments, `@skip`/`@include`, variables and the arguments of the
/// introspection fields, on every kind of type.
const PARTS: &str = r#"
query Parts($n: String!, $skip: Boolean!, $all: Boolean!) {
  t: __type(name: $n) {
    __typename kind name description specifiedByURL isOneOf ofType { name }
    fields(includeDeprecated: $all) {
      __typename name isDeprecated deprecationReason
      args { name description defaultValue type { kind name ofType { kind name ofType { kind name ofType { name } } } } }
      type { ...Ref }
    }
    also: fields { name }
    ...More @skip(if: $skip)
    ... on __Type @include(if: $all) { interfaces { name kind } }
  }
  missing: __type(name: "NoSuchType") { name }
  s: __schema {
    __typename description
    queryType { name } mutationType { name fields { name } } subscriptionType { name }
    directives { __typename name description locations isRepeatable onField onOperation onFragment
      args(includeDeprecated: true) { name defaultValue type { ...Ref } isDeprecated } }
  }
  __typename
}
fragment More on __Type {
  possibleTypes { name kind }
  enumValues(includeDeprecated: $all) { __typename name description isDeprecated deprecationReason }
  inputFields { __typename name description defaultValue type { ...Ref } }
}
fragment Ref on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
"#;

async fn juniper_answer(app: &common::TestApp, query: &str, variables: &Value) -> Value {
    let schema = app.running.engine.schema();
    let vars = postgraph::graphql::variables_from_json(Some(variables.clone())).unwrap();
    let (value, errors) = juniper::execute(query, None, &schema.api.root, &vars, &())
        .await
        .unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    serde_json::to_value(&value).unwrap()
}

async fn same_answer(app: &common::TestApp, query: &str, variables: Value) {
    let r = app.gql(query, variables.clone(), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    let expected = juniper_answer(app, query, &variables).await;
    assert_eq!(r.data(), &expected, "{query} with {variables}");
}

#[tokio::test]
async fn the_standard_introspection_query_gets_junipers_answer() {
    let app = common::app().await;
    same_answer(&app, STANDARD, json!({})).await;
    let answer = app.gql(STANDARD, json!({}), None).await;
    let types = answer.data()["__schema"]["types"].as_array().unwrap().len();
    assert!(types > 50, "{types} types");
}

#[tokio::test]
async fn every_kind_of_type_aliases_fragments_and_directives_get_junipers_answer() {
    let app = common::app().await;
    // An object, the query root, an interface, an enum, input objects, a scalar, a payload.
    for name in [
        "User",
        "Query",
        "Mutation",
        "Node",
        "PostsOrderBy",
        "PostCondition",
        "CreatePostInput",
        "BigInt",
        "CreatePostPayload",
        "__Type",
        // juniper's stand-in for the absent subscription root: left out of `types` only.
        "_EmptySubscription",
    ] {
        for (skip, all) in [(false, false), (true, true), (false, true)] {
            same_answer(&app, PARTS, json!({"n": name, "skip": skip, "all": all})).await;
        }
    }
}
