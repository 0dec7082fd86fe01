//! `filter:` as postgraphile-plugin-connection-filter v2 has it: one test per operator family
//! on a table with a column of every filterable type (and a row of NULLs), logic nesting,
//! null and empty-object input, computed columns, functions, paging and cached plans.
//! Relations, ranges and the plugin's options have their own files (filter_*.rs).

mod common;

use common::filter::{check, fixture, fixture_flags, fixture_with, ids, input_fields, node_ids};
use serde_json::{json, Value};

#[tokio::test]
async fn every_type_operators_and_ordering() {
    let app = fixture().await;
    check(
        &app,
        &[
            ("{qty: {equalTo: 20}}", &[2]),
            ("{qty: {notEqualTo: 20}}", &[1, 3]),
            ("{qty: {distinctFrom: 20}}", &[1, 3, 4]),
            ("{qty: {notDistinctFrom: 20}}", &[2]),
            ("{qty: {isNull: true}}", &[4]),
            ("{qty: {isNull: false}}", &[1, 2, 3]),
            ("{qty: {in: [10, 30]}}", &[1, 3]),
            ("{qty: {notIn: [10]}}", &[2, 3]),
            ("{qty: {in: []}}", &[]),
            ("{qty: {notIn: []}}", &[1, 2, 3, 4]),
            ("{qty: {lessThan: 20}}", &[1]),
            ("{qty: {lessThanOrEqualTo: 20}}", &[1, 2]),
            ("{qty: {greaterThan: 20}}", &[3]),
            ("{qty: {greaterThanOrEqualTo: 20}}", &[2, 3]),
            ("{small: {greaterThan: 1}}", &[2, 3]),
            ("{big: {greaterThan: \"15000000000\"}}", &[2, 3]),
            ("{price: {lessThan: \"2.5\"}}", &[1]),
            ("{ratio: {greaterThanOrEqualTo: 1.5}}", &[2, 3]),
            ("{active: {equalTo: true}}", &[1, 3]),
            (
                "{uid: {equalTo: \"00000000-0000-0000-0000-000000000002\"}}",
                &[2],
            ),
            ("{day: {greaterThan: \"2024-01-15\"}}", &[2, 3]),
            ("{clock: {lessThan: \"09:30\"}}", &[1, 2]),
            (
                "{stamp: {greaterThanOrEqualTo: \"2024-02-01T09:00:00\"}}",
                &[2, 3],
            ),
            ("{stamptz: {lessThan: \"2024-02-01T09:00:00Z\"}}", &[1]),
            ("{span: {greaterThan: {days: 1}}}", &[2, 3]),
            ("{mood: {equalTo: SAD}}", &[2]),
            ("{mood: {in: [HAPPY, MEH]}}", &[1, 3]),
            ("{mood: {greaterThan: HAPPY}}", &[2, 3]),
            ("{score: {greaterThan: 4}}", &[1, 2]),
        ],
    )
    .await;
}

