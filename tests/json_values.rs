//! Every value reaches the client as valid JSON equal to what Postgres holds: generated values
//! of every supported type (quotes, backslashes, control characters, unicode, empty and long
//! strings, NULLs, extremes) are written with SQL and read back over HTTP from every position a
//! value can take: table columns in a connection's nodes and edges, a row by key, computed
//! columns, root functions, sets of scalars (connections, paged by cursor), function mutation
//! payloads and a CRUD mutation's payload row.

mod common;

use common::{app_with, Options, TestApp};
use postgraph::graphql::limits::Limits;
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("fixtures/json_values.sql");

/// How a column's GraphQL value relates to what Postgres holds.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A string equal to the value's text form (text types, BigInt, BigFloat, JSON, ...).
    Text,
    /// A string equal to Postgres' JSON rendering (dates and times in ISO 8601, padded char).
    Json,
    /// A GraphQL enum value: the label in CONSTANT_CASE.
    Enum,
    /// A JSON number equal to the integer's text form.
    Int,
    /// A JSON number equal to the float's text form, parsed.
    Float,
    Bool,
    /// A list of the text forms (NULL elements kept), as `element`.
    List(Elem),
    /// The `pair` composite: `{label, amount}`.
    Pair,
    /// v4's `Interval` object, equal to the parts of the interval's text form.
    Interval,
}

impl Kind {
    /// The selection set a field of this kind needs.
    fn sub(self) -> &'static str {
        match self {
            Kind::Pair => " { label amount }",
            Kind::Interval => " { years months days hours minutes seconds }",
            _ => "",
        }
    }
}

/// The parts of an interval's text form (`1 year 2 mons 3 days 04:05:06.5`, `-3 days`,
/// `-00:00:00.5`) as v4's `Interval` object.
fn interval_parts(text: &str) -> Value {
    let (mut years, mut months, mut days, mut hours, mut minutes, mut seconds) =
        (0i64, 0i64, 0i64, 0i64, 0i64, 0f64);
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if t.contains(':') {
            let negative = t.starts_with('-');
            let fields: Vec<&str> = t.trim_start_matches(['-', '+']).split(':').collect();
            let sign = if negative { -1 } else { 1 };
            hours = sign * fields[0].parse::<i64>().unwrap();
            minutes = sign * fields[1].parse::<i64>().unwrap();
            seconds = f64::from(sign as i32) * fields[2].parse::<f64>().unwrap();
            i += 1;
        } else {
            let n: i64 = t.parse().unwrap_or_else(|_| panic!("interval {text}"));
            match tokens[i + 1].trim_end_matches('s') {
                "year" => years = n,
                "mon" => months = n,
                "day" => days = n,
                unit => panic!("unit {unit} in {text}"),
            }
            i += 2;
        }
    }
    json!({"years": years, "months": months, "days": days, "hours": hours, "minutes": minutes, "seconds": seconds})
}

#[derive(Clone, Copy, Debug)]
enum Elem {
    Text,
    Int,
}

const COLUMNS: &[(&str, Kind)] = &[
    ("txt", Kind::Text),
    ("vchar", Kind::Text),
    ("chr", Kind::Json),
    ("nam", Kind::Text),
    ("feeling", Kind::Enum),
    ("small", Kind::Int),
    ("medium", Kind::Int),
    ("big", Kind::Text),
    ("num", Kind::Text),
    ("flt", Kind::Float),
    ("dbl", Kind::Float),
    ("flag", Kind::Bool),
    ("uid", Kind::Text),
    ("js", Kind::Text),
    ("jsb", Kind::Text),
    ("day", Kind::Json),
    ("clock", Kind::Json),
    ("stamp", Kind::Json),
    ("stamptz", Kind::Json),
    ("span", Kind::Interval),
    ("bin", Kind::Text),
    ("ip", Kind::Text),
    ("net", Kind::Text),
    ("mac", Kind::Text),
    ("texts", Kind::List(Elem::Text)),
    ("ints", Kind::List(Elem::Int)),
    ("bigs", Kind::List(Elem::Text)),
    ("dom", Kind::Text),
    ("pair", Kind::Pair),
    ("ci", Kind::Text),
];

