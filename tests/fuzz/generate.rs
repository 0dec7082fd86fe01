//! Documents generated from the served schema (read back by introspection, so nothing here
//! knows the example app): random selections, arguments of every input type as literals or
//! variables, and corruptions of them. A seeded generator, so every case can be replayed.

use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// splitmix64: small, seedable, good enough to pick from lists.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The schema as introspection describes it: types by name.
pub struct Schema {
    types: HashMap<String, Value>,
    pub query: String,
    pub mutation: Option<String>,
}

/// Enough of the introspection query to generate documents: kinds, fields, arguments,
/// input fields, enum values, possible types, and type references five levels deep.
pub const INTROSPECTION: &str = "query { __schema { queryType { name } mutationType { name }
  types { kind name possibleTypes { name } enumValues { name }
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } } } } }
  fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name } } } } }";

impl Schema {
    pub fn from_introspection(data: &Value) -> Self {
        let s = &data["__schema"];
        let types = s["types"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
            .collect();
        Schema {
            types,
            query: s["queryType"]["name"].as_str().unwrap().to_string(),
            mutation: s["mutationType"]["name"].as_str().map(str::to_string),
        }
    }
    fn ty(&self, name: &str) -> &Value {
        &self.types[name]
    }
}

/// One generated request.
pub struct Case {
    pub query: String,
    pub variables: Value,
    /// Whether the request carries a signed-in user's token.
    pub signed_in: bool,
}

/// A value before it is written as a GraphQL literal or as JSON.
enum Lit {
    Null,
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Enum(String),
    List(Vec<Lit>),
    Obj(Vec<(String, Lit)>),
}

impl Lit {
    fn graphql(&self) -> String {
        match self {
            Lit::Null => "null".into(),
            Lit::Int(i) => i.to_string(),
            Lit::Float(f) => format!("{f:?}"),
            Lit::Str(s) => Value::String(s.clone()).to_string(),
            Lit::Bool(b) => b.to_string(),
            Lit::Enum(e) => e.clone(),
            Lit::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Lit::graphql)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Lit::Obj(fields) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", v.graphql()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    fn json(&self) -> Value {
        match self {
            Lit::Null => Value::Null,
            Lit::Int(i) => json!(i),
            Lit::Float(f) => json!(f),
            Lit::Str(s) | Lit::Enum(s) => json!(s),
            Lit::Bool(b) => json!(b),
            Lit::List(items) => Value::Array(items.iter().map(Lit::json).collect()),
            Lit::Obj(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// A type reference as written in a variable definition: `[Int!]!`.
fn type_text(t: &Value) -> String {
    match t["kind"].as_str() {
        Some("NON_NULL") => format!("{}!", type_text(&t["ofType"])),
        Some("LIST") => format!("[{}]", type_text(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_string(),
    }
}

/// The named type under NON_NULL and LIST wrappers.
fn named(t: &Value) -> &str {
    match t["name"].as_str() {
        Some(n) => n,
        None => named(&t["ofType"]),
    }
}

const INTS: &[i64] = &[0, 1, 2, 3, -1, 10, 100, 2147483647, -2147483648];
const STRINGS: &[&str] = &[
    "",
    "a",
    "alice",
    "it's",
    "\"quoted\"",
    "back\\slash",
    "Ünïcödé ✓ 🦀",
    "line\nbreak",
    "%_",
    "'); drop table app_public.posts; --",
    "2020-01-01",
    "2020-01-01T10:00:00Z",
    "12:30:00",
    "00000000-0000-0000-0000-000000000001",
    "not-a-uuid",
    "{\"a\": 1}",
    "[1, 2]",
    "99999999999999999999999",
    "-1.5",
    "NaN",
    "1 day",
    "127.0.0.1",
];

/// Node ids and cursors are base64 of JSON arrays: some well-formed, some not.
fn opaque(rng: &mut Rng) -> String {
    use base64::Engine;
    let inner = match rng.below(8) {
        0 => json!(["posts", 1]).to_string(),
        1 => json!(["users", 2]).to_string(),
        2 => json!(["natural", 1]).to_string(),
        3 => json!(["primary_key_asc", [1]]).to_string(),
        4 => json!(["posts", "x"]).to_string(),
        5 => json!(["nope", 1, 2, 3]).to_string(),
        6 => "not json".to_string(),
        _ => return rng.pick(STRINGS).to_string(),
    };
    base64::engine::general_purpose::STANDARD.encode(inner)
}

struct Gen<'a> {
    schema: &'a Schema,
    rng: &'a mut Rng,
    var_defs: Vec<String>,
    variables: Map<String, Value>,
}

impl Gen<'_> {
    fn scalar(&mut self, name: &str) -> Lit {
        match name {
            "Int" => Lit::Int(*self.rng.pick(INTS)),
            "Float" => Lit::Float(*self.rng.pick(&[0.0, 1.5, -2.25, 1e10, 3.0])),
            "Boolean" => Lit::Bool(self.rng.chance(50)),
            "ID" | "Cursor" => Lit::Str(opaque(self.rng)),
            _ => {
                if self.rng.chance(70) {
                    Lit::Str(self.rng.pick(STRINGS).to_string())
                } else {
                    // Numbers where strings are expected (BigInt, BigFloat...) and vice versa.
                    Lit::Int(*self.rng.pick(INTS))
                }
            }
        }
    }

    fn value(&mut self, t: &Value, depth: usize) -> Lit {
        match t["kind"].as_str() {
            Some("NON_NULL") => self.value_of(&t["ofType"], depth),
            _ if self.rng.chance(8) => Lit::Null,
            _ => self.value_of(t, depth),
        }
    }

    fn value_of(&mut self, t: &Value, depth: usize) -> Lit {
        match t["kind"].as_str().unwrap() {
            "NON_NULL" => self.value_of(&t["ofType"], depth),
            "LIST" => {
                let n = self.rng.below(4);
                Lit::List((0..n).map(|_| self.value(&t["ofType"], depth)).collect())
            }
            "ENUM" => {
                let ty = self.schema.ty(t["name"].as_str().unwrap());
                let values = ty["enumValues"].as_array().unwrap();
                Lit::Enum(self.rng.pick(values)["name"].as_str().unwrap().to_string())
            }
            "INPUT_OBJECT" => {
                let ty = self.schema.ty(t["name"].as_str().unwrap()).clone();
                let mut fields = vec![];
                for f in ty["inputFields"].as_array().unwrap() {
                    let required = f["type"]["kind"] == "NON_NULL";
                    if required || (depth < 3 && self.rng.chance(35)) {
                        let v = self.value(&f["type"], depth + 1);
                        fields.push((f["name"].as_str().unwrap().to_string(), v));
                    }
                }
                Lit::Obj(fields)
            }
            _ => self.scalar(t["name"].as_str().unwrap()),
        }
    }

    /// An argument's value: a literal, or (sometimes) a variable carrying the same value.
    fn argument(&mut self, t: &Value) -> String {
        let v = self.value(t, 0);
        if self.rng.chance(30) {
            let name = format!("v{}", self.var_defs.len());
            self.var_defs.push(format!("${name}: {}", type_text(t)));
            self.variables.insert(name.clone(), v.json());
            format!("${name}")
        } else {
            v.graphql()
        }
    }

    fn field(&mut self, f: &Value, depth: usize) -> Option<String> {
        let name = f["name"].as_str().unwrap();
        let mut text = String::new();
        if self.rng.chance(15) {
            text.push_str(&format!("a{}: ", self.rng.below(1000)));
        }
        text.push_str(name);
        let mut args = vec![];
        for a in f["args"].as_array().into_iter().flatten() {
            let required = a["type"]["kind"] == "NON_NULL";
            // `filter` is where most of the input surface is (relation aggregates included),
            // then grouping and `having`: generate them more often.
            let chance = match a["name"].as_str() {
                Some("filter") => 60,
                Some("having" | "orderBy") => 45,
                _ => 30,
            };
            if required || self.rng.chance(chance) {
                let v = self.argument(&a["type"]);
                args.push(format!("{}: {v}", a["name"].as_str().unwrap()));
            }
        }
        if !args.is_empty() {
            text.push_str(&format!("({})", args.join(", ")));
        }
        let ty = self.schema.ty(named(&f["type"]));
        match ty["kind"].as_str().unwrap() {
            "SCALAR" | "ENUM" => Some(text),
            _ if depth >= 4 => None,
            _ => {
                let sel = self.selection(ty["name"].as_str().unwrap(), depth + 1);
                Some(format!("{text} {sel}"))
            }
        }
    }

    fn selection(&mut self, type_name: &str, depth: usize) -> String {
        let ty = self.schema.ty(type_name).clone();
        let mut parts = vec![];
        if let Some(possible) = ty["possibleTypes"].as_array() {
            parts.push("__typename".to_string());
            for _ in 0..self.rng.below(3) {
                let p = self.rng.pick(possible)["name"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let sel = self.selection(&p, depth);
                parts.push(format!("... on {p} {sel}"));
            }
        } else {
            let fields = ty["fields"].as_array().unwrap();
            for _ in 0..1 + self.rng.below(4) {
                let f = self.rng.pick(fields).clone();
                if let Some(text) = self.field(&f, depth) {
                    parts.push(text);
                }
            }
        }
        if parts.is_empty() {
            parts.push("__typename".into());
        }
        format!("{{ {} }}", parts.join(" "))
    }
}

/// A valid-by-construction request (arguments may still hold values Postgres refuses).
pub fn valid(schema: &Schema, rng: &mut Rng) -> Case {
    let mutation = schema.mutation.is_some() && rng.chance(20);
    let root = if mutation {
        schema.mutation.clone().unwrap()
    } else {
        schema.query.clone()
    };
    let signed_in = rng.chance(50);
    let mut g = Gen {
        schema,
        rng,
        var_defs: vec![],
        variables: Map::new(),
    };
    let sel = g.selection(&root, 0);
    let keyword = if mutation { "mutation" } else { "query" };
    let defs = if g.var_defs.is_empty() {
        String::new()
    } else {
        format!("({})", g.var_defs.join(", "))
    };
    Case {
        query: format!("{keyword} Fuzz{defs} {sel}"),
        variables: Value::Object(g.variables),
        signed_in,
    }
}

/// A variable definition the document may not use, of a type that may not exist or may not be
/// an input type, wrapped in lists and non-nulls, often with a default of any shape: juniper's
/// validation looks each such type up (it once panicked on an unknown one).
fn odd_variable(schema: &Schema, rng: &mut Rng) -> String {
    let mut names: Vec<&str> = schema.types.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut ty = match rng.below(3) {
        0 => ["NoSuchType", "query", "Int_", "__Nope"][rng.below(4)].to_string(),
        _ => rng.pick(&names).to_string(),
    };
    for _ in 0..rng.below(4) {
        ty = if rng.chance(50) {
            format!("[{ty}]")
        } else if ty.ends_with('!') {
            format!("[{ty}]!")
        } else {
            format!("{ty}!")
        };
    }
    let default = match rng.below(7) {
        0 => String::new(),
        1 => " = 1".into(),
        2 => " = \"text\"".into(),
        3 => " = null".into(),
        4 => " = [1, [2], null]".into(),
        5 => " = {a: 1, b: {c: [true]}}".into(),
        _ => " = SOME_ENUM".into(),
    };
    format!("$odd{}: {ty}{default}", rng.below(3))
}

const NOISE: &[&str] = &[
    "{", "}", "(", ")", "[", "]", ":", "$", "@", "!", "\"", "\\", ",", "...", "=", "#", "\u{0}",
    "on", "null", "query", "fragment", "1e999", "__schema",
];

/// A valid case damaged: text cut, noise inserted, or variables of the wrong type.
pub fn corrupted(schema: &Schema, rng: &mut Rng) -> Case {
    let mut case = valid(schema, rng);
    let chars: Vec<char> = case.query.chars().collect();
    match rng.below(5) {
        4 => {
            let def = odd_variable(schema, rng);
            case.query = match case.query.split_once("Fuzz(") {
                Some((head, tail)) => format!("{head}Fuzz({def}, {tail}"),
                None => case.query.replacen("Fuzz", &format!("Fuzz({def})"), 1),
            };
        }
        0 => {
            let at = rng.below(chars.len());
            let len = 1 + rng.below(10);
            case.query = chars[..at]
                .iter()
                .chain(chars[(at + len).min(chars.len())..].iter())
                .collect();
        }
        1 => {
            let at = rng.below(chars.len());
            let noise = rng.pick(NOISE);
            case.query = chars[..at].iter().collect::<String>()
                + noise
                + &chars[at..].iter().collect::<String>();
        }
        2 => {
            if let Value::Object(vars) = &mut case.variables {
                for v in vars.values_mut() {
                    *v = match rng.below(4) {
                        0 => json!({"x": [1]}),
                        1 => json!("text"),
                        2 => json!([null, 1.5]),
                        _ => Value::Null,
                    };
                }
            }
        }
        _ => case.query = case.query.replacen('{', "{ noSuchField ", 1 + rng.below(2)),
    }
    case
}
