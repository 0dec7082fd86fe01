//! The aggregates of `@graphile/pg-aggregates` 0.1 (sum, distinct count, min, max, average,
//! standard deviations, variances): which column types each applies to and the Postgres type
//! of its result, as the plugin has them. The SQL of each lives in `sql::aggregates`.

/// One aggregate of the plugin, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggSpec {
    Sum,
    DistinctCount,
    Min,
    Max,
    Average,
    StddevSample,
    StddevPopulation,
    VarianceSample,
    VariancePopulation,
}

impl AggSpec {
    pub const ALL: [AggSpec; 9] = [
        AggSpec::Sum,
        AggSpec::DistinctCount,
        AggSpec::Min,
        AggSpec::Max,
        AggSpec::Average,
        AggSpec::StddevSample,
        AggSpec::StddevPopulation,
        AggSpec::VarianceSample,
        AggSpec::VariancePopulation,
    ];

    /// The plugin's id of the aggregate (its field name and the part of its type names).
    pub fn id(self) -> &'static str {
        match self {
            AggSpec::Sum => "sum",
            AggSpec::DistinctCount => "distinctCount",
            AggSpec::Min => "min",
            AggSpec::Max => "max",
            AggSpec::Average => "average",
            AggSpec::StddevSample => "stddevSample",
            AggSpec::StddevPopulation => "stddevPopulation",
            AggSpec::VarianceSample => "varianceSample",
            AggSpec::VariancePopulation => "variancePopulation",
        }
    }

    /// The label its descriptions use.
    pub fn label(self) -> &'static str {
        match self {
            AggSpec::Sum => "Sum",
            AggSpec::DistinctCount => "Distinct count",
            AggSpec::Min => "Minimum",
            AggSpec::Max => "Maximum",
            AggSpec::Average => "Mean average",
            AggSpec::StddevSample => "Sample standard deviation",
            AggSpec::StddevPopulation => "Population standard deviation",
            AggSpec::VarianceSample => "Sample variance",
            AggSpec::VariancePopulation => "Population variance",
        }
    }

    /// Whether it applies to a value whose base type has category `category` (`N`: numbers).
    pub fn applies(self, category: &str) -> bool {
        self == AggSpec::DistinctCount || category == "N"
    }

    /// Whether Postgres has the aggregate for a value of category `category` at all: the
    /// plugin offers every column in `orderBy` and `having`, where a sum of text could only
    /// ever fail; those are left out (min and max also order strings, dates and intervals).
    pub fn sql_applies(self, category: &str) -> bool {
        match self {
            AggSpec::DistinctCount => true,
            AggSpec::Min | AggSpec::Max => matches!(category, "N" | "S" | "D" | "T"),
            _ => category == "N",
        }
    }

    /// Whether `having` can compare it for a value of category `category` with the value's
    /// own type (the plugin's filters take the column's type): a count is no timestamp.
    pub fn having_applies(self, category: &str) -> bool {
        match self {
            AggSpec::DistinctCount => category == "N",
            _ => self.sql_applies(category),
        }
    }

    /// The `pg_catalog` type of its result over a value of base type `base`; None: the
    /// value's own type (min, max).
    pub fn result_type(self, base: &str) -> Option<&'static str> {
        let float = matches!(base, "float4" | "float8");
        match self {
            AggSpec::Sum => Some(match base {
                "int2" | "int4" => "int8",
                "float4" => "float4",
                "float8" => "float8",
                "interval" => "interval",
                "money" => "money",
                _ => "numeric",
            }),
            AggSpec::DistinctCount => Some("int8"),
            AggSpec::Min | AggSpec::Max => None,
            AggSpec::Average => Some(match base {
                _ if float => "float8",
                "interval" => "interval",
                _ => "numeric",
            }),
            _ => Some(if float { "float8" } else { "numeric" }),
        }
    }

    /// Never null: the plugin's sum is `coalesce(sum(..), 0)`.
    pub fn non_null(self) -> bool {
        self == AggSpec::Sum
    }
}

/// The `Having<Kind>Filter` a value of base type `base` is compared with in `having`, and the
/// `pg_catalog` type its operands are cast to; None: not comparable there (as in the plugin).
pub fn having_filter(base: &str) -> Option<(&'static str, &'static str)> {
    Some(match base {
        "int2" | "int4" => ("int", "int4"),
        "int8" => ("bigint", "int8"),
        "float4" | "float8" => ("float", "float8"),
        "money" | "numeric" => ("bigfloat", "numeric"),
        "date" | "timestamp" | "timestamptz" => ("datetime", "timestamptz"),
        _ => return None,
    })
}

/// The comparison operators of a having filter: field name and SQL operator.
pub const HAVING_OPERATORS: &[(&str, &str)] = &[
    ("equalTo", "="),
    ("notEqualTo", "<>"),
    ("greaterThan", ">"),
    ("greaterThanOrEqualTo", ">="),
    ("lessThan", "<"),
    ("lessThanOrEqualTo", "<="),
];

/// The `groupBy` derivatives of a timestamp column: enum suffix and `date_trunc` unit.
pub const TRUNCATIONS: &[(&str, &str)] =
    &[("truncated-to-hour", "hour"), ("truncated-to-day", "day")];
