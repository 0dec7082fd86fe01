//! Ranges as PostGraphile v4 exposes them (`IntRange {start {value inclusive} end}`,
//! `BigIntRange`, `BigFloatRange`, `DatetimeRange`, `DateRange`, their `…Input` types in
//! conditions and mutations) and connection-filter's range operators on them.

mod common;

use common::filter::{check_on, fixture, ids_of, input_fields};
use serde_json::{json, Value};

/// A bound literal: `{value: <v>, inclusive: <inc>}`.
fn bound(v: &str, inclusive: bool) -> String {
    format!("{{value: {v}, inclusive: {inclusive}}}")
}

#[tokio::test]
async fn ranges_read_as_v4_objects() {
    let app = fixture().await;
    let r = app
        .gql(
            "{ allPeriods(orderBy: ID_ASC) { nodes { id
                ints { start { value inclusive } end { value inclusive } }
                bigs { start { value } end { value inclusive } }
                nums { __typename start { __typename value inclusive } end { value inclusive } }
                days { start { value inclusive } end { value inclusive } }
                intList { start { value } end { value } } } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    let nodes = r.data()["allPeriods"]["nodes"].as_array().expect("nodes");
    let b = |v: Value, inclusive: bool| json!({"value": v, "inclusive": inclusive});
    // [1,5): both bounds; a big range's values are strings, as BigInt is.
    assert_eq!(
        nodes[0]["ints"],
        json!({"start": b(json!(1), true), "end": b(json!(5), false)})
    );
    assert_eq!(
        nodes[0]["bigs"],
        json!({"start": {"value": "10000000000"}, "end": b(json!("20000000000"), false)})
    );
    assert_eq!(
        nodes[0]["nums"],
        json!({"__typename": "BigFloatRange",
               "start": {"__typename": "BigFloatRangeBound", "value": "1.5", "inclusive": true},
               "end": b(json!("2.5"), true)})
    );
    // A discrete range reads back canonical: [2024-01-01,2024-01-31] is [..,2024-02-01).
    assert_eq!(
        nodes[0]["days"],
        json!({"start": b(json!("2024-01-01"), true), "end": b(json!("2024-02-01"), false)})
    );
    assert_eq!(
        nodes[0]["intList"],
        json!([{"start": {"value": 1}, "end": {"value": 2}},
               {"start": {"value": 5}, "end": {"value": 8}}])
    );
    // An unbounded side is a null bound; an empty range has neither; NULL is null.
    assert_eq!(
        nodes[1]["bigs"],
        json!({"start": {"value": "20000000000"}, "end": null})
    );
    assert_eq!(
        nodes[2]["ints"],
        json!({"start": null, "end": b(json!(1), false)})
    );
    assert_eq!(nodes[3]["ints"], json!({"start": null, "end": null}));
    assert_eq!(nodes[4]["ints"], Value::Null);
    assert_eq!(nodes[2]["intList"], json!([]));
}