/// A small deterministic generator (xorshift64*): the same cases on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// A NUL-free string mixing what breaks naive JSON: quotes, backslashes, control
    /// characters, line separators, emoji, right-to-left text and combining marks.
    fn string(&mut self, max_chars: usize) -> String {
        const PIECES: &[&str] = &[
            "\"",
            "\\",
            "'",
            "\\\"",
            "\"}",
            "{\"",
            "\u{1}",
            "\u{8}",
            "\t",
            "\n",
            "\r",
            "\u{1f}",
            "\u{7f}",
            "\u{2028}",
            "\u{2029}",
            "😀",
            "🏳️‍🌈",
            "\u{202e}שלום",
            "مرحبا",
            "e\u{301}",
            "\u{200b}",
            "ß",
            "日本",
            "a",
            "b",
            " ",
            "x\", \"isAdmin\": true, \"y\": \"",
            "</script>",
            "$1",
            "%s",
            "null",
            "\\u0000",
        ];
        let len = match self.below(10) {
            0 => 0,
            1 => 1,
            2 => 2000 + self.below(3000) as usize,
            _ => self.below(24) as usize,
        };
        let mut s = String::new();
        while s.chars().count() < len {
            if self.chance(3) {
                s.push(char::from(b' ' + self.below(95) as u8));
            } else {
                s.push_str(self.pick(PIECES));
            }
        }
        s.chars().take(max_chars).collect()
    }
}

/// An SQL string literal (standard_conforming_strings: only quotes are doubled).
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn or_null(g: &mut Gen, value: impl FnOnce(&mut Gen) -> String) -> String {
    if g.chance(8) {
        "null".into()
    } else {
        value(g)
    }
}

