//! The `filter:` argument's model, as postgraphile-plugin-connection-filter v2 defines it:
//! which operators each kind of field has, in the plugin's order with its descriptions, what
//! each compares and how its value is typed. No SQL here: `sql::filter` renders the
//! comparisons.

/// The options of the filter (connection-filter's `connectionFilter…` options).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterFlags {
    /// No `filter:` argument anywhere (`condition` stays)
    #[arg(long = "no-connection-filter", env = "POSTGRAPH_NO_CONNECTION_FILTER")]
    pub no_connection_filter: bool,
    /// A `null` in filter input is a no-op rather than an error (connectionFilterAllowNullInput)
    #[arg(
        long = "connection-filter-allow-null-input",
        env = "POSTGRAPH_CONNECTION_FILTER_ALLOW_NULL_INPUT"
    )]
    pub allow_null_input: bool,
    /// An empty object `{}` in filter input is a no-op rather than an error
    /// (connectionFilterAllowEmptyObjectInput)
    #[arg(
        long = "connection-filter-allow-empty-object-input",
        env = "POSTGRAPH_CONNECTION_FILTER_ALLOW_EMPTY_OBJECT_INPUT"
    )]
    pub allow_empty_object_input: bool,
    /// Filters on related rows: forward and backward relations, `…Exists`, and
    /// `every`/`some`/`none` of one-to-many ones (connectionFilterRelations)
    #[arg(
        long = "connection-filter-relations",
        env = "POSTGRAPH_CONNECTION_FILTER_RELATIONS"
    )]
    pub relations: bool,
}

/// What a field of a filter input type means (the planner dispatches on this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterField {
    And,
    Or,
    Not,
    /// A column (or a composite type's attribute) of the filter's table.
    Column(usize),
    /// A computed column taking only the row (the function's index).
    Computed(usize),
    /// An operator of an operator type (`IntFilter.equalTo`).
    Operator(Operator),
    /// The row a foreign key of the filtered row points to (`userByAuthorId`).
    Forward(usize),
    /// `<forward relation>Exists`: whether that row exists.
    ForwardExists(usize),
    /// The one row whose unique foreign key points to the filtered row.
    BackwardOne(usize),
    /// The rows whose foreign key points to the filtered row (`postsByAuthorId`): `every`,
    /// `some`, `none` of them match.
    BackwardMany(usize),
    /// `<backward relation>Exists` / `…Exist`: whether any such row exists.
    BackwardExists(usize),
    Every,
    Some,
    None,
    /// `aggregates` of a one-to-many relation's filter (pg-aggregates): conditions on
    /// aggregates of the related rows.
    Aggregates,
    /// `filter` inside `aggregates`: which related rows the aggregates read.
    AggregateRows,
    /// `sum`, `distinctCount`, ... inside `aggregates`.
    AggregateSpec(crate::schema::aggregates::AggSpec),
    /// A column of the related rows under one aggregate (`sum: {id: ...}`).
    AggregateColumn(usize),
    /// A computed column of the related rows under one aggregate (called with the row only).
    AggregateComputed(usize),
}

/// One operator: the comparison, the value it takes, and whether it compares lowercased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub cmp: Cmp,
    pub value: OpValue,
    /// `…Insensitive` forms of the standard and ordering operators: `lower()` on both sides
    /// (citext is compared as it is).
    pub insensitive: bool,
}