#[tokio::test]
async fn string_operators_escape_wildcards_and_fold_case() {
    let app = fixture().await;
    check(
        &app,
        &[
            ("{name: {includes: \"a\"}}", &[1, 2, 3]),
            ("{name: {includes: \"100%\"}}", &[2]),
            // `%` and `_` in the value match only themselves.
            ("{name: {includes: \"%\"}}", &[2]),
            ("{name: {includes: \"_\"}}", &[3]),
            ("{code: {includes: \"_\"}}", &[2]),
            ("{name: {notIncludes: \"a\"}}", &[]),
            ("{name: {includesInsensitive: \"ALPHA\"}}", &[1]),
            ("{name: {notIncludesInsensitive: \"ALPHA\"}}", &[2, 3]),
            ("{name: {startsWith: \"Al\"}}", &[1]),
            ("{name: {notStartsWith: \"Al\"}}", &[2, 3]),
            ("{name: {startsWithInsensitive: \"BETA\"}}", &[2]),
            ("{name: {notStartsWithInsensitive: \"beta\"}}", &[1, 3]),
            ("{name: {endsWith: \"_x\"}}", &[3]),
            ("{name: {notEndsWith: \"_x\"}}", &[1, 2]),
            ("{name: {endsWithInsensitive: \"HA\"}}", &[1]),
            ("{name: {notEndsWithInsensitive: \"HA\"}}", &[2, 3]),
            // `like` takes the pattern as it is.
            ("{code: {like: \"_-_\"}}", &[1, 3]),
            ("{code: {notLike: \"_-_\"}}", &[2]),
            ("{name: {likeInsensitive: \"%ALPHA%\"}}", &[1]),
            ("{name: {notLikeInsensitive: \"%a%\"}}", &[]),
            ("{name: {equalToInsensitive: \"ALPHA\"}}", &[1]),
            ("{name: {notEqualToInsensitive: \"ALPHA\"}}", &[2, 3]),
            ("{name: {distinctFromInsensitive: \"ALPHA\"}}", &[2, 3, 4]),
            ("{name: {notDistinctFromInsensitive: \"alpha\"}}", &[1]),
            ("{name: {inInsensitive: [\"ALPHA\", \"GAMMA_X\"]}}", &[1, 3]),
            ("{name: {notInInsensitive: [\"ALPHA\"]}}", &[2, 3]),
            ("{name: {lessThanInsensitive: \"B\"}}", &[1]),
            ("{name: {lessThanOrEqualToInsensitive: \"ALPHA\"}}", &[1]),
            ("{name: {greaterThanInsensitive: \"B\"}}", &[2, 3]),
            (
                "{name: {greaterThanOrEqualToInsensitive: \"GAMMA_X\"}}",
                &[3],
            ),
            ("{tag: {equalTo: \"abc\"}}", &[1]),
            ("{lbl: {startsWith: \"th\"}}", &[3]),
            // citext: case-sensitive operators compare it as text.
            ("{ci: {equalTo: \"mixed\"}}", &[2]),
            ("{ci: {equalToInsensitive: \"mixed\"}}", &[1, 2]),
            ("{ci: {includes: \"X\"}}", &[1]),
            ("{ci: {includesInsensitive: \"x\"}}", &[1, 2]),
        ],
    )
    .await;
}

#[tokio::test]
async fn array_operators() {
    let app = fixture().await;
    check(
        &app,
        &[
            ("{nums: {equalTo: [4, 5]}}", &[2]),
            ("{nums: {notEqualTo: [4, 5]}}", &[1, 3]),
            ("{nums: {distinctFrom: [4, 5]}}", &[1, 3, 4]),
            ("{nums: {isNull: true}}", &[4]),
            ("{nums: {lessThan: [4]}}", &[1]),
            ("{nums: {contains: [2]}}", &[1]),
            ("{nums: {containedBy: [1, 2, 3, 6]}}", &[1, 3]),
            ("{nums: {overlaps: [3, 4]}}", &[1, 2]),
            ("{nums: {anyEqualTo: 5}}", &[2]),
            ("{nums: {anyNotEqualTo: 6}}", &[1, 2]),
            ("{nums: {anyLessThan: 2}}", &[1]),
            ("{nums: {anyLessThanOrEqualTo: 4}}", &[1, 2]),
            ("{nums: {anyGreaterThan: 5}}", &[3]),
            ("{nums: {anyGreaterThanOrEqualTo: 5}}", &[2, 3]),
            ("{tags: {contains: [\"red\"]}}", &[1]),
            ("{tags: {equalTo: []}}", &[3]),
            // citext[]: as text[], so case-sensitive.
            ("{cis: {contains: [\"foo\"]}}", &[2]),
            ("{cis: {anyEqualTo: \"Foo\"}}", &[1]),
            ("{cis: {anyEqualTo: \"FOO\"}}", &[]),
        ],
    )
    .await;
}