/// The SQL expression of each column for one generated row.
fn row_values(g: &mut Gen) -> Vec<String> {
    let mut v = vec![];
    v.push(or_null(g, |g| lit(&g.string(10_000))));
    v.push(or_null(g, |g| lit(&g.string(500))));
    v.push(or_null(g, |g| lit(&g.string(3))));
    v.push(or_null(g, |g| lit(&g.string(40))));
    v.push(or_null(g, |g| lit(g.pick(&["happy", "sad", "meh"]))));
    v.push(or_null(g, |g| {
        let r = g.next() as i16;
        g.pick(&[i16::MIN, i16::MAX, 0, r]).to_string()
    }));
    v.push(or_null(g, |g| {
        let r = g.next() as i32;
        g.pick(&[i32::MIN, i32::MAX, r]).to_string()
    }));
    v.push(or_null(g, |g| {
        let r = g.next() as i64;
        let n = g.pick(&[i64::MIN, i64::MAX, 9_007_199_254_740_993, r]);
        format!("'{n}'::int8")
    }));
    v.push(or_null(g, |g| {
        let digits: String = (0..1 + g.below(40))
            .map(|_| char::from(b'0' + g.below(10) as u8))
            .collect();
        let frac: String = (0..g.below(30))
            .map(|_| char::from(b'0' + g.below(10) as u8))
            .collect();
        let sign = if g.chance(2) { "-" } else { "" };
        match g.below(12) {
            0 => "'NaN'::numeric".into(),
            _ if frac.is_empty() => format!("{sign}{digits}::numeric"),
            _ => format!("{sign}{digits}.{frac}::numeric"),
        }
    }));
    v.push(or_null(g, |g| {
        let f = f32::from_bits(g.next() as u32);
        let f = if f.is_finite() { f } else { 1.5 };
        format!("'{f:?}'::float4")
    }));
    v.push(or_null(g, |g| {
        let f = f64::from_bits(g.next());
        let f = if f.is_finite() { f } else { -2.25e-300 };
        format!("'{f:?}'::float8")
    }));
    v.push(or_null(g, |g| g.chance(2).to_string()));
    v.push(or_null(g, |g| {
        format!("'{:016x}{:016x}'::uuid", g.next(), g.next())
    }));
    let doc = |g: &mut Gen| {
        let value = json!({
            "k": g.string(30),
            "n": [1, 2.5, null, g.next() as i64, -0.0, 1e300],
            "nested": {"deep": [g.string(10), true, false]},
            g.string(8): g.string(8),
        });
        if g.chance(2) {
            serde_json::to_string_pretty(&value).unwrap()
        } else {
            value.to_string()
        }
    };
    v.push(or_null(g, |g| format!("{}::json", lit(&doc(g)))));
    v.push(or_null(g, |g| format!("{}::jsonb", lit(&doc(g)))));
    let date = |g: &mut Gen| {
        format!(
            "{:04}-{:02}-{:02}",
            1 + g.below(9999),
            1 + g.below(12),
            1 + g.below(28)
        )
    };
    let time = |g: &mut Gen| {
        format!(
            "{:02}:{:02}:{:02}.{:06}",
            g.below(24),
            g.below(60),
            g.below(60),
            g.below(1_000_000)
        )
    };
    v.push(or_null(g, |g| {
        if g.chance(10) {
            "'infinity'::date".into()
        } else {
            format!("'{}'::date", date(g))
        }
    }));
    v.push(or_null(g, |g| format!("'{}'::time", time(g))));
    v.push(or_null(g, |g| {
        format!("'{} {}'::timestamp", date(g), time(g))
    }));
    v.push(or_null(g, |g| {
        let zone = g.pick(&["+00", "+05:30", "-11", "+14"]);
        format!("'{} {}{zone}'::timestamptz", date(g), time(g))
    }));
    v.push(or_null(g, |g| {
        let sign = if g.chance(2) { "-" } else { "" };
        format!(
            "'{sign}{} years {} days {}'::interval",
            g.below(50),
            g.below(400),
            time(g)
        )
    }));
    v.push(or_null(g, |g| {
        let hex: String = (0..g.below(40))
            .map(|_| format!("{:02x}", g.below(256)))
            .collect();
        format!("'\\x{hex}'::bytea")
    }));
    v.push(or_null(g, |g| {
        if g.chance(2) {
            format!(
                "'{}.{}.{}.{}/{}'::inet",
                g.below(256),
                g.below(256),
                g.below(256),
                g.below(256),
                1 + g.below(32)
            )
        } else {
            format!("'2001:db8::{:x}'::inet", g.below(65536))
        }
    }));
    v.push(or_null(g, |g| {
        format!("'{}.{}.0.0/16'::cidr", g.below(256), g.below(256))
    }));
    v.push(or_null(g, |g| {
        let bytes: Vec<String> = (0..6).map(|_| format!("{:02x}", g.below(256))).collect();
        format!("'{}'::macaddr", bytes.join(":"))
    }));
    let list = |g: &mut Gen, item: &dyn Fn(&mut Gen) -> String, ty: &str| {
        let items: Vec<String> = (0..g.below(5))
            .map(|_| if g.chance(4) { "null".into() } else { item(g) })
            .collect();
        format!("array[{}]::{ty}", items.join(", "))
    };
    v.push(or_null(g, |g| list(g, &|g| lit(&g.string(20)), "text[]")));
    v.push(or_null(g, |g| {
        list(g, &|g| (g.next() as i32).to_string(), "int4[]")
    }));
    v.push(or_null(g, |g| {
        list(g, &|g| format!("'{}'::int8", g.next() as i64), "int8[]")
    }));
    v.push(or_null(g, |g| {
        format!("{}::app_public.short_text", lit(&g.string(100)))
    }));
    v.push(or_null(g, |g| {
        format!(
            "row({}, {}.{})::app_public.pair",
            lit(&g.string(20)),
            g.next() as i64,
            g.below(1000)
        )
    }));
    v.push(or_null(g, |g| format!("{}::citext", lit(&g.string(50)))));
    assert_eq!(v.len(), COLUMNS.len());
    v
}

