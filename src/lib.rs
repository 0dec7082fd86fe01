//! postgraph: a PostGraphile-style GraphQL engine for PostgreSQL.
//!
//! Code map (startup: config → db → catalog → schema → graphql → http; a request:
//! http → auth → graphql → plan → sql → exec → engine response):
//! - [`config`]: CLI flags and env vars.
//! - [`db`]: pool, migrations, embedded throwaway Postgres.
//! - [`catalog`]: one introspection query into typed structs.
//! - [`schema`]: catalog → GraphQL schema model; all naming in [`schema::inflect`].
//! - [`graphql`]: juniper runtime types, parse/validate, the walk into a selection tree.
//! - [`plan`]: selection tree → typed plan (arguments checked and coerced).
//! - [`sql`]: plan → SQL text and parameters (the only place request SQL is written).
//! - [`exec`]: the per-request transaction (role, claims, timeout), pipelined.
//! - [`auth`]: JWT verify/sign, claims → settings.
//! - [`engine`]: one request end to end; [`http`]: the warp edge; [`ws`]: GraphQL over
//!   WebSocket (subscriptions through one LISTEN connection).
//! - [`server`]: wiring it all together for `serve`, `demo` and the tests; [`live`]: schema
//!   reloads (`--watch`, `NOTIFY postgraph, 'reload schema'`, SIGHUP).

pub mod auth;
pub mod catalog;
pub mod config;
pub mod db;
pub mod engine;
pub mod exec;
pub mod graphql;
pub mod http;
pub mod live;
pub mod plan;
pub mod schema;
pub mod server;
pub mod sql;
pub mod ws;