#[tokio::test]
async fn jsonb_and_inet_operators() {
    let app = fixture().await;
    check(
        &app,
        &[
            ("{jsb: {contains: \"{\\\"a\\\": 1}\"}}", &[1]),
            (
                "{jsb: {containedBy: \"{\\\"b\\\": 2, \\\"z\\\": 0}\"}}",
                &[2],
            ),
            ("{jsb: {containsKey: \"a\"}}", &[1, 3]),
            ("{jsb: {containsAllKeys: [\"a\", \"b\"]}}", &[1]),
            ("{jsb: {containsAnyKeys: [\"b\", \"c\"]}}", &[1, 2, 3]),
            ("{jsb: {containsAllKeys: []}}", &[1, 2, 3]),
            ("{jsb: {containsAnyKeys: []}}", &[]),
            ("{jsb: {equalTo: \"{\\\"b\\\":2}\"}}", &[2]),
            ("{ip: {containedBy: \"192.168.0.0/16\"}}", &[2, 3]),
            ("{ip: {containedByOrEqualTo: \"192.168.1.5\"}}", &[2]),
            ("{ip: {contains: \"10.0.0.1\"}}", &[]),
            ("{ip: {containsOrEqualTo: \"10.0.0.1\"}}", &[1]),
            ("{ip: {containsOrContainedBy: \"192.168.2.0/24\"}}", &[3]),
        ],
    )
    .await;
    // json (not jsonb) has no operators, as in the plugin; an omitted column none either.
    let r = app
        .gql(
            "{ allThings(filter: {js: {isNull: true}}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .gql(
            "{ allThings(filter: {secret: {isNull: true}}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn logic_nests_and_composites_and_computed_columns_filter() {
    let app = fixture().await;
    check(
        &app,
        &[
            ("{qty: {greaterThan: 5}, active: {equalTo: true}}", &[1, 3]),
            ("{or: [{qty: {equalTo: 10}}, {name: {startsWith: \"Gam\"}}]}", &[1, 3]),
            ("{and: [{qty: {greaterThan: 10}}, {qty: {lessThan: 30}}]}", &[2]),
            ("{not: {qty: {equalTo: 10}}}", &[2, 3]),
            (
                "{or: [{and: [{qty: {in: [10, 20]}}, {not: {active: {equalTo: true}}}]}, {id: {equalTo: 4}}]}",
                &[2, 4],
            ),
            // Empty lists are no-ops.
            ("{and: []}", &[1, 2, 3, 4]),
            ("{or: [], qty: {equalTo: 20}}", &[2]),
            ("{not: {or: []}}", &[1, 2, 3, 4]),
            ("{dims: {w: {greaterThan: 5}}}", &[2, 3]),
            // A null composite's attributes are null too.
            ("{dims: {label: {isNull: true}}}", &[3, 4]),
            ("{dims: {or: [{w: {equalTo: 3}}, {label: {equalTo: \"large\"}}]}}", &[1, 2]),
            ("{doubleQty: {equalTo: 40}}", &[2]),
            ("{doubleQty: {isNull: true}}", &[4]),
        ],
    )
    .await;
    // A computed column with a required argument beyond the row is not offered.
    let r = app
        .gql(
            "{ allThings(filter: {withExtra: {isNull: true}}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
}

#[tokio::test]
async fn null_and_empty_objects_fail_the_field_only() {
    let app = fixture().await;
    for (filter, message) in [
        (
            "{qty: null}",
            "Null literals are forbidden in filter argument input.",
        ),
        (
            "{qty: {equalTo: null}}",
            "Null literals are forbidden in filter argument input.",
        ),
        (
            "null",
            "Null literals are forbidden in filter argument input.",
        ),
        (
            "{}",
            "Empty objects are forbidden in filter argument input.",
        ),
        (
            "{qty: {}}",
            "Empty objects are forbidden in filter argument input.",
        ),
        (
            "{and: [{}]}",
            "Empty objects are forbidden in filter argument input.",
        ),
    ] {
        let q = format!(
            "{{ bad: allThings(filter: {filter}) {{ totalCount }} good: allThings {{ totalCount }} }}"
        );
        let r = app.gql(&q, json!({}), None).await;
        assert_eq!(r.status, 200, "{filter}: {}", r.body);
        assert_eq!(r.data()["bad"], Value::Null, "{filter}: {}", r.body);
        assert_eq!(r.data()["good"]["totalCount"], 4, "{filter}: {}", r.body);
        let errors = r.errors().expect("errors");
        assert_eq!(errors[0]["message"], message, "{filter}");
        assert_eq!(errors[0]["path"], json!(["bad"]), "{filter}");
    }
    // The same through a variable.
    let r = app
        .gql(
            "query($f: ThingFilter) { allThings(filter: $f) { totalCount } }",
            json!({"f": {"qty": {"equalTo": null}}}),
            None,
        )
        .await;
    assert_eq!(r.data()["allThings"], Value::Null, "{}", r.body);
    assert_eq!(
        r.errors().expect("errors")[0]["message"],
        "Null literals are forbidden in filter argument input."
    );
}

#[tokio::test]
async fn flags_allow_null_and_empty_objects() {
    let app = fixture_with(postgraph::schema::filter::FilterFlags {
        allow_null_input: true,
        allow_empty_object_input: true,
        ..Default::default()
    })
    .await;
    check(
        &app,
        &[
            ("{qty: null}", &[1, 2, 3, 4]),
            ("{qty: {equalTo: null}, id: {lessThan: 3}}", &[1, 2]),
            ("null", &[1, 2, 3, 4]),
            ("{}", &[1, 2, 3, 4]),
            ("{not: {}}", &[1, 2, 3, 4]),
            ("{or: [{}, {qty: {equalTo: 10}}]}", &[1]),
        ],
    )
    .await;
}

#[tokio::test]
async fn filtering_can_be_turned_off_and_omitted() {
    let app = fixture_with(postgraph::schema::filter::FilterFlags {
        no_connection_filter: true,
        ..Default::default()
    })
    .await;
    let r = app
        .gql(
            "{ allThings(filter: {qty: {equalTo: 1}}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.to_string().contains("Unknown argument"),
        "{}",
        r.body
    );
    let app = fixture().await;
    let r = app
        .gql(
            "{ allUnfiltereds(filter: {id: {equalTo: 1}}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // `@omit filter` on a function.
    let r = app
        .gql(
            "{ thingsAll(filter: {id: {equalTo: 1}}) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = app
        .gql("{ thingsAll { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.data()["thingsAll"]["totalCount"], 4, "{}", r.body);
    // `condition` stays beside `filter`.
    let r = app
        .gql(
            "{ allThings(condition: {active: true}, filter: {qty: {greaterThan: 10}}) { nodes { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(node_ids(&r.data()["allThings"]), [3], "{}", r.body);
}

#[tokio::test]
async fn paging_counts_and_cursors_follow_the_filter() {
    let app = fixture().await;
    let q = "query($f: ThingFilter, $after: Cursor) { allThings(filter: $f, first: 1, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }";
    let f = json!({"qty": {"greaterThan": 10}});
    let r = app.gql(q, json!({"f": f}), None).await;
    let c = &r.data()["allThings"];
    assert_eq!(c["totalCount"], 2, "{}", r.body);
    assert_eq!(node_ids(c), [2]);
    assert_eq!(c["pageInfo"]["hasNextPage"], true);
    let after = c["pageInfo"]["endCursor"].clone();
    let r = app.gql(q, json!({"f": f, "after": after}), None).await;
    let c = &r.data()["allThings"];
    assert_eq!(node_ids(c), [3], "{}", r.body);
    assert_eq!(c["pageInfo"]["hasNextPage"], false);
    // The same query text with other values reuses the plan: values are parameters.
    for (n, expected) in [(0, vec![1, 2, 3]), (20, vec![3]), (30, vec![])] {
        let r = app
            .gql(
                "query($n: Int) { allThings(filter: {qty: {greaterThan: $n}}) { nodes { id } } }",
                json!({"n": n}),
                None,
            )
            .await;
        assert_eq!(node_ids(&r.data()["allThings"]), expected, "{}", r.body);
    }
    // A pattern from a variable is escaped each time it is bound.
    for (s, expected) in [("%", vec![2]), ("_", vec![3]), ("a", vec![1, 2, 3])] {
        let r = app
            .gql(
                "query($s: String) { allThings(filter: {name: {includes: $s}}) { nodes { id } } }",
                json!({"s": s}),
                None,
            )
            .await;
        assert_eq!(
            node_ids(&r.data()["allThings"]),
            expected,
            "{s}: {}",
            r.body
        );
    }
}

#[tokio::test]
async fn functions_relations_and_lists_take_filters() {
    let app = fixture().await;
    let r = app
        .gql(
            "{ thingsUpto(n: 3, filter: {active: {equalTo: true}}) { totalCount nodes { id } }
               thingQuantities(filter: {greaterThan: 15}) { nodes }
               allPosts(filter: {title: {includesInsensitive: \"HELLO\"}}) { totalCount }
               allUsers(filter: {username: {equalTo: \"alice\"}}) { nodes { postsByAuthorId(filter: {id: {lessThan: 0}}) { totalCount } } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(node_ids(&r.data()["thingsUpto"]), [1, 3], "{}", r.body);
    assert_eq!(r.data()["thingsUpto"]["totalCount"], 2);
    assert_eq!(r.data()["thingQuantities"]["nodes"], json!([20, 30]));
    assert!(r.data()["allPosts"]["totalCount"].is_number());
}

#[tokio::test]
async fn v4_scalars_domains_bits_money_and_network_types() {
    let app = fixture().await;
    check(
        &app,
        &[
            ("{bits: {equalTo: \"0110\"}}", &[2]),
            ("{bits: {greaterThan: \"101\"}}", &[3]),
            ("{cash: {greaterThan: 10}}", &[2, 3]),
            ("{cash: {lessThanOrEqualTo: 20.0}}", &[1, 2]),
        ],
    )
    .await;
    // money is a Float, a domain its own scalar, bit strings `BitString`.
    let r = app
        .gql(
            "{ allThings(filter: {id: {equalTo: 1}}) { nodes { cash score bits net mac } }
               score: __type(name: \"ThingFilter\") { inputFields { name type { name } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["allThings"]["nodes"][0],
        json!({"cash": 1.25, "score": 5, "bits": "101", "net": "10.0.0.0/8", "mac": "08:00:2b:01:02:03"}),
        "{}",
        r.body
    );
    let types: Vec<(String, Value)> = r.data()["score"]["inputFields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_string(),
                f["type"]["name"].clone(),
            )
        })
        .collect();
    let of = |name: &str| {
        types
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
    };
    assert_eq!(of("score"), Some(json!("ScoreFilter")));
    assert_eq!(of("lbl"), Some(json!("LabelFilter")));
    assert_eq!(of("bits"), Some(json!("BitStringFilter")));
    assert_eq!(of("cash"), Some(json!("FloatFilter")));
    // Without custom network scalars cidr and macaddr are strings, which have no operators.
    assert_eq!(of("net"), None);
    let r = app
        .gql("{ __type(name: \"Score\") { kind } }", json!({}), None)
        .await;
    assert_eq!(r.data()["__type"]["kind"], "SCALAR", "{}", r.body);

    let app = fixture_flags(postgraph::schema::SchemaFlags {
        custom_network_scalars: true,
        ..Default::default()
    })
    .await;
    check(
        &app,
        &[
            ("{net: {contains: \"192.168.2.7\"}}", &[2, 3]),
            ("{net: {containedBy: \"192.168.0.0/16\"}}", &[3]),
            ("{mac: {greaterThan: \"08:00:2b:01:02:03\"}}", &[2, 3]),
        ],
    )
    .await;
}

#[tokio::test]
async fn filters_are_bounded_in_depth_and_tests() {
    let app = fixture().await;
    // 17 nested `not`s: one level over the bound.
    let deep = format!(
        "{}{{qty: {{equalTo: 1}}}}{}",
        "{not: ".repeat(17),
        "}".repeat(17)
    );
    let q = format!("{{ allThings(filter: {deep}) {{ totalCount }} }}");
    let r = app.gql(&q, json!({}), None).await;
    assert_eq!(r.data()["allThings"], Value::Null, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("INVALID_FILTER"), "{}", r.body);
    // Every nested object counts (the column's operators too): 14 `not`s are fine (an even
    // number keeps the test as it is).
    let ok = format!(
        "{}{{qty: {{equalTo: 10}}}}{}",
        "{not: ".repeat(14),
        "}".repeat(14)
    );
    assert_eq!(ids(&app, &ok).await, [1]);
    // 501 tests, through a variable (no token limit applies to variables).
    let many: Vec<Value> = (0..501).map(|i| json!({"qty": {"equalTo": i}})).collect();
    let r = app
        .gql(
            "query($f: ThingFilter) { allThings(filter: $f) { totalCount } }",
            json!({"f": {"or": many}}),
            None,
        )
        .await;
    assert_eq!(r.first_error_code(), Some("INVALID_FILTER"), "{}", r.body);
    assert!(
        r.errors().unwrap()[0]["message"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn hstore_is_a_key_value_hash_with_its_operators() {
    let app = fixture().await;
    check(
        &app,
        &[
            ("{kv: {containsKey: \"a\"}}", &[1]),
            ("{kv: {containsKey: \"b\"}}", &[1, 2]),
            ("{kv: {containsAllKeys: [\"a\", \"b\"]}}", &[1]),
            ("{kv: {containsAnyKeys: [\"a\", \"b\"]}}", &[1, 2]),
            ("{kv: {containsAllKeys: []}}", &[1, 2, 3]),
            ("{kv: {isNull: true}}", &[4]),
        ],
    )
    .await;
    // Objects for a scalar come through variables (juniper takes no object literal there).
    for (op, v, expected) in [
        ("contains", json!({"b": "2"}), vec![2]),
        ("contains", json!({"b": null}), vec![1]),
        (
            "containedBy",
            json!({"a": "1", "b": null, "c": "x"}),
            vec![1, 3],
        ),
        ("equalTo", json!({"b": "2"}), vec![2]),
    ] {
        let q = format!(
            "query($v: KeyValueHash) {{ allThings(filter: {{kv: {{{op}: $v}}}}) {{ nodes {{ id }} }} }}"
        );
        let r = app.gql(&q, json!({"v": v}), None).await;
        assert!(r.errors().is_none(), "{op} {v}: {}", r.body);
        assert_eq!(
            node_ids(&r.data()["allThings"]),
            expected,
            "{op} {v}: {}",
            r.body
        );
    }
    let r = app
        .gql(
            "{ allThings(filter: {id: {lessThan: 3}}) { nodes { kv } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["allThings"]["nodes"],
        json!([{"kv": {"a": "1", "b": null}}, {"kv": {"b": "2"}}]),
        "{}",
        r.body
    );
    let names = input_fields(&app, "KeyValueHashFilter").await;
    assert!(
        !names.iter().any(|n| n == "lessThan") && names.iter().any(|n| n == "containsAnyKeys"),
        "{names:?}"
    );
}
