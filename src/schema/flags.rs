//! The options that shape the generated schema: PostGraphile v4's, shared by `serve` and
//! `export-schema`.

use super::filter;

/// PostGraphile v4's options that shape the generated schema (flags of `serve` and
/// `export-schema`, so both give the same SDL).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SchemaFlags {
    /// Lists beside connections: omit (connections only), both, or only (lists only)
    #[arg(
        long = "simple-collections",
        env = "POSTGRAPH_SIMPLE_COLLECTIONS",
        value_enum,
        default_value_t
    )]
    pub simple_collections: SimpleCollections,
    /// Rows of connections and of set-returning functions are never null (`nodes: [Post!]!`,
    /// `node: Post!`, `[Post!]`), as v4's `--no-setof-functions-contain-nulls` makes them
    #[arg(
        short = 'N',
        long = "no-setof-functions-contain-nulls",
        env = "POSTGRAPH_NO_SETOF_FUNCTIONS_CONTAIN_NULLS"
    )]
    pub no_setof_functions_contain_nulls: bool,
    /// v4's classic ids: `id` is the global object identifier (`nodeId` otherwise) and a
    /// column named `id` becomes `rowId`
    #[arg(short = 'a', long = "classic-ids", env = "POSTGRAPH_CLASSIC_IDS")]
    pub classic_ids: bool,
    /// JSON and JSONB values are the JSON itself (objects, lists, ...) rather than a string
    /// holding it, in output and input
    #[arg(short = 'j', long = "dynamic-json", env = "POSTGRAPH_DYNAMIC_JSON")]
    pub dynamic_json: bool,
    /// Leave out tables, columns, mutations and functions the connecting role (or a role it
    /// is a member of) has no privilege for, as PostGraphile v4's --no-ignore-rbac
    #[arg(long = "no-ignore-rbac", env = "POSTGRAPH_NO_IGNORE_RBAC")]
    pub no_ignore_rbac: bool,
    /// Aggregates (`aggregates`, `groupedAggregates`, ordering by related aggregates) only on
    /// tables tagged `@aggregates on` (pg-aggregates' `disableAggregatesByDefault`)
    #[arg(long = "aggregates-opt-in", env = "POSTGRAPH_AGGREGATES_OPT_IN")]
    pub aggregates_opt_in: bool,
    /// cidr, macaddr and macaddr8 as the `CidrAddress`, `MacAddress` and `MacAddress8`
    /// scalars (v4's pgUseCustomNetworkScalars) rather than `String`
    #[arg(
        long = "custom-network-scalars",
        env = "POSTGRAPH_CUSTOM_NETWORK_SCALARS"
    )]
    pub custom_network_scalars: bool,
    /// The `filter:` argument (postgraphile-plugin-connection-filter's) and how it reads input
    #[command(flatten)]
    pub filter: filter::FilterFlags,
    /// A backward relation over a unique key (one row): `deprecated` gives the single-row
    /// field and the connection (v4's default), `omit` the single-row field only, `only` the
    /// connection only
    #[arg(
        long = "legacy-relations",
        env = "POSTGRAPH_LEGACY_RELATIONS",
        value_enum,
        default_value_t
    )]
    pub legacy_relations: LegacyRelations,
    /// Expose a partitioned table itself and hide its partitions (by default, as in v4, the
    /// partitions are exposed and the partitioned table is not)
    #[arg(
        long = "use-partitioned-parent",
        env = "POSTGRAPH_USE_PARTITIONED_PARENT"
    )]
    pub use_partitioned_parent: bool,
    /// A column name that orders a view's rows uniquely when no other order does (v4's
    /// `viewUniqueKey`; a view's `@uniqueKey` smart tag names its own)
    #[arg(long = "view-unique-key", env = "POSTGRAPH_VIEW_UNIQUE_KEY")]
    pub view_unique_key: Option<String>,
    /// line, lseg, box, path, polygon and circle as v4's `Line`, `LineSegment`, `Box`,
    /// `Path`, `Polygon` and `Circle` objects (v4's `pgGeometricTypes`) rather than strings
    #[arg(long = "pg-geometric-types", env = "POSTGRAPH_PG_GEOMETRIC_TYPES")]
    pub pg_geometric_types: bool,
}

/// `--legacy-relations` (v4's values): how a one-to-one backward relation is offered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LegacyRelations {
    Omit,
    #[default]
    Deprecated,
    Only,
}

/// `--simple-collections` and the `@simpleCollections` smart tag (v4's values): whether a
/// collection is offered as a connection (`allPosts`), as a plain list (`allPostsList`), or both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SimpleCollections {
    /// Connections only (v4's default).
    #[default]
    Omit,
    Both,
    /// Lists only.
    Only,
}

impl SimpleCollections {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "omit" => Some(Self::Omit),
            "both" => Some(Self::Both),
            "only" => Some(Self::Only),
            _ => None,
        }
    }
    pub fn connections(self) -> bool {
        self != Self::Only
    }
    pub fn lists(self) -> bool {
        self != Self::Omit
    }
}