/// A comparison, named by what it does in SQL (the operator text lives in `sql::filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    IsNull,
    Eq,
    Ne,
    DistinctFrom,
    NotDistinctFrom,
    In,
    NotIn,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    NotLike,
    ILike,
    NotILike,
    /// `@>`
    Contains,
    /// `<@`
    ContainedBy,
    /// `?`
    HasKey,
    /// `?&`
    HasAllKeys,
    /// `?|`
    HasAnyKeys,
    /// `&&`
    Overlaps,
    /// `<<`
    Left,
    /// `>>`
    Right,
    /// `<<=`
    LeftOrEqual,
    /// `>>=`
    RightOrEqual,
    /// `&<`
    NotExtendsRight,
    /// `&>`
    NotExtendsLeft,
    /// `-|-`
    Adjacent,
    /// `value <op> ANY (array)`, the operator given (`anyLessThan` is `v > ANY (a)`).
    Any(AnyCmp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyCmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The value an operator takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpValue {
    /// A value of the field's own input type.
    Same,
    /// `[T!]` of the field's input type (`in`, `notIn`).
    List,
    /// `Boolean` (`isNull`).
    Bool,
    /// A string matched literally: `%` and `_` escaped, then wrapped as the pattern says.
    Pattern(Pattern),
    /// A `String` key (`containsKey`).
    Key,
    /// `[String!]` keys (`containsAllKeys`, `containsAnyKeys`).
    Keys,
    /// One element: an array's item type, a range's subtype.
    Element,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    Includes,
    StartsWith,
    EndsWith,
}

/// Which operators a field type has (the plugin's categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// A scalar: the GraphQL scalar's name decides (`String`, `JSON`, `InternetAddress`, ...).
    Scalar(ScalarOps),
    Enum,
    Range,
    Array,
}

/// The scalar families with operators beyond the standard and ordering ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarOps {
    /// Standard and ordering operators only.
    Plain,
    /// Standard only (`KeyValueHash` adds its own after them).
    String,
    Json,
    KeyValueHash,
    Inet,
}

/// A named operator with its description.
#[derive(Debug, Clone, Copy)]
pub struct OpDef {
    pub name: &'static str,
    pub description: &'static str,
    pub op: Operator,
}

/// The scalar GraphQL types the plugin has operators for, and their family.
pub fn scalar_ops(scalar: &str) -> Option<ScalarOps> {
    Some(match scalar {
        "BigFloat" | "BigInt" | "BitString" | "Boolean" | "Date" | "Datetime" | "Float" | "Int"
        | "Interval" | "MacAddress" | "MacAddress8" | "Time" | "UUID" => ScalarOps::Plain,
        "String" => ScalarOps::String,
        "JSON" => ScalarOps::Json,
        "KeyValueHash" => ScalarOps::KeyValueHash,
        "InternetAddress" | "CidrAddress" => ScalarOps::Inet,
        _ => return None,
    })
}

const fn op(cmp: Cmp, value: OpValue) -> Operator {
    Operator {
        cmp,
        value,
        insensitive: false,
    }
}

const fn def(name: &'static str, description: &'static str, op: Operator) -> OpDef {
    OpDef {
        name,
        description,
        op,
    }
}

const IS_NULL: OpDef = def(
    "isNull",
    "Is null (if `true` is specified) or is not null (if `false` is specified).",
    op(Cmp::IsNull, OpValue::Bool),
);

const EQUALITY: &[OpDef] = &[
    def(
        "equalTo",
        "Equal to the specified value.",
        op(Cmp::Eq, OpValue::Same),
    ),
    def(
        "notEqualTo",
        "Not equal to the specified value.",
        op(Cmp::Ne, OpValue::Same),
    ),
    def(
        "distinctFrom",
        "Not equal to the specified value, treating null like an ordinary value.",
        op(Cmp::DistinctFrom, OpValue::Same),
    ),
    def(
        "notDistinctFrom",
        "Equal to the specified value, treating null like an ordinary value.",
        op(Cmp::NotDistinctFrom, OpValue::Same),
    ),
];

const LISTS: &[OpDef] = &[
    def(
        "in",
        "Included in the specified list.",
        op(Cmp::In, OpValue::List),
    ),
    def(
        "notIn",
        "Not included in the specified list.",
        op(Cmp::NotIn, OpValue::List),
    ),
];

const SORT: &[OpDef] = &[
    def(
        "lessThan",
        "Less than the specified value.",
        op(Cmp::Lt, OpValue::Same),
    ),
    def(
        "lessThanOrEqualTo",
        "Less than or equal to the specified value.",
        op(Cmp::Le, OpValue::Same),
    ),
    def(
        "greaterThan",
        "Greater than the specified value.",
        op(Cmp::Gt, OpValue::Same),
    ),
    def(
        "greaterThanOrEqualTo",
        "Greater than or equal to the specified value.",
        op(Cmp::Ge, OpValue::Same),
    ),
];

