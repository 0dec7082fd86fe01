//! Abuse limits on a query document, checked once per query text before validation and
//! before any database work: tokens (while lexing, before parsing), then depth, aliases,
//! selected fields and directives in one walk of the parsed document, and introspection when
//! it is turned off. A document over a limit is never cached, so a cached plan implies it passed.

use super::document::{location, Document};
use super::schema::S;
use juniper::parser::{Lexer, Token};
use juniper::{Definition, Selection};
use std::collections::HashMap;

/// The limits a document must stay within; 0 turns a limit off. juniper's parser keeps its
/// own hard bounds whatever these say (64 levels of nesting, 15,000 tokens and fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Nesting of selection sets (fragments inlined): `{ a { b } }` is 2 deep.
    pub max_depth: usize,
    /// Aliased fields in the operation, fragments counted once per spread.
    pub max_aliases: usize,
    /// Selected fields in the operation, fragments counted once per spread.
    pub max_fields: usize,
    /// Directives anywhere in the operation, fragments counted once per spread.
    pub max_directives: usize,
    /// Lexical tokens of the whole document.
    pub max_tokens: usize,
    /// Whether `__schema` and `__type` may be queried.
    pub introspection: bool,
}

impl Limits {
    pub const DEFAULT_MAX_DEPTH: usize = 16;
    pub const DEFAULT_MAX_ALIASES: usize = 50;
    pub const DEFAULT_MAX_FIELDS: usize = 500;
    pub const DEFAULT_MAX_DIRECTIVES: usize = 50;
    pub const DEFAULT_MAX_TOKENS: usize = 10_000;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_aliases: Self::DEFAULT_MAX_ALIASES,
            max_fields: Self::DEFAULT_MAX_FIELDS,
            max_directives: Self::DEFAULT_MAX_DIRECTIVES,
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            introspection: true,
        }
    }
}

/// A document over a limit: a stable code, a message naming the limit, where (if known).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LimitError {
    pub code: &'static str,
    pub message: String,
    pub location: Option<(usize, usize)>,
}

fn over(limit: usize, n: usize) -> bool {
    limit > 0 && n > limit
}

/// Counts the tokens of `source` up to one past the limit. A lexer error stops the count: the
/// parser reports it with its position.
pub fn check_tokens(source: &str, limits: &Limits) -> Result<(), LimitError> {
    if limits.max_tokens == 0 {
        return Ok(());
    }
    let mut n = 0;
    for token in Lexer::new(source) {
        match token {
            Ok(t) if t.item == Token::EndOfFile => break,
            Ok(_) => n += 1,
            Err(_) => break,
        }
        if n > limits.max_tokens {
            return Err(LimitError {
                code: "TOO_MANY_TOKENS",
                message: format!(
                    "The query has more than {} tokens (the limit); split it or send it as several requests",
                    limits.max_tokens
                ),
                location: None,
            });
        }
    }
    Ok(())
}

/// What a selection set adds up to, fragments expanded (saturating: a fragment spread many
/// times over multiplies counts, and the walk itself stays linear thanks to the memo).
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    depth: usize,
    aliases: usize,
    fields: usize,
    directives: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.depth = self.depth.max(o.depth);
        self.aliases = self.aliases.saturating_add(o.aliases);
        self.fields = self.fields.saturating_add(o.fields);
        self.directives = self.directives.saturating_add(o.directives);
    }
}

