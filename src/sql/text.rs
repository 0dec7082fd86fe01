//! Statement text that several layers need (transaction control, introspection, the embedded
//! cluster's databases, LISTEN, claims as settings): a leaf module that imports nothing of the
//! engine, so `catalog`, `db` and `exec` can use it without depending on `plan`.

use std::fmt::Write as _;

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A string literal for catalog-derived constants (response keys, enum labels); request
/// values never go through here.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One `@enum` table whose rows the catalog reads at startup.
pub struct EnumTableSource<'a> {
    /// Its place in the statement, returned with each row.
    pub source: usize,
    pub schema: &'a str,
    pub table: &'a str,
    /// The text key column (None: the values are null).
    pub key: Option<&'a str>,
    /// Its `description` column, if it has one.
    pub description: Option<&'a str>,
}

/// The rows of every `@enum` table in one statement: `sql/enum_table_values.sql` per table,
/// joined with `union all`.
pub fn enum_table_values(tables: &[EnumTableSource<'_>]) -> String {
    const VALUES: &str = include_str!("../../sql/enum_table_values.sql");
    let template: String = VALUES
        .lines()
        .filter(|l| !l.starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let column = |c: Option<&str>| c.map_or_else(|| "null".into(), quote_ident);
    tables
        .iter()
        .map(|t| {
            template
                .replace("{source}", &t.source.to_string())
                .replace("{key}", &column(t.key))
                .replace("{description}", &column(t.description))
                .replace(
                    "{table}",
                    &format!("{}.{}", quote_ident(t.schema), quote_ident(t.table)),
                )
        })
        .collect::<Vec<_>>()
        .join("\nunion all\n")
}

/// The introspection query; takes `$1::text[]` (schemas to expose) and returns
/// one row with one `json` column, `catalog`.
pub const INTROSPECTION_SQL: &str = include_str!("../../sql/introspection.sql");

/// Opens the short transaction the introspection query runs in: one snapshot for the catalog,
/// its fingerprint and the enum tables' rows. JIT compilation is off: on servers with LLVM it
/// would cost far more than the query itself on large catalogs.
pub const INTROSPECTION_BEGIN: &str =
    "begin isolation level repeatable read read only; set local jit = off";
/// The connecting role: the role of requests without a token when none is configured.
/// The database's own schemas (not Postgres' system ones), to check `--schema` against.
pub const USER_SCHEMAS: &str = "select nspname::text from pg_namespace \
    where nspname !~ '^pg_' and nspname <> 'information_schema' order by 1";
pub const CURRENT_USER: &str = "select current_user::text";

/// `create database "name" [template "template"]` (the embedded cluster's databases).
pub fn create_database(name: &str, template: Option<&str>) -> String {
    match template {
        Some(t) => format!(
            "create database {} template {}",
            quote_ident(name),
            quote_ident(t)
        ),
        None => format!("create database {}", quote_ident(name)),
    }
}

/// `drop database if exists "name" with (force)` (terminates its sessions).
pub fn drop_database(name: &str) -> String {
    format!("drop database if exists {} with (force)", quote_ident(name))
}

/// `LISTEN "channel"`: the subscriptions' connection waits for `NOTIFY`s on it.
pub fn listen(channel: &str) -> String {
    format!("listen {}", quote_ident(channel))
}

/// `UNLISTEN "channel"`: its last subscriber is gone.
pub fn unlisten(channel: &str) -> String {
    format!("unlisten {}", quote_ident(channel))
}

/// The `--pre-request` function, `schema.function` (either part may be double-quoted), as its
/// schema and name.
pub fn pre_request(function: &str) -> Result<(String, String), String> {
    let bad = || format!("--pre-request `{function}` must be `schema.function`");
    let (schema, name) = function.split_once('.').ok_or_else(bad)?;
    let unquote = |s: &str| {
        let s = s.trim();
        s.strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .map(|s| s.replace("\"\"", "\""))
            .unwrap_or_else(|| s.to_string())
    };
    let (schema, name) = (unquote(schema), unquote(name));
    if schema.is_empty() || name.is_empty() || name.contains('.') {
        return Err(bad());
    }
    Ok((schema, name))
}

/// The `--pre-request` function (see [`pre_request`]) as an expression: `"schema"."name"()`.
pub fn pre_request_function(schema: &str, name: &str) -> String {
    format!("{}.{}()", quote_ident(schema), quote_ident(name))
}

/// The call of the `--pre-request` function (see [`pre_request_function`]) as a statement of
/// its own, run in a request's transaction after the claims are set.
pub fn pre_request_call(function: &str) -> String {
    format!("select {function}")
}

/// A read's statement (one row of one column) with the `--pre-request` function run first, in
/// the same statement: the function is the statement's row source, so it runs (and may refuse)
/// before the query, an InitPlan evaluated only when that row is projected. As a FROM item it
/// is never planned away (an unreferenced output of a subquery may be).
pub fn read_after_pre_request(function: &str, statement: &str) -> String {
    format!("select ({statement}) from {function} as __pre_request")
}

/// The `--pre-request` function taking no arguments (`$1` schema, `$2` name): whether it is
/// plain (neither a set nor IMMUTABLE, whose call a prepared plan would fold into a constant),
/// so that it can be prepared; no row when there is no such function. Read from the catalog,
/// which the authenticator may read without rights on the schema.
pub const PRE_REQUEST_FUNCTION: &str = "select not p.proretset and p.provolatile <> 'i' \
     from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace \
     where n.nspname = $1 and p.proname = $2 and p.pronargs = 0";

/// Opens a request's transaction; `RESET ALL` drops anything a previous request's function set
/// at session level, so pooled connections never carry settings from one request to the next.
pub const BEGIN: &str = "begin; reset all";
/// The same for a query: a read-only transaction, so that a function marked STABLE that
/// writes anyway fails (25006) instead of writing.
pub const BEGIN_READ_ONLY: &str = "begin read only; reset all";
pub const COMMIT: &str = "commit";
/// What `/ready` asks the database: any answer will do.
pub const PING: &str = "select 1";
/// Commits and reads the primary's WAL insert position, which is past the commit record, in
/// one message: the position a replica must have replayed to show what was written.
pub const COMMIT_POSITION: &str = "commit; select pg_current_wal_insert_lsn()::text";
/// The primary's WAL insert position: past every commit so far (an event's, say).
pub const INSERT_POSITION: &str = "select pg_current_wal_insert_lsn()::text";
/// The primary's WAL position as sampled by the replica monitor (what has been written).
pub const PRIMARY_POSITION: &str = "select pg_current_wal_lsn()::text";
/// Whether a server is a standby, and how far it has replayed the primary's WAL.
pub const REPLICA_STATUS: &str = "select pg_is_in_recovery()::text, pg_last_wal_replay_lsn()::text";
pub const ROLLBACK: &str = "rollback";
/// This session's server process: two sessions of a transaction pooler may share one.
pub const BACKEND_PID: &str = "select pg_backend_pid()::text";
/// The same inside a transaction, which holds the server connection until it ends.
pub const BEGIN_BACKEND_PID: &str = "begin; select pg_backend_pid()::text";
/// Before the `i`th root field of a mutation with several. Each has its own name, so going
/// back to one never stops at a later field's savepoint.
pub fn savepoint(i: usize) -> String {
    format!("savepoint postgraph_mutation_{i}")
}
/// Undoes the `i`th root field of a mutation and all after it.
pub fn rollback_to_savepoint(i: usize) -> String {
    format!("rollback to savepoint postgraph_mutation_{i}")
}

/// The text an update or delete that matched no row fails on: its statement casts it to an
/// integer (22P02, naming it), so the transaction aborts and a COMMIT pipelined behind it rolls
/// back, with no round trip to decide. Plain SQL has no `raise`; a cast of a value only known
/// at run time is not folded away when the statement is planned.
pub const NO_ROW_MATCHED: &str = "postgraph: no row matched";

/// Applies role, statement timeout and `settings` claims, transaction-local (`true`), all as
/// parameters: `$1` role, `$2` statement_timeout, then a name and a value per setting. One
/// statement per number of settings (each prepared once per connection): plain
/// `set_config` calls cost Postgres less than unnesting arrays.
pub fn set_session(settings: usize) -> &'static str {
    static CACHE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    const CACHED: usize = 32;
    let all = CACHE.get_or_init(|| (0..=CACHED).map(set_session_text).collect());
    match all.get(settings) {
        Some(s) => s,
        // Tokens with that many claims are rare: build (and keep) the text once.
        None => Box::leak(set_session_text(settings).into_boxed_str()),
    }
}

fn set_session_text(settings: usize) -> String {
    let mut s = String::from(
        "select set_config('role', $1, true), set_config('statement_timeout', $2, true)",
    );
    for i in 0..settings {
        let _ = write!(s, ", set_config(${}, ${}, true)", 3 + 2 * i, 4 + 2 * i);
    }
    s
}

/// `--watch`: installs the event triggers that NOTIFY [`WATCH_CHANNEL`] after DDL.
pub const WATCH_INSTALL_SQL: &str = include_str!("../../sql/watch_install.sql");
/// The catalog fingerprint (`$1`: the schemas): read with the catalog, and polled by `--watch`
/// without event triggers.
pub const CATALOG_FINGERPRINT_SQL: &str = include_str!("../../sql/catalog_fingerprint.sql");
/// Where the `--watch` event triggers NOTIFY.
pub const WATCH_CHANNEL: &str = "postgraph_watch";
/// Where `NOTIFY postgraph, 'reload schema'` asks every instance to reload (PostgREST's way).
pub const RELOAD_CHANNEL: &str = "postgraph";