const fn pattern(p: Pattern) -> OpValue {
    OpValue::Pattern(p)
}

const PATTERNS: &[OpDef] = &[
    def(
        "includes",
        "Contains the specified string (case-sensitive).",
        op(Cmp::Like, pattern(Pattern::Includes)),
    ),
    def(
        "notIncludes",
        "Does not contain the specified string (case-sensitive).",
        op(Cmp::NotLike, pattern(Pattern::Includes)),
    ),
    def(
        "includesInsensitive",
        "Contains the specified string (case-insensitive).",
        op(Cmp::ILike, pattern(Pattern::Includes)),
    ),
    def(
        "notIncludesInsensitive",
        "Does not contain the specified string (case-insensitive).",
        op(Cmp::NotILike, pattern(Pattern::Includes)),
    ),
    def(
        "startsWith",
        "Starts with the specified string (case-sensitive).",
        op(Cmp::Like, pattern(Pattern::StartsWith)),
    ),
    def(
        "notStartsWith",
        "Does not start with the specified string (case-sensitive).",
        op(Cmp::NotLike, pattern(Pattern::StartsWith)),
    ),
    def(
        "startsWithInsensitive",
        "Starts with the specified string (case-insensitive).",
        op(Cmp::ILike, pattern(Pattern::StartsWith)),
    ),
    def(
        "notStartsWithInsensitive",
        "Does not start with the specified string (case-insensitive).",
        op(Cmp::NotILike, pattern(Pattern::StartsWith)),
    ),
    def(
        "endsWith",
        "Ends with the specified string (case-sensitive).",
        op(Cmp::Like, pattern(Pattern::EndsWith)),
    ),
    def(
        "notEndsWith",
        "Does not end with the specified string (case-sensitive).",
        op(Cmp::NotLike, pattern(Pattern::EndsWith)),
    ),
    def(
        "endsWithInsensitive",
        "Ends with the specified string (case-insensitive).",
        op(Cmp::ILike, pattern(Pattern::EndsWith)),
    ),
    def(
        "notEndsWithInsensitive",
        "Does not end with the specified string (case-insensitive).",
        op(Cmp::NotILike, pattern(Pattern::EndsWith)),
    ),
    def(
        "like",
        "Matches the specified pattern (case-sensitive). An underscore (_) matches any single character; a percent sign (%) matches any sequence of zero or more characters.",
        op(Cmp::Like, OpValue::Same),
    ),
    def(
        "notLike",
        "Does not match the specified pattern (case-sensitive). An underscore (_) matches any single character; a percent sign (%) matches any sequence of zero or more characters.",
        op(Cmp::NotLike, OpValue::Same),
    ),
    def(
        "likeInsensitive",
        "Matches the specified pattern (case-insensitive). An underscore (_) matches any single character; a percent sign (%) matches any sequence of zero or more characters.",
        op(Cmp::ILike, OpValue::Same),
    ),
    def(
        "notLikeInsensitive",
        "Does not match the specified pattern (case-insensitive). An underscore (_) matches any single character; a percent sign (%) matches any sequence of zero or more characters.",
        op(Cmp::NotILike, OpValue::Same),
    ),
];