/// Fragment name → its selection set and how many directives its definition carries.
type Fragments<'a, 'd> = HashMap<&'a str, (&'d [Selection<'a, S>], usize)>;

struct Walk<'a, 'd> {
    fragments: Fragments<'a, 'd>,
    /// Per fragment name: its counts once known; None while it is being walked (a cycle,
    /// which validation rejects later, then adds nothing).
    memo: HashMap<&'a str, Option<Counts>>,
    introspection: bool,
}

impl<'a, 'd> Walk<'a, 'd> {
    fn selection_set(&mut self, set: &'d [Selection<'a, S>]) -> Result<Counts, LimitError> {
        let mut total = Counts::default();
        for sel in set {
            let c = match sel {
                Selection::Field(f) => {
                    let field = &f.item;
                    if !self.introspection && matches!(field.name.item, "__schema" | "__type") {
                        return Err(LimitError {
                            code: "INTROSPECTION_DISABLED",
                            message: "GraphQL introspection is disabled on this server".into(),
                            location: Some(location(&f.span.start)),
                        });
                    }
                    let mut c = match &field.selection_set {
                        Some(set) => self.selection_set(set)?,
                        None => Counts::default(),
                    };
                    c.depth += 1;
                    c.fields = c.fields.saturating_add(1);
                    c.aliases = c.aliases.saturating_add(field.alias.is_some() as usize);
                    c.directives = c
                        .directives
                        .saturating_add(field.directives.as_ref().map_or(0, Vec::len));
                    c
                }
                Selection::FragmentSpread(spread) => {
                    let mut c = self.fragment(spread.item.name.item)?;
                    c.directives = c
                        .directives
                        .saturating_add(spread.item.directives.as_ref().map_or(0, Vec::len));
                    c
                }
                Selection::InlineFragment(inline) => {
                    let mut c = self.selection_set(&inline.item.selection_set)?;
                    c.directives = c
                        .directives
                        .saturating_add(inline.item.directives.as_ref().map_or(0, Vec::len));
                    c
                }
            };
            total.add(c);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Counts, LimitError> {
        match self.memo.get(name) {
            Some(Some(c)) => return Ok(*c),
            Some(None) => return Ok(Counts::default()),
            None => {}
        }
        // An unknown fragment is validation's to report.
        let Some((set, directives)) = self.fragments.get(name).copied() else {
            return Ok(Counts::default());
        };
        self.memo.insert(name, None);
        let mut c = self.selection_set(set)?;
        c.directives = c.directives.saturating_add(directives);
        self.memo.insert(name, Some(c));
        Ok(c)
    }
}

/// Checks every operation of a parsed (not yet validated) document against `limits`.
pub fn check(document: &Document<'_>, limits: &Limits) -> Result<(), LimitError> {
    let fragments: Fragments = document
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((
                f.item.name.item,
                (
                    f.item.selection_set.as_slice(),
                    f.item.directives.as_ref().map_or(0, Vec::len),
                ),
            )),
            Definition::Operation(_) => None,
        })
        .collect();
    let mut walk = Walk {
        fragments,
        memo: HashMap::new(),
        introspection: limits.introspection,
    };
    for def in document {
        let Definition::Operation(op) = def else {
            continue;
        };
        let mut c = walk.selection_set(&op.item.selection_set)?;
        c.directives = c
            .directives
            .saturating_add(op.item.directives.as_ref().map_or(0, Vec::len));
        if let Some(vars) = &op.item.variables_definition {
            for (_, v) in &vars.item.items {
                c.directives = c
                    .directives
                    .saturating_add(v.directives.as_ref().map_or(0, Vec::len));
            }
        }
        let at = Some(location(&op.span.start));
        let fail = |code, what: &str, limit: usize| {
            Err(LimitError {
                code,
                message: format!("The query {what} (the limit is {limit})"),
                location: at,
            })
        };
        if over(limits.max_depth, c.depth) {
            return fail(
                "QUERY_TOO_DEEP",
                &format!("nests {} levels deep", c.depth),
                limits.max_depth,
            );
        }
        if over(limits.max_aliases, c.aliases) {
            return fail(
                "TOO_MANY_ALIASES",
                &format!("has {} aliases", c.aliases),
                limits.max_aliases,
            );
        }
        if over(limits.max_fields, c.fields) {
            return fail(
                "TOO_MANY_FIELDS",
                &format!(
                    "selects {} fields, fragments counted once per spread",
                    c.fields
                ),
                limits.max_fields,
            );
        }
        if over(limits.max_directives, c.directives) {
            return fail(
                "TOO_MANY_DIRECTIVES",
                &format!("has {} directives", c.directives),
                limits.max_directives,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use juniper::parser::parse_document_source;

    struct Query;

    #[juniper::graphql_object(scalar = S)]
    impl Query {
        fn a() -> i32 {
            1
        }
    }

    fn run(source: &str, limits: &Limits) -> Result<(), LimitError> {
        check_tokens(source, limits)?;
        let root = juniper::RootNode::new_with_scalar_value(
            Query,
            juniper::EmptyMutation::<()>::new(),
            juniper::EmptySubscription::<()>::new(),
        );
        let doc = parse_document_source::<S>(source, &root.schema).expect("parses");
        check(&doc, limits)
    }

    fn code(source: &str, limits: &Limits) -> Option<&'static str> {
        run(source, limits).err().map(|e| e.code)
    }

    #[test]
    fn counts_fragments_once_per_spread_without_walking_them_again() {
        // 2^12 fields through 12 fragments, each spreading the next twice.
        let mut doc = String::from("{ ...F0 }\n");
        for i in 0..12 {
            doc.push_str(&format!(
                "fragment F{i} on Query {{ ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        doc.push_str("fragment F12 on Query { a }\n");
        let limits = Limits::default();
        assert_eq!(code(&doc, &limits), Some("TOO_MANY_FIELDS"));
        let relaxed = Limits {
            max_fields: 4096,
            ..Limits::default()
        };
        assert_eq!(code(&doc, &relaxed), None);
    }

    #[test]
    fn each_limit_has_its_code_and_zero_turns_it_off() {
        let l = Limits {
            max_depth: 3,
            max_aliases: 2,
            max_fields: 10,
            max_directives: 2,
            max_tokens: 40,
            introspection: false,
        };
        assert_eq!(code("{ a { b { c } } }", &l), None);
        assert_eq!(code("{ a { b { c { d } } } }", &l), Some("QUERY_TOO_DEEP"));
        assert_eq!(code("{ x: a y: a z: a }", &l), Some("TOO_MANY_ALIASES"));
        assert_eq!(
            code("{ a b c d e f g h i j k }", &l),
            Some("TOO_MANY_FIELDS")
        );
        assert_eq!(code("{ a @x @y @z }", &l), Some("TOO_MANY_DIRECTIVES"));
        assert_eq!(
            code("query Q($v: Int @x @y) { ... on Query @z { a } }", &l),
            Some("TOO_MANY_DIRECTIVES")
        );
        assert_eq!(code(&"{ a }".repeat(20), &l), Some("TOO_MANY_TOKENS"));
        assert_eq!(
            code("{ __schema { a } }", &l),
            Some("INTROSPECTION_DISABLED")
        );
        assert_eq!(code("{ __typename }", &l), None);
        let off = Limits {
            max_depth: 0,
            max_aliases: 0,
            max_fields: 0,
            max_directives: 0,
            max_tokens: 0,
            introspection: true,
        };
        assert_eq!(
            code("{ a { b { c { d } } } x: a y: a z: a @x @y @z }", &off),
            None
        );
    }

    #[test]
    fn a_fragment_cycle_is_left_to_validation() {
        let doc = "{ ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }";
        assert_eq!(code(doc, &Limits::default()), None);
    }
}