/// What Postgres holds, through a path independent of the engine: each value's text form
/// (or its own JSON rendering for dates, times and padded char).
fn expected_sql() -> String {
    let pairs: Vec<String> = COLUMNS
        .iter()
        .map(|(c, kind)| {
            let e = match kind {
                Kind::Json => format!("to_json({c}) #>> '{{}}'"),
                // A host address's text has no mask (`192.168.0.1`, Postgres' own output).
                _ if *c == "ip" => format!(
                    "case when masklen({c}) = case family({c}) when 4 then 32 else 128 end then host({c}) else {c}::text end"
                ),
                Kind::List(_) => format!(
                    "case when {c} is null then null else coalesce((select json_agg(x::text) from unnest({c}) x), '[]') end"
                ),
                Kind::Pair => format!(
                    "case when {c} is null then null else json_build_object('label', ({c}).label, 'amount', ({c}).amount::text) end"
                ),
                _ => format!("{c}::text"),
            };
            format!("'{c}', {e}")
        })
        .collect();
    format!(
        "select json_build_object({}) as row from app_public.samples order by id",
        pairs.join(", ")
    )
}

fn check(kind: Kind, got: &Value, want: &Value, at: &str) {
    if want.is_null() {
        assert!(got.is_null(), "{at}: expected null, got {got}");
        return;
    }
    let text = want.as_str();
    match kind {
        Kind::Text | Kind::Json => assert_eq!(got.as_str(), text, "{at}"),
        Kind::Enum => assert_eq!(
            got.as_str().map(str::to_string),
            text.map(str::to_uppercase),
            "{at}"
        ),
        Kind::Int => assert_eq!(got.as_i64().map(|n| n.to_string()).as_deref(), text, "{at}"),
        Kind::Float => assert_eq!(
            got.as_f64(),
            text.map(|t| t.parse::<f64>().expect("float")),
            "{at}: {got} vs {want}"
        ),
        Kind::Bool => assert_eq!(got.as_bool(), Some(text == Some("true")), "{at}"),
        Kind::List(elem) => {
            let (got, want) = (got.as_array().expect(at), want.as_array().expect(at));
            assert_eq!(got.len(), want.len(), "{at}: {got:?} vs {want:?}");
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                let k = match elem {
                    Elem::Text => Kind::Text,
                    Elem::Int => Kind::Int,
                };
                check(k, g, w, &format!("{at}[{i}]"));
            }
        }
        Kind::Pair => {
            assert_eq!(got["label"], want["label"], "{at}.label");
            assert_eq!(got["amount"], want["amount"], "{at}.amount");
        }
        Kind::Interval => {
            let want = interval_parts(text.expect("interval text"));
            for part in ["years", "months", "days", "hours", "minutes"] {
                assert_eq!(
                    got[part].as_i64(),
                    want[part].as_i64(),
                    "{at}.{part}: {got}"
                );
            }
            let (g, w) = (
                got["seconds"].as_f64().unwrap(),
                want["seconds"].as_f64().unwrap(),
            );
            assert!((g - w).abs() < 1e-9, "{at}.seconds: {g} vs {w}");
        }
    }
}

/// `prefixColumn`: `echo` + `txt` → `echoTxt`.
fn prefixed(prefix: &str, column: &str) -> String {
    format!("{prefix}{}{}", column[..1].to_uppercase(), &column[1..])
}