/// The `…Insensitive` forms of the standard and ordering operators (no `isNull`), with the
/// plugin's descriptions: the original's without its full stop, plus " (case-insensitive).".
const INSENSITIVE: &[(&str, &str, Cmp, OpValue)] = &[
    (
        "equalToInsensitive",
        "Equal to the specified value (case-insensitive).",
        Cmp::Eq,
        OpValue::Same,
    ),
    (
        "notEqualToInsensitive",
        "Not equal to the specified value (case-insensitive).",
        Cmp::Ne,
        OpValue::Same,
    ),
    (
        "distinctFromInsensitive",
        "Not equal to the specified value, treating null like an ordinary value (case-insensitive).",
        Cmp::DistinctFrom,
        OpValue::Same,
    ),
    (
        "notDistinctFromInsensitive",
        "Equal to the specified value, treating null like an ordinary value (case-insensitive).",
        Cmp::NotDistinctFrom,
        OpValue::Same,
    ),
    (
        "inInsensitive",
        "Included in the specified list (case-insensitive).",
        Cmp::In,
        OpValue::List,
    ),
    (
        "notInInsensitive",
        "Not included in the specified list (case-insensitive).",
        Cmp::NotIn,
        OpValue::List,
    ),
    (
        "lessThanInsensitive",
        "Less than the specified value (case-insensitive).",
        Cmp::Lt,
        OpValue::Same,
    ),
    (
        "lessThanOrEqualToInsensitive",
        "Less than or equal to the specified value (case-insensitive).",
        Cmp::Le,
        OpValue::Same,
    ),
    (
        "greaterThanInsensitive",
        "Greater than the specified value (case-insensitive).",
        Cmp::Gt,
        OpValue::Same,
    ),
    (
        "greaterThanOrEqualToInsensitive",
        "Greater than or equal to the specified value (case-insensitive).",
        Cmp::Ge,
        OpValue::Same,
    ),
];

/// jsonb's and hstore's key operators (their `contains`/`containedBy` are worded per type).
fn key_ops(what: &'static str) -> Vec<OpDef> {
    let (contains, contained) = match what {
        "JSON" => (
            "Contains the specified JSON.",
            "Contained by the specified JSON.",
        ),
        _ => (
            "Contains the specified KeyValueHash.",
            "Contained by the specified KeyValueHash.",
        ),
    };
    vec![
        def("contains", contains, op(Cmp::Contains, OpValue::Same)),
        def(
            "containsKey",
            "Contains the specified key.",
            op(Cmp::HasKey, OpValue::Key),
        ),
        def(
            "containsAllKeys",
            "Contains all of the specified keys.",
            op(Cmp::HasAllKeys, OpValue::Keys),
        ),
        def(
            "containsAnyKeys",
            "Contains any of the specified keys.",
            op(Cmp::HasAnyKeys, OpValue::Keys),
        ),
        def(
            "containedBy",
            contained,
            op(Cmp::ContainedBy, OpValue::Same),
        ),
    ]
}

const INET: &[OpDef] = &[
    def(
        "contains",
        "Contains the specified internet address.",
        op(Cmp::Right, OpValue::Same),
    ),
    def(
        "containsOrEqualTo",
        "Contains or equal to the specified internet address.",
        op(Cmp::RightOrEqual, OpValue::Same),
    ),
    def(
        "containedBy",
        "Contained by the specified internet address.",
        op(Cmp::Left, OpValue::Same),
    ),
    def(
        "containedByOrEqualTo",
        "Contained by or equal to the specified internet address.",
        op(Cmp::LeftOrEqual, OpValue::Same),
    ),
    def(
        "containsOrContainedBy",
        "Contains or contained by the specified internet address.",
        op(Cmp::Overlaps, OpValue::Same),
    ),
];

const RANGE: &[OpDef] = &[
    def(
        "contains",
        "Contains the specified range.",
        op(Cmp::Contains, OpValue::Same),
    ),
    def(
        "containsElement",
        "Contains the specified value.",
        op(Cmp::Contains, OpValue::Element),
    ),
    def(
        "containedBy",
        "Contained by the specified range.",
        op(Cmp::ContainedBy, OpValue::Same),
    ),
    def(
        "overlaps",
        "Overlaps the specified range.",
        op(Cmp::Overlaps, OpValue::Same),
    ),
    def(
        "strictlyLeftOf",
        "Strictly left of the specified range.",
        op(Cmp::Left, OpValue::Same),
    ),
    def(
        "strictlyRightOf",
        "Strictly right of the specified range.",
        op(Cmp::Right, OpValue::Same),
    ),
    def(
        "notExtendsRightOf",
        "Does not extend right of the specified range.",
        op(Cmp::NotExtendsRight, OpValue::Same),
    ),
    def(
        "notExtendsLeftOf",
        "Does not extend left of the specified range.",
        op(Cmp::NotExtendsLeft, OpValue::Same),
    ),
    def(
        "adjacentTo",
        "Adjacent to the specified range.",
        op(Cmp::Adjacent, OpValue::Same),
    ),
];

