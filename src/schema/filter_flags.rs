//! The options of the `filter:` argument: connection-filter v2.3's `connectionFilter…`
//! options (given to PostGraphile through `graphileBuildOptions`) as flags named after them,
//! `--connection-filter-<option>`.

use clap::ArgAction;

/// The options of the filter, defaults as in the plugin.
#[derive(Debug, Clone, clap::Args)]
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
    /// Only these operators, by their plugin names, comma-separated (e.g.
    /// `equalTo,in,includes`; connectionFilterAllowedOperators); all when not given
    #[arg(
        long = "connection-filter-allowed-operators",
        env = "POSTGRAPH_CONNECTION_FILTER_ALLOWED_OPERATORS",
        value_delimiter = ','
    )]
    pub allowed_operators: Option<Vec<String>>,
    /// Only fields of these GraphQL types get operators, comma-separated (e.g.
    /// `String,Int,Datetime`; connectionFilterAllowedFieldTypes); all when not given
    #[arg(
        long = "connection-filter-allowed-field-types",
        env = "POSTGRAPH_CONNECTION_FILTER_ALLOWED_FIELD_TYPES",
        value_delimiter = ','
    )]
    pub allowed_field_types: Option<Vec<String>>,
    /// Operators renamed, `plugin name=new name` pairs, comma-separated (e.g.
    /// `equalTo=eq,notEqualTo=ne`; connectionFilterOperatorNames)
    #[arg(
        long = "connection-filter-operator-names",
        env = "POSTGRAPH_CONNECTION_FILTER_OPERATOR_NAMES",
        value_delimiter = ',',
        value_parser = operator_rename
    )]
    pub operator_names: Vec<(String, String)>,
    /// Filters on array columns (`<T>ListFilter`; connectionFilterArrays)
    #[arg(
        long = "connection-filter-arrays",
        env = "POSTGRAPH_CONNECTION_FILTER_ARRAYS",
        action = ArgAction::Set,
        default_value_t = true
    )]
    pub arrays: bool,
    /// Computed columns in filters; with `false` only those tagged `@filterable`
    /// (connectionFilterComputedColumns)
    #[arg(
        long = "connection-filter-computed-columns",
        env = "POSTGRAPH_CONNECTION_FILTER_COMPUTED_COLUMNS",
        action = ArgAction::Set,
        default_value_t = true
    )]
    pub computed_columns: bool,
    /// A `filter` on set-returning functions; with `false` only on those tagged `@filterable`
    /// (connectionFilterSetofFunctions)
    #[arg(
        long = "connection-filter-setof-functions",
        env = "POSTGRAPH_CONNECTION_FILTER_SETOF_FUNCTIONS",
        action = ArgAction::Set,
        default_value_t = true
    )]
    pub setof_functions: bool,
    /// `and`, `or` and `not` in filters (connectionFilterLogicalOperators)
    #[arg(
        long = "connection-filter-logical-operators",
        env = "POSTGRAPH_CONNECTION_FILTER_LOGICAL_OPERATORS",
        action = ArgAction::Set,
        default_value_t = true
    )]
    pub logical_operators: bool,
    /// Name one-to-many relation filters after the list field (`postsByAuthorIdList`) rather
    /// than the connection (connectionFilterUseListInflectors); by default, lists' names only
    /// with `--simple-collections only`
    #[arg(
        long = "connection-filter-use-list-inflectors",
        env = "POSTGRAPH_CONNECTION_FILTER_USE_LIST_INFLECTORS",
        num_args = 0..=1,
        default_missing_value = "true",
        action = ArgAction::Set
    )]
    pub use_list_inflectors: Option<bool>,
}

impl Default for FilterFlags {
    fn default() -> Self {
        FilterFlags {
            no_connection_filter: false,
            allow_null_input: false,
            allow_empty_object_input: false,
            relations: false,
            allowed_operators: None,
            allowed_field_types: None,
            operator_names: vec![],
            arrays: true,
            computed_columns: true,
            setof_functions: true,
            logical_operators: true,
            use_list_inflectors: None,
        }
    }
}

impl FilterFlags {
    /// An operator's field name: its plugin name, or what `--connection-filter-operator-names`
    /// renames it to; None when `--connection-filter-allowed-operators` leaves it out.
    pub fn operator_field(&self, name: &str) -> Option<String> {
        if let Some(allowed) = &self.allowed_operators {
            if !allowed.iter().any(|a| a == name) {
                return None;
            }
        }
        let renamed = self.operator_names.iter().find(|(from, _)| from == name);
        Some(renamed.map_or(name, |(_, to)| to.as_str()).to_string())
    }

    /// Whether fields of this GraphQL type get operators (`--connection-filter-allowed-field-types`).
    pub fn field_type_allowed(&self, type_name: &str) -> bool {
        self.allowed_field_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == type_name))
    }
}

/// `from=to`: an operator's new name, which must be a GraphQL name.
fn operator_rename(s: &str) -> Result<(String, String), String> {
    let (from, to) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected `operator=newName`"))?;
    let (from, to) = (from.trim(), to.trim());
    if !super::inflect::is_valid_name(from) || !super::inflect::is_valid_name(to) {
        return Err(format!("`{s}`: both names must be GraphQL names"));
    }
    Ok((from.to_string(), to.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_and_allow_lists() {
        assert_eq!(
            operator_rename("equalTo=eq"),
            Ok(("equalTo".into(), "eq".into()))
        );
        assert!(operator_rename("equalTo").is_err());
        assert!(operator_rename("equalTo=1x").is_err());
        let flags = FilterFlags {
            allowed_operators: Some(vec!["equalTo".into(), "in".into()]),
            operator_names: vec![("equalTo".into(), "eq".into())],
            ..Default::default()
        };
        assert_eq!(flags.operator_field("equalTo").as_deref(), Some("eq"));
        assert_eq!(flags.operator_field("in").as_deref(), Some("in"));
        assert_eq!(flags.operator_field("lessThan"), None);
        assert!(FilterFlags::default().field_type_allowed("Int"));
    }
}

#[cfg(test)]
mod parse {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        filter: FilterFlags,
    }

    #[test]
    fn flags_read_as_the_plugins_options() {
        let cli = Cli::try_parse_from([
            "x",
            "--connection-filter-allowed-operators",
            "equalTo,in",
            "--connection-filter-operator-names",
            "equalTo=eq,in=oneOf",
            "--connection-filter-arrays",
            "false",
            "--connection-filter-use-list-inflectors",
        ])
        .expect("parses");
        let f = cli.filter;
        assert_eq!(
            f.allowed_operators,
            Some(vec!["equalTo".into(), "in".into()])
        );
        assert_eq!(f.operator_names.len(), 2);
        assert!(!f.arrays && f.computed_columns && f.setof_functions && f.logical_operators);
        assert_eq!(f.use_list_inflectors, Some(true));
        assert!(Cli::try_parse_from(["x", "--connection-filter-operator-names", "eq"]).is_err());
        let defaults = Cli::try_parse_from(["x"]).expect("parses").filter;
        assert!(defaults.arrays && defaults.allowed_operators.is_none());
    }
}