/// Every column of a row for a selection set, each aliased `<alias_prefix><column>`; with a
/// `prefix`, the fields `prefixColumn` (computed columns) instead of the columns.
fn columns_selection(prefix: &str, alias_prefix: &str) -> String {
    COLUMNS
        .iter()
        .map(|(c, kind)| {
            let name = if prefix.is_empty() {
                c.to_string()
            } else {
                prefixed(prefix, c)
            };
            let sub = kind.sub();
            format!("{alias_prefix}{c}: {name}{sub}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn check_row(got: &Value, want: &Value, at: &str) {
    for (c, kind) in COLUMNS {
        check(*kind, &got[c], &want[c], &format!("{at}.{c}"));
    }
}

fn ok(r: &common::Reply) -> &Value {
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    r.data()
}

/// The fixture's app; its queries select every column under aliases, more than the default
/// alias limit allows.
async fn fixture_app() -> (TestApp, Vec<Value>) {
    let app = app_with(Options {
        setup_sql: Some(FIXTURE),
        limits: Limits {
            max_aliases: 200,
            ..Limits::default()
        },
        ..Options::default()
    })
    .await;
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let mut rows = vec![format!("(1{})", ", null".repeat(COLUMNS.len()))];
    for id in 2..=40 {
        rows.push(format!("({id}, {})", row_values(&mut g).join(", ")));
    }
    let names: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
    let client = postgraph::db::connect(&app.admin_url).await.expect("admin");
    client
        .batch_execute(&format!(
            "insert into app_public.samples (id, {}) values {}",
            names.join(", "),
            rows.join(", ")
        ))
        .await
        .expect("insert samples");
    let expected = app
        .sql(&expected_sql())
        .await
        .into_iter()
        .map(|r| read_back(r["row"].clone()))
        .collect();
    (app, expected)
}

/// A row of [`expected_sql`] as the API shows it: JSON compact.
fn read_back(mut row: Value) -> Value {
    for c in ["js", "jsb"] {
        row[c] = compact_json(&row[c]);
    }
    row
}

/// JSON text as v4 sends it: no whitespace outside strings (numbers keep their digits); a
/// JSON `null` is null.
fn compact_json(text: &Value) -> Value {
    let Some(text) = text.as_str() else {
        return Value::Null;
    };
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in text.chars() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c.is_whitespace() {
            continue;
        } else {
            in_string = c == '"';
        }
        out.push(c);
    }
    if out == "null" {
        Value::Null
    } else {
        Value::String(out)
    }
}

#[tokio::test]
async fn every_type_reads_back_exactly_from_every_position() {
    let (app, expected) = fixture_app().await;
    let row = columns_selection("", "");
    let echo = columns_selection("echo", "echo_");

    // A connection's nodes and edges, with computed columns on each row.
    let all = app
        .gql(
            &format!(
                "{{ allSamples {{ nodes {{ {row} {echo} }} edges {{ node {{ {row} }} }} }} }}"
            ),
            json!({}),
            None,
        )
        .await;
    let data = ok(&all);
    let nodes = data["allSamples"]["nodes"].as_array().expect("nodes");
    let edges = data["allSamples"]["edges"].as_array().expect("edges");
    assert_eq!(nodes.len(), expected.len());
    for (i, want) in expected.iter().enumerate() {
        check_row(&nodes[i], want, &format!("nodes[{i}]"));
        check_row(&edges[i]["node"], want, &format!("edges[{i}].node"));
        for (c, kind) in COLUMNS {
            let got = &nodes[i][format!("echo_{c}")];
            check(*kind, got, &want[*c], &format!("nodes[{i}].echo_{c}"));
        }
    }

    // A row by key, and each column from a root function, one request per row.
    for (i, want) in expected.iter().enumerate() {
        let id = i + 1;
        let by_key = app
            .gql(
                &format!("{{ sampleById(id: {id}) {{ {row} }} }}"),
                json!({}),
                None,
            )
            .await;
        check_row(
            &ok(&by_key)["sampleById"],
            want,
            &format!("sampleById({id})"),
        );

        let roots: Vec<String> = COLUMNS
            .iter()
            .map(|(c, kind)| {
                let f = format!("{}(id: {id})", prefixed("sampleGet", c));
                format!("{c}: {f}{}", kind.sub())
            })
            .collect();
        let r = app
            .gql(&format!("{{ {} }}", roots.join(" ")), json!({}), None)
            .await;
        check_row(ok(&r), want, &format!("root functions, row {id}"));
    }
}

#[tokio::test]
async fn every_type_reads_back_exactly_from_mutation_payloads() {
    let (app, expected) = fixture_app().await;
    // The payload field holding each function mutation's result, as the schema names it.
    let schema = app
        .gql(
            "{ __schema { mutationType { fields { name type { fields { name } } } } } }",
            json!({}),
            None,
        )
        .await;
    let fields = ok(&schema)["__schema"]["mutationType"]["fields"]
        .as_array()
        .expect("mutation fields")
        .clone();
    let result_field = |mutation: &str| -> String {
        let f = fields
            .iter()
            .find(|f| f["name"] == mutation)
            .unwrap_or_else(|| panic!("no mutation {mutation}"));
        f["type"]["fields"]
            .as_array()
            .expect("payload fields")
            .iter()
            .map(|p| p["name"].as_str().expect("name").to_string())
            .find(|n| n != "clientMutationId" && n != "query")
            .expect("result field")
    };
    let row = columns_selection("", "");
    for (i, want) in expected.iter().enumerate() {
        let id = i + 1;
        let calls: Vec<String> = COLUMNS
            .iter()
            .map(|(c, kind)| {
                let m = prefixed("sampleMut", c);
                let sel = kind.sub();
                format!(
                    "{c}: {m}(input: {{id: {id}}}) {{ value: {}{sel} }}",
                    result_field(&m)
                )
            })
            .collect();
        let r = app
            .gql(
                &format!("mutation {{ {} }}", calls.join(" ")),
                json!({}),
                None,
            )
            .await;
        let data = ok(&r);
        for (c, kind) in COLUMNS {
            check(
                *kind,
                &data[c]["value"],
                &want[*c],
                &format!("row {id}: mutation {c}"),
            );
        }

        // A CRUD payload's row, written through a variable with the value it already holds.
        let r = app
            .gql(
                &format!("mutation($t: String) {{ updateSampleById(input: {{id: {id}, samplePatch: {{txt: $t}}}}) {{ sample {{ {row} }} }} }}"),
                json!({"t": want["txt"]}),
                None,
            )
            .await;
        check_row(
            &ok(&r)["updateSampleById"]["sample"],
            want,
            &format!("updateSampleById({id})"),
        );
    }
    // The writes changed nothing: the table still holds exactly what it held.
    let after: Vec<Value> = app
        .sql(&expected_sql())
        .await
        .into_iter()
        .map(|r| read_back(r["row"].clone()))
        .collect();
    assert_eq!(after, expected);
}

#[tokio::test]
async fn sets_of_scalars_are_connections_that_page_by_cursor() {
    let (app, expected) = fixture_app().await;
    for (function, column, kind) in [
        ("sampleAllTxt", "txt", Kind::Text),
        ("sampleAllFeeling", "feeling", Kind::Enum),
        ("sampleAllBig", "big", Kind::Text),
        ("sampleAllJsb", "jsb", Kind::Text),
    ] {
        let r = app
            .gql(
                &format!("{{ s: {function} {{ totalCount nodes edges {{ cursor node }} }} }}"),
                json!({}),
                None,
            )
            .await;
        let conn = &ok(&r)["s"];
        assert_eq!(conn["totalCount"], expected.len(), "{function}");
        let nodes = conn["nodes"].as_array().expect("nodes");
        let edges = conn["edges"].as_array().expect("edges");
        assert_eq!(nodes.len(), expected.len(), "{function}");
        for (i, want) in expected.iter().enumerate() {
            check(
                kind,
                &nodes[i],
                &want[column],
                &format!("{function}.nodes[{i}]"),
            );
            check(
                kind,
                &edges[i]["node"],
                &want[column],
                &format!("{function}.edges[{i}]"),
            );
        }

        // The third edge's cursor is v4's natural cursor (its row number), and continues after
        // it; `last` reads from the end.
        let cursor = edges[2]["cursor"].as_str().expect("cursor");
        use base64::Engine as _;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(cursor)
            .expect("base64");
        assert_eq!(String::from_utf8(decoded).unwrap(), "[\"natural\",3]");
        let r = app
            .gql(
                &format!("query($c: Cursor) {{ s: {function}(first: 2, after: $c) {{ totalCount nodes }} }}"),
                json!({"c": cursor}),
                None,
            )
            .await;
        let page = &ok(&r)["s"];
        assert_eq!(page["totalCount"], expected.len());
        let nodes = page["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), 2);
        check(kind, &nodes[0], &expected[3][column], function);
        check(kind, &nodes[1], &expected[4][column], function);
        let r = app
            .gql(
                &format!("{{ s: {function}(last: 1) {{ nodes }} }}"),
                json!({}),
                None,
            )
            .await;
        let nodes = ok(&r)["s"]["nodes"].as_array().expect("nodes").clone();
        check(
            kind,
            &nodes[0],
            &expected[expected.len() - 1][column],
            function,
        );
    }
}

#[tokio::test]
async fn a_string_that_looks_like_json_stays_a_string() {
    let app = app_with(Options {
        setup_sql: Some(FIXTURE),
        ..Options::default()
    })
    .await;
    let r = app.gql("{ injected }", json!({}), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"data": {"injected": "x\", \"isAdmin\": true, \"y\": \""}})
    );
}

#[tokio::test]
async fn non_finite_floats_are_field_errors_as_in_postgraphile() {
    let app = app_with(Options {
        setup_sql: Some(FIXTURE),
        ..Options::default()
    })
    .await;
    let r = app
        .gql(
            "{ notANumber allMeasures { nodes { id reading readings } } m: measureById(id: 2) { reading } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    // A non-null reading that is not a number nulls its row; a list element is nulled alone.
    assert_eq!(
        r.body["data"],
        json!({
            "notANumber": null,
            "allMeasures": {"nodes": [
                null,
                {"id": 2, "reading": 2.5, "readings": []},
                null,
                {"id": 4, "reading": 0.5, "readings": [null]},
            ]},
            "m": {"reading": 2.5},
        })
    );
    let errors: Vec<(String, Value)> = r
        .errors()
        .expect("errors")
        .iter()
        .map(|e| {
            assert_eq!(e["extensions"]["code"], "NON_FINITE_FLOAT");
            (
                e["message"].as_str().unwrap().to_string(),
                e["path"].clone(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (
                "Float cannot represent non numeric value: \"NaN\"".to_string(),
                json!(["notANumber"])
            ),
            (
                "Float cannot represent non numeric value: \"NaN\"".to_string(),
                json!(["allMeasures", "nodes", 0, "reading"])
            ),
            (
                "Float cannot represent non numeric value: \"-Infinity\"".to_string(),
                json!(["allMeasures", "nodes", 2, "reading"])
            ),
            (
                "Float cannot represent non numeric value: \"Infinity\"".to_string(),
                json!(["allMeasures", "nodes", 3, "readings", 0])
            ),
        ]
    );
}

/// The named type under a `type { kind name ofType {...} }` introspection value.
fn named(t: &Value) -> (&str, &str) {
    match t["ofType"].is_null() {
        true => (
            t["kind"].as_str().expect("kind"),
            t["name"].as_str().expect("name"),
        ),
        false => named(&t["ofType"]),
    }
}

#[tokio::test]
async fn the_schema_uses_input_types_for_inputs_and_output_types_for_outputs() {
    let (app, _) = fixture_app().await;
    let type_ref =
        "type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
    let r = app
        .gql(
            &format!("{{ __schema {{ types {{ kind name fields {{ name {type_ref} args {{ name {type_ref} }} }} inputFields {{ name {type_ref} }} }} }} }}"),
            json!({}),
            None,
        )
        .await;
    let types = ok(&r)["__schema"]["types"]
        .as_array()
        .expect("types")
        .clone();
    let mut checked = 0;
    for t in &types {
        let owner = t["name"].as_str().unwrap();
        for f in t["fields"].as_array().into_iter().flatten() {
            let (kind, name) = named(&f["type"]);
            assert!(
                !matches!(kind, "INPUT_OBJECT"),
                "{owner}.{} is an output of input type {name}",
                f["name"]
            );
            for a in f["args"].as_array().into_iter().flatten() {
                let (kind, name) = named(&a["type"]);
                assert!(
                    matches!(kind, "SCALAR" | "ENUM" | "INPUT_OBJECT"),
                    "argument {owner}.{}({}) has the output type {name}",
                    f["name"],
                    a["name"]
                );
                checked += 1;
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            let (kind, name) = named(&f["type"]);
            assert!(
                matches!(kind, "SCALAR" | "ENUM" | "INPUT_OBJECT"),
                "input field {owner}.{} has the output type {name}",
                f["name"]
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} inputs checked");
}

#[tokio::test]
async fn composite_values_are_written_through_their_input_type() {
    let (app, _) = fixture_app().await;
    let write = "mutation($p: PairInput) { updateSampleById(input: {id: 2, samplePatch: {pair: $p}}) { sample { pair { label amount } } } }";
    for (input, stored) in [
        (
            json!({"label": "a \"quoted\", (odd) \\ label", "amount": "12.50"}),
            json!({"label": "a \"quoted\", (odd) \\ label", "amount": "12.50"}),
        ),
        (json!({"label": ""}), json!({"label": "", "amount": null})),
        (
            json!({"amount": "-1"}),
            json!({"label": null, "amount": "-1"}),
        ),
    ] {
        let r = app.gql(write, json!({"p": input}), None).await;
        assert_eq!(
            ok(&r)["updateSampleById"]["sample"]["pair"],
            stored,
            "{input}"
        );
        let held = app
            .sql("select (pair).label, (pair).amount::text from app_public.samples where id = 2")
            .await;
        assert_eq!(held[0]["label"], stored["label"]);
        assert_eq!(held[0]["amount"], stored["amount"]);
    }
    // A field the type does not have is a clear error, and nothing changes.
    let r = app
        .gql(write, json!({"p": {"label": "x", "colour": "red"}}), None)
        .await;
    assert!(r.errors().is_some(), "{}", r.body);
    let held = app
        .sql("select (pair).amount::text from app_public.samples where id = 2")
        .await;
    assert_eq!(held[0]["amount"], "-1");
    let r = app.gql(write, json!({"p": null}), None).await;
    assert!(ok(&r)["updateSampleById"]["sample"]["pair"].is_null());
}

#[tokio::test]
async fn intervals_are_objects_in_and_out_as_in_postgraphile() {
    let (app, _) = fixture_app().await;
    let write = "mutation($s: IntervalInput) { updateSampleById(input: {id: 2, samplePatch: {span: $s}}) { sample { span { years months days hours minutes seconds } } } }";
    for (input, text, out) in [
        (
            json!({"years": 1, "months": 2, "days": 3, "hours": 4, "minutes": 5, "seconds": 6.5}),
            "1 year 2 mons 3 days 04:05:06.5",
            json!({"years": 1, "months": 2, "days": 3, "hours": 4, "minutes": 5, "seconds": 6.5}),
        ),
        (
            json!({"days": -3}),
            "-3 days",
            json!({"years": 0, "months": 0, "days": -3, "hours": 0, "minutes": 0, "seconds": 0}),
        ),
        (
            json!({"hours": 100}),
            "100:00:00",
            json!({"years": 0, "months": 0, "days": 0, "hours": 100, "minutes": 0, "seconds": 0}),
        ),
        (
            json!({"seconds": -0.5}),
            "-00:00:00.5",
            json!({"years": 0, "months": 0, "days": 0, "hours": 0, "minutes": 0, "seconds": -0.5}),
        ),
        (
            json!({}),
            "00:00:00",
            json!({"years": 0, "months": 0, "days": 0, "hours": 0, "minutes": 0, "seconds": 0}),
        ),
    ] {
        let r = app.gql(write, json!({"s": input}), None).await;
        assert_eq!(ok(&r)["updateSampleById"]["sample"]["span"], out, "{input}");
        let held = app
            .sql("select span::text as t from app_public.samples where id = 2")
            .await;
        assert_eq!(held[0]["t"], text, "{input}");
    }
    // A condition takes an IntervalInput too.
    let r = app
        .gql(
            "{ allSamples(condition: {span: {seconds: 0}}) { nodes { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(ok(&r)["allSamples"]["nodes"], json!([{"id": 2}]));
}
