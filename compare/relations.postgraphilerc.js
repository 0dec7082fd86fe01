// PostGraphile's side of `PGRAPH_FLAGS=--connection-filter-relations`: the plugin's option
// goes through graphileBuildOptions. Run (with the plugin appended as usual):
//   V4_RC=compare/relations.postgraphilerc.js QUERIES=compare/queries_relations \
//   V4_ONLY_FLAGS="--append-plugins postgraphile-plugin-connection-filter" \
//   PGRAPH_FLAGS=--connection-filter-relations compare/run.sh tests/fixtures/filter.sql
module.exports = {
  options: {
    graphileBuildOptions: { connectionFilterRelations: true },
  },
};