#[tokio::test]
async fn range_types_are_named_as_v4_names_them() {
    let app = fixture().await;
    for (ty, bound_value) in [
        ("IntRange", "Int"),
        ("BigIntRange", "BigInt"),
        ("BigFloatRange", "BigFloat"),
        ("DatetimeRange", "Datetime"),
        ("DateRange", "Date"),
    ] {
        let q = format!(
            "{{ r: __type(name: \"{ty}\") {{ fields {{ name type {{ name }} }} }}
                b: __type(name: \"{ty}Bound\") {{ fields {{ name type {{ ofType {{ name }} }} }} }}
                i: __type(name: \"{ty}Input\") {{ inputFields {{ name type {{ name }} }} }} }}"
        );
        let r = app.gql(&q, json!({}), None).await;
        let d = r.data();
        assert_eq!(
            d["r"]["fields"],
            json!([{"name": "start", "type": {"name": format!("{ty}Bound")}},
                   {"name": "end", "type": {"name": format!("{ty}Bound")}}]),
            "{}",
            r.body
        );
        assert_eq!(
            d["b"]["fields"],
            json!([{"name": "value", "type": {"ofType": {"name": bound_value}}},
                   {"name": "inclusive", "type": {"ofType": {"name": "Boolean"}}}]),
            "{}",
            r.body
        );
        assert_eq!(
            d["i"]["inputFields"],
            json!([{"name": "start", "type": {"name": format!("{ty}BoundInput")}},
                   {"name": "end", "type": {"name": format!("{ty}BoundInput")}}]),
            "{}",
            r.body
        );
    }
    // The range filter: the standard, ordering and range operators; `containsElement` takes
    // the subtype.
    let names = input_fields(&app, "IntRangeFilter").await;
    assert_eq!(
        names,
        [
            "isNull",
            "equalTo",
            "notEqualTo",
            "distinctFrom",
            "notDistinctFrom",
            "in",
            "notIn",
            "lessThan",
            "lessThanOrEqualTo",
            "greaterThan",
            "greaterThanOrEqualTo",
            "contains",
            "containsElement",
            "containedBy",
            "overlaps",
            "strictlyLeftOf",
            "strictlyRightOf",
            "notExtendsRightOf",
            "notExtendsLeftOf",
            "adjacentTo"
        ]
    );
    let r = app
        .gql(
            "{ __type(name: \"DatetimeRangeFilter\") { inputFields { name type { name } } } }",
            json!({}),
            None,
        )
        .await;
    let fields = r.data()["__type"]["inputFields"]
        .as_array()
        .expect("fields");
    let of = |n: &str| {
        fields
            .iter()
            .find(|f| f["name"] == n)
            .map(|f| f["type"]["name"].clone())
    };
    assert_eq!(of("containsElement"), Some(json!("Datetime")));
    assert_eq!(of("overlaps"), Some(json!("DatetimeRangeInput")));
    assert!(input_fields(&app, "IntRangeListFilter")
        .await
        .contains(&"anyEqualTo".to_string()));
}

#[tokio::test]
async fn range_operators_select_what_postgres_range_operators_do() {
    let app = fixture().await;
    // ints: 1 [1,5), 2 [5,10), 3 (,1), 4 empty, 5 NULL.
    let r24 = format!("{{start: {}, end: {}}}", bound("2", true), bound("4", true));
    let r010 = format!(
        "{{start: {}, end: {}}}",
        bound("0", true),
        bound("10", true)
    );
    let r46 = format!(
        "{{start: {}, end: {}}}",
        bound("4", true),
        bound("6", false)
    );
    let from5 = format!("{{start: {}}}", bound("5", true));
    let upto0 = format!("{{end: {}}}", bound("0", true));
    let r05 = format!(
        "{{start: {}, end: {}}}",
        bound("0", true),
        bound("5", false)
    );
    let r13 = format!(
        "{{start: {}, end: {}}}",
        bound("1", true),
        bound("3", false)
    );
    let r1012 = format!(
        "{{start: {}, end: {}}}",
        bound("10", true),
        bound("12", false)
    );
    let r510 = format!(
        "{{start: {}, end: {}}}",
        bound("5", true),
        bound("10", false)
    );
    let r14 = format!("{{start: {}, end: {}}}", bound("1", true), bound("4", true));
    let empty = format!(
        "{{start: {}, end: {}}}",
        bound("1", true),
        bound("1", false)
    );
    let cases: Vec<(String, &[i64])> = vec![
        (format!("{{ints: {{contains: {r24}}}}}"), &[1]),
        ("{ints: {containsElement: 5}}".into(), &[2]),
        (format!("{{ints: {{containedBy: {r010}}}}}"), &[1, 2, 4]),
        (format!("{{ints: {{overlaps: {r46}}}}}"), &[1, 2]),
        (format!("{{ints: {{strictlyLeftOf: {from5}}}}}"), &[1, 3]),
        (format!("{{ints: {{strictlyRightOf: {upto0}}}}}"), &[1, 2]),
        (format!("{{ints: {{notExtendsRightOf: {r05}}}}}"), &[1, 3]),
        (format!("{{ints: {{notExtendsLeftOf: {r13}}}}}"), &[1, 2]),
        (format!("{{ints: {{adjacentTo: {r1012}}}}}"), &[2]),
        (format!("{{ints: {{lessThan: {r510}}}}}"), &[1, 3, 4]),
        // [1,4] is [1,5) once canonical.
        (format!("{{ints: {{equalTo: {r14}}}}}"), &[1]),
        (format!("{{ints: {{in: [{empty}, {r510}]}}}}"), &[2, 4]),
        ("{ints: {isNull: true}}".into(), &[5]),
        ("{bigs: {containsElement: \"15000000000\"}}".into(), &[1]),
        ("{nums: {containsElement: \"2.75\"}}".into(), &[2]),
        (
            "{stamptzs: {containsElement: \"2024-01-15T12:00:00Z\"}}".into(),
            &[1],
        ),
        (
            "{stamps: {containsElement: \"2023-06-01T00:00:00\"}}".into(),
            &[3],
        ),
        ("{days: {containsElement: \"2024-06-01\"}}".into(), &[4]),
        (
            format!("{{intList: {{anyEqualTo: {r510}}}}}"),
            // [5,10) is not in any list: row 2 holds [9,10).
            &[],
        ),
        (
            format!(
                "{{intList: {{anyEqualTo: {{start: {}, end: {}}}}}}}",
                bound("5", true),
                bound("7", true)
            ),
            &[1],
        ),
    ];
    let cases: Vec<(&str, &[i64])> = cases.iter().map(|(f, e)| (f.as_str(), *e)).collect();
    check_on(&app, "allPeriods", &cases).await;
    // Through variables, the same values.
    let r = app
        .gql(
            "query($r: IntRangeInput, $e: Int) { a: allPeriods(filter: {ints: {overlaps: $r}}) { nodes { id } }
               b: allPeriods(filter: {ints: {containsElement: $e}}) { nodes { id } } }",
            json!({"r": {"start": {"value": 4, "inclusive": true}, "end": {"value": 6, "inclusive": false}}, "e": 0}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(r.data()["a"]["nodes"], json!([{"id": 1}, {"id": 2}]));
    assert_eq!(r.data()["b"]["nodes"], json!([{"id": 3}]));
}

#[tokio::test]
async fn range_inputs_in_conditions_and_mutations() {
    let app = fixture().await;
    let cond = format!(
        "{{ allPeriods(condition: {{ints: {{start: {}, end: {}}}}}) {{ nodes {{ id }} }} }}",
        bound("5", true),
        bound("10", false)
    );
    let r = app.gql(&cond, json!({}), None).await;
    assert_eq!(
        r.data()["allPeriods"]["nodes"],
        json!([{"id": 2}]),
        "{}",
        r.body
    );
    // Create: an exclusive start, an unbounded end; the range reads back as Postgres keeps it.
    let r = app
        .gql(
            "mutation($p: PeriodInput!) { createPeriod(input: {period: $p}) {
                period { ints { start { value inclusive } end { value } } days { start { value } end { value } } } } }",
            json!({"p": {"id": 10,
                "ints": {"start": {"value": 3, "inclusive": false}, "end": {"value": 7, "inclusive": true}},
                "days": {"start": {"value": "2024-01-01", "inclusive": true}}}}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(
        r.data()["createPeriod"]["period"],
        json!({"ints": {"start": {"value": 4, "inclusive": true}, "end": {"value": 8}},
               "days": {"start": {"value": "2024-01-01"}, "end": null}})
    );
    let r = app
        .gql(
            &format!(
                "mutation {{ updatePeriodById(input: {{id: 10, periodPatch: {{nums: {{start: {}, end: {}}}}}}}) {{ period {{ nums {{ start {{ value inclusive }} end {{ value inclusive }} }} }} }} }}",
                bound("\"0.5\"", true),
                bound("\"1\"", false)
            ),
            json!({}),
            None,
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(
        r.data()["updatePeriodById"]["period"]["nums"],
        json!({"start": {"value": "0.5", "inclusive": true}, "end": {"value": "1", "inclusive": false}})
    );
    assert_eq!(
        ids_of(&app, "allPeriods", "{ints: {containsElement: 4}}").await,
        [1, 10]
    );
    // A bound without its value is refused (GraphQL: value is non-null), not a server error.
    let r = app
        .gql(
            "query($r: IntRangeInput) { allPeriods(filter: {ints: {overlaps: $r}}) { nodes { id } } }",
            json!({"r": {"start": {"inclusive": true}}}),
            None,
        )
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    assert_ne!(r.status, 500, "{}", r.body);
}