const fn any(c: AnyCmp) -> Operator {
    op(Cmp::Any(c), OpValue::Element)
}

const ARRAY: &[OpDef] = &[
    def(
        "contains",
        "Contains the specified list of values.",
        op(Cmp::Contains, OpValue::Same),
    ),
    def(
        "containedBy",
        "Contained by the specified list of values.",
        op(Cmp::ContainedBy, OpValue::Same),
    ),
    def(
        "overlaps",
        "Overlaps the specified list of values.",
        op(Cmp::Overlaps, OpValue::Same),
    ),
    def(
        "anyEqualTo",
        "Any array item is equal to the specified value.",
        any(AnyCmp::Eq),
    ),
    def(
        "anyNotEqualTo",
        "Any array item is not equal to the specified value.",
        any(AnyCmp::Ne),
    ),
    def(
        "anyLessThan",
        "Any array item is less than the specified value.",
        any(AnyCmp::Gt),
    ),
    def(
        "anyLessThanOrEqualTo",
        "Any array item is less than or equal to the specified value.",
        any(AnyCmp::Ge),
    ),
    def(
        "anyGreaterThan",
        "Any array item is greater than the specified value.",
        any(AnyCmp::Lt),
    ),
    def(
        "anyGreaterThanOrEqualTo",
        "Any array item is greater than or equal to the specified value.",
        any(AnyCmp::Le),
    ),
];

/// The operators of a category, in the plugin's order.
pub fn operators(category: Category) -> Vec<OpDef> {
    let mut ops = vec![IS_NULL];
    ops.extend_from_slice(EQUALITY);
    if category != Category::Array {
        ops.extend_from_slice(LISTS);
    }
    let ordered = !matches!(category, Category::Scalar(ScalarOps::KeyValueHash));
    if ordered {
        ops.extend_from_slice(SORT);
    }
    match category {
        Category::Scalar(ScalarOps::String) => {
            ops.extend_from_slice(PATTERNS);
            ops.extend(INSENSITIVE.iter().map(|&(name, description, cmp, value)| {
                def(
                    name,
                    description,
                    Operator {
                        cmp,
                        value,
                        insensitive: true,
                    },
                )
            }));
        }
        Category::Scalar(ScalarOps::Json) => ops.extend(key_ops("JSON")),
        Category::Scalar(ScalarOps::KeyValueHash) => ops.extend(key_ops("KeyValueHash")),
        Category::Scalar(ScalarOps::Inet) => ops.extend_from_slice(INET),
        Category::Range => ops.extend_from_slice(RANGE),
        Category::Array => ops.extend_from_slice(ARRAY),
        Category::Scalar(ScalarOps::Plain) | Category::Enum => {}
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_operators_in_the_plugins_order() {
        let names: Vec<&str> = operators(Category::Scalar(ScalarOps::String))
            .iter()
            .map(|o| o.name)
            .collect();
        assert_eq!(
            names[..8],
            [
                "isNull",
                "equalTo",
                "notEqualTo",
                "distinctFrom",
                "notDistinctFrom",
                "in",
                "notIn",
                "lessThan"
            ]
        );
        assert_eq!(names.len(), 1 + 4 + 2 + 4 + 16 + 10);
        assert_eq!(names.last(), Some(&"greaterThanOrEqualToInsensitive"));
    }

    #[test]
    fn arrays_have_no_in_and_hstore_no_ordering() {
        let array: Vec<&str> = operators(Category::Array).iter().map(|o| o.name).collect();
        assert!(!array.contains(&"in") && array.contains(&"anyLessThan"));
        let hstore: Vec<&str> = operators(Category::Scalar(ScalarOps::KeyValueHash))
            .iter()
            .map(|o| o.name)
            .collect();
        assert!(!hstore.contains(&"lessThan") && hstore.contains(&"containsAllKeys"));
    }
}
