// PostGraphile v4 options that have no command-line flag, for by-hand comparisons run from
// this folder (see compare/README.md): connection-filter's relation filters, which
// pg-aggregates' filter by related aggregates needs.
module.exports = {
  options: {
    graphileBuildOptions: { connectionFilterRelations: true },
  },
};
