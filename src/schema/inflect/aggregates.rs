//! Names of `@graphile/pg-aggregates` 0.1's types, fields and enum values (its inflectors).

use super::{constant, singular_table, upper_camel};

/// `PostAggregates`: a connection's aggregates (and a group's).
pub fn aggregate_container_type(table: &str) -> String {
    upper_camel(&format!("{}-aggregates", singular_table(table)))
}
/// `PostSumAggregates`
pub fn aggregate_type(table: &str, spec: &str) -> String {
    upper_camel(&format!("{}-{spec}-aggregates", singular_table(table)))
}
pub fn aggregates_field() -> &'static str {
    "aggregates"
}
pub fn grouped_aggregates_field() -> &'static str {
    "groupedAggregates"
}
/// The field of one aggregate: its id (`sum`, `distinctCount`).
pub fn aggregate_field(spec: &str) -> String {
    spec.to_string()
}
/// `PostsGroupBy` (the table's own name, not singular).
pub fn group_by_type(table: &str) -> String {
    upper_camel(&format!("{table}-group-by"))
}
/// `AUTHOR_ID`, or with a derivative `CREATED_AT_TRUNCATED_TO_DAY`.
pub fn group_by_value(column: &str, derivative: Option<&str>) -> String {
    match derivative {
        Some(d) => constant(&format!("{column}-{d}")),
        None => constant(column),
    }
}
/// `PostsHavingInput`
pub fn having_input_type(table: &str) -> String {
    upper_camel(&format!("{table}-having-input"))
}
/// `PostsHavingSumInput`
pub fn having_aggregate_input_type(table: &str, spec: &str) -> String {
    upper_camel(&format!("{table}-having-{spec}-input"))
}
/// `PostsHavingSumPostRatingInput`: a computed column's `{args, filter}`.
pub fn having_computed_input_type(table: &str, spec: &str, proc_name: &str) -> String {
    upper_camel(&format!("{table}-having-{spec}-{proc_name}-input"))
}
/// `PostsHavingSumPostRatingArgsInput`
pub fn having_computed_args_input_type(table: &str, spec: &str, proc_name: &str) -> String {
    upper_camel(&format!("{table}-having-{spec}-{proc_name}-args-input"))
}
/// `HavingIntFilter`, `HavingDatetimeFilter`, ...
pub fn having_filter_type(kind: &str) -> String {
    upper_camel(&format!("having-{kind}-filter"))
}
/// `POSTS_BY_AUTHOR_ID_COUNT` (before `_ASC`/`_DESC`).
pub fn order_by_related_count(relation_field: &str) -> String {
    constant(&format!("{relation_field}-count"))
}
/// `POSTS_BY_AUTHOR_ID_SUM_ID` (before `_ASC`/`_DESC`).
pub fn order_by_related_aggregate(relation_field: &str, spec: &str, column: &str) -> String {
    constant(&format!("{relation_field}-{spec}-{column}"))
}
/// `PostAggregatesFilter`: conditions on aggregates of related rows (filter by relation).
pub fn aggregates_filter_type(type_name: &str) -> String {
    format!("{type_name}AggregatesFilter")
}
/// `PostSumAggregateFilter`, `PostDistinctCountAggregateFilter`
pub fn aggregate_spec_filter_type(type_name: &str, spec: &str) -> String {
    format!("{type_name}{}AggregateFilter", upper_camel(spec))
}
/// `..._ASC` / `..._DESC`
pub fn ascending_descending(base: &str, ascending: bool) -> String {
    format!("{base}_{}", if ascending { "ASC" } else { "DESC" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_plugin_makes_them() {
        assert_eq!(aggregate_container_type("posts"), "PostAggregates");
        assert_eq!(
            aggregate_type("posts", "distinctCount"),
            "PostDistinctCountAggregates"
        );
        assert_eq!(group_by_type("posts"), "PostsGroupBy");
        assert_eq!(
            group_by_value("created_at", Some("truncated-to-hour")),
            "CREATED_AT_TRUNCATED_TO_HOUR"
        );
        assert_eq!(having_input_type("posts"), "PostsHavingInput");
        assert_eq!(
            having_aggregate_input_type("posts", "stddevSample"),
            "PostsHavingStddevSampleInput"
        );
        assert_eq!(
            having_computed_args_input_type("posts", "sum", "posts_rating"),
            "PostsHavingSumPostsRatingArgsInput"
        );
        assert_eq!(having_filter_type("bigfloat"), "HavingBigfloatFilter");
        assert_eq!(aggregates_filter_type("Post"), "PostAggregatesFilter");
        assert_eq!(
            aggregate_spec_filter_type("Post", "distinctCount"),
            "PostDistinctCountAggregateFilter"
        );
        assert_eq!(
            order_by_related_count("postsByAuthorId"),
            "POSTS_BY_AUTHOR_ID_COUNT"
        );
        assert_eq!(
            order_by_related_aggregate("postsByAuthorId", "distinctCount", "id"),
            "POSTS_BY_AUTHOR_ID_DISTINCT_COUNT_ID"
        );
    }
}
