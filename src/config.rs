//! Command-line flags and environment variables: every option of every command, with defaults.

pub mod connection;
pub mod v4;

use crate::graphql::limits::Limits;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// `postgraph --version`: the crate's version and the commit it was built from (build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("POSTGRAPH_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "postgraph",
    version = VERSION,
    propagate_version = true,
    about = "A GraphQL API generated from your PostgreSQL schema"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines as text or as JSON objects (one per line, for a log collector)
    #[arg(long = "log-format", env = "POSTGRAPH_LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the GraphQL API of a database (--connection, DATABASE_URL or libpq's PG* variables)
    Serve(ServeOptions),
    /// Start a private Postgres with the example app and a few rows, and serve it
    Demo(ServeOptions),
    /// Apply refinery migrations from a folder
    Migrate(MigrateOptions),
    /// Write the generated GraphQL schema (SDL) to FILE, or to stdout
    ExportSchema(ExportOptions),
}

/// Options shared by everything that introspects a database.
#[derive(Debug, Clone, Args)]
pub struct DbOptions {
    /// The database: a name (`mydb`), a URL (`postgres://user:pass@host:5432/mydb`) or
    /// `key=value` pairs; what it leaves out comes from PGHOST, PGPORT, PGDATABASE, PGUSER and
    /// PGPASSWORD as libpq reads them
    #[arg(short = 'c', long = "connection", env = "DATABASE_URL")]
    pub connection: Option<String>,
    /// Comma-separated Postgres schemas to expose [default: public; the demo's: app_public]
    #[arg(
        short = 's',
        long = "schema",
        env = "POSTGRAPH_SCHEMA",
        value_delimiter = ','
    )]
    pub schemas: Vec<String>,
    /// Composite type whose values become signed JWTs, as `schema.type`
    #[arg(
        short = 't',
        long = "jwt-token-identifier",
        alias = "token",
        env = "JWT_TOKEN_IDENTIFIER"
    )]
    pub jwt_token_identifier: Option<String>,
    /// No create, update and delete mutations for tables (function mutations stay)
    #[arg(
        short = 'M',
        long = "disable-default-mutations",
        env = "POSTGRAPH_DISABLE_DEFAULT_MUTATIONS"
    )]
    pub disable_default_mutations: bool,
    /// PostGraphile v4's simple subscriptions: `subscription { listen(topic: "...") { ... } }`
    /// over WebSocket, fed by `NOTIFY "postgraphile:<topic>"`
    #[arg(long = "simple-subscriptions", env = "POSTGRAPH_SIMPLE_SUBSCRIPTIONS")]
    pub simple_subscriptions: bool,
    #[command(flatten)]
    pub schema_flags: crate::schema::SchemaFlags,
}

#[derive(Debug, Clone, Args)]
pub struct ServeOptions {
    #[command(flatten)]
    pub db: DbOptions,
    /// Address to listen on
    #[arg(short = 'n', long, env = "POSTGRAPH_HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on
    #[arg(short = 'p', long, env = "PORT", default_value_t = 5000)]
    pub port: u16,
    /// Secret for signing and verifying JWTs (HS256), at least 32 bytes
    #[arg(
        short = 'e',
        long = "jwt-secret",
        alias = "secret",
        env = "JWT_SECRET",
        hide_env_values = true,
        conflicts_with = "jwt_secret_file"
    )]
    pub jwt_secret: Option<String>,
    /// File holding the JWT secret (a trailing newline is ignored)
    #[arg(long = "jwt-secret-file", env = "JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,
    /// PEM private key (RSA, EC P-256/P-384, Ed25519) that signs tokens
    #[arg(long = "jwt-private-key", env = "JWT_PRIVATE_KEY")]
    pub jwt_private_key: Option<PathBuf>,
    /// PEM public key that verifies tokens; repeat for rotation (chosen by kid)
    #[arg(long = "jwt-public-key", env = "JWT_PUBLIC_KEY", value_delimiter = ',')]
    pub jwt_public_keys: Vec<PathBuf>,
    /// JWKS document whose keys verify tokens: a file path or an http:// URL (kept by its Cache-Control; re-fetched for an unknown kid)
    #[arg(long = "jwt-jwks-url", env = "JWT_JWKS_URL")]
    pub jwt_jwks_url: Option<String>,
    /// Least seconds between two JWKS re-fetches caused by tokens with an unknown kid
    #[arg(long = "jwt-jwks-cooldown", env = "JWT_JWKS_COOLDOWN", default_value_t = crate::auth::DEFAULT_JWKS_COOLDOWN_SECS)]
    pub jwt_jwks_cooldown: u64,
    /// Signing algorithm, and the only one accepted for keys of its kind [default: RS256/ES256/ES384/EdDSA by private key, else HS256; every algorithm of the key kind accepted]
    #[arg(long = "jwt-algorithm", env = "JWT_ALGORITHM", value_parser = parse_algorithm)]
    pub jwt_algorithm: Option<jsonwebtoken::Algorithm>,
    /// Audience: added to signed tokens and required of incoming ones. `postgraphile` makes
    /// tokens interchangeable with PostGraphile v4's (v4 signs and checks that audience)
    #[arg(
        short = 'A',
        long = "jwt-audience",
        aliases = ["jwt-verify-audience", "jwt-audiences"],
        env = "JWT_AUDIENCE",
        value_parser = parse_audience
    )]
    pub jwt_audience: Option<String>,
    /// Issuer: added to signed tokens and required of incoming ones
    #[arg(long = "jwt-issuer", alias = "jwt-verify-issuer", env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Clock-skew allowance for exp, nbf and iat, in seconds (0 allowed)
    #[arg(long = "jwt-leeway", alias = "jwt-verify-clock-tolerance", env = "JWT_LEEWAY", default_value_t = crate::auth::DEFAULT_LEEWAY_SECS)]
    pub jwt_leeway: u64,
    /// Accept incoming tokens that have no exp claim
    #[arg(long = "jwt-allow-missing-exp", env = "JWT_ALLOW_MISSING_EXP")]
    pub jwt_allow_missing_exp: bool,
    /// Lifetime of a signed token whose row has no exp: seconds, or with a unit (15m, 1h, 7d)
    #[arg(long = "jwt-expires-in", env = "JWT_EXPIRES_IN", default_value = "15m", value_parser = parse_duration_secs)]
    pub jwt_expires_in: u64,
    /// Claim naming the Postgres role; a leading dot makes it a path (.app.role)
    #[arg(long = "jwt-role-claim-key", env = "JWT_ROLE_CLAIM_KEY", default_value = crate::auth::DEFAULT_ROLE_CLAIM)]
    pub jwt_role_claim_key: String,
    /// Bind tokens to a random fingerprint cookie (OWASP token sidejacking): claim `fgp`
    #[arg(long = "jwt-fingerprint", env = "JWT_FINGERPRINT")]
    pub jwt_fingerprint: bool,
    /// Carry refresh tokens (result attributes tagged @refreshToken) in an HttpOnly cookie,
    /// never in a response body; SQL reads the incoming one as request.refresh_token
    #[arg(long = "jwt-refresh-cookie", env = "JWT_REFRESH_COOKIE")]
    pub jwt_refresh_cookie: bool,
    /// Lifetime of the browser session's cookies (fingerprint, refresh token), e.g. 30d
    #[arg(long = "jwt-session-lifetime", env = "JWT_SESSION_LIFETIME", default_value = "30d", value_parser = parse_duration_secs)]
    pub jwt_session_lifetime: u64,
    /// Role for requests without a token
    #[arg(short = 'r', long = "default-role", env = "DEFAULT_ROLE")]
    pub default_role: Option<String>,
    /// Maximum pooled database connections [default: 2 × CPU cores, at least 4]
    #[arg(short = 'm', long = "max-pool-size", env = "POSTGRAPH_MAX_POOL_SIZE")]
    pub max_pool_size: Option<usize>,
    /// On SIGTERM/SIGINT, how long requests in flight may take to finish, in ms
    #[arg(
        long = "shutdown-timeout",
        env = "POSTGRAPH_SHUTDOWN_TIMEOUT",
        default_value_t = 10_000
    )]
    pub shutdown_timeout_ms: u64,
    /// How long a request waits for a pooled connection before it is answered 504, in ms
    #[arg(long = "pool-timeout", env = "POSTGRAPH_POOL_TIMEOUT", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub pool_timeout_ms: u64,
    /// Per-transaction statement timeout in milliseconds (0 = none)
    #[arg(
        long = "statement-timeout",
        env = "POSTGRAPH_STATEMENT_TIMEOUT",
        default_value_t = 30_000
    )]
    pub statement_timeout_ms: u64,
    /// Largest accepted request body: bytes, or with a unit (200kB, 5MB)
    #[arg(short = 'l', long = "body-size-limit", env = "POSTGRAPH_BODY_SIZE_LIMIT", default_value = "100kB", value_parser = v4::parse_size)]
    pub body_size_limit: u64,
    /// Longest wait for a request's headers, in ms; an idle kept-alive connection is closed
    /// after it too (0 = none)
    #[arg(long = "header-timeout", env = "POSTGRAPH_HEADER_TIMEOUT", default_value_t = DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,
    /// Longest wait for a request's body once its headers are in, in ms; then 408 (0 = none)
    #[arg(long = "body-timeout", env = "POSTGRAPH_BODY_TIMEOUT", default_value_t = DEFAULT_BODY_TIMEOUT_MS)]
    pub body_timeout_ms: u64,
    /// Most client connections served at once; more wait to be accepted (0 = no cap)
    #[arg(long = "max-connections", env = "POSTGRAPH_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Allow cross-origin requests from any origin (CORS)
    #[arg(
        short = 'o',
        long,
        env = "POSTGRAPH_CORS",
        conflicts_with = "cors_origins"
    )]
    pub cors: bool,
    /// Allow cross-origin requests from this origin only, e.g. `https://app.example.com`;
    /// repeat (or comma-separate) for several
    #[arg(long = "cors-origin", env = "POSTGRAPH_CORS_ORIGIN", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,
    /// Also set a mutation's token in this HttpOnly cookie, and accept it from the cookie
    #[arg(long = "jwt-cookie", env = "JWT_COOKIE")]
    pub jwt_cookie: Option<String>,
    /// Cookies without `Secure`, for a local http server only
    #[arg(long = "insecure-cookies", env = "POSTGRAPH_INSECURE_COOKIES")]
    pub insecure_cookies: bool,
    /// Do not serve the GraphiQL IDE (served at /graphiql by default)
    #[arg(short = 'b', long = "no-graphiql", alias = "disable-graphiql", action = clap::ArgAction::SetFalse, default_value_t = true)]
    pub graphiql: bool,
    /// Serve Prometheus metrics at /metrics (requests by operation and status, latency,
    /// errors by code, pool connections)
    #[arg(long, env = "POSTGRAPH_METRICS")]
    pub metrics: bool,
    /// WebSocket connections this instance serves at once; more are closed with 1013
    #[arg(long = "max-sockets", env = "POSTGRAPH_MAX_SOCKETS", default_value_t = crate::ws::DEFAULT_MAX_SOCKETS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_sockets: usize,
    /// Operations (subscriptions, queries in flight) one WebSocket may have open at once
    #[arg(long = "max-subscriptions-per-socket", env = "POSTGRAPH_MAX_SUBSCRIPTIONS_PER_SOCKET", default_value_t = crate::ws::DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_subscriptions_per_socket: usize,
    #[command(flatten)]
    pub limits: LimitOptions,
    #[command(flatten)]
    pub v4: v4::V4Options,
    /// Production mode: no introspection, no GraphiQL, no suggestions in validation messages,
    /// and errors keep their code but not the server's internal detail
    #[arg(long, env = "POSTGRAPH_PRODUCTION")]
    pub production: bool,
    /// Postgres error fields added to GraphQL errors, comma-separated v4 names
    /// (errcode, detail, hint, where, table, column, constraint, ...)
    #[arg(
        long = "extended-errors",
        env = "POSTGRAPH_EXTENDED_ERRORS",
        value_delimiter = ',',
        value_parser = parse_error_field
    )]
    pub extended_errors: Vec<String>,
    /// A function (`schema.function`, no arguments) run in every request's transaction once
    /// the role and claims are set, as PostgREST's db-pre-request: raising SQLSTATE PT401
    /// answers 401 JWT_REVOKED, PT403 answers 403 [example app: app_private.check_session]
    #[arg(long = "pre-request", env = "POSTGRAPH_PRE_REQUEST")]
    pub pre_request: Option<String>,
    #[command(flatten)]
    pub scale: ScaleOptions,
    #[command(flatten)]
    pub live: LiveFlags,
}

/// Beyond one database server: read replicas and a transaction pooler in front (docs/deploying.md).
#[derive(Debug, Clone, Args)]
pub struct ScaleOptions {
    /// A streaming replica for queries (read-only transactions), as for --connection; repeat for several
    #[arg(long = "read-replica")]
    pub read_replicas: Vec<String>,
    /// A replica further behind the primary than this is skipped until it catches up (900ms, 5s, 1m)
    #[arg(long = "replica-max-lag", env = "POSTGRAPH_REPLICA_MAX_LAG", default_value = "5s", value_parser = parse_lag)]
    pub replica_max_lag: std::time::Duration,
    /// `transaction`: --connection is a transaction pooler (pgbouncer, Supavisor, RDS Proxy): no named statements kept
    #[arg(long = "pooler", env = "POSTGRAPH_POOLER", value_enum)]
    pub pooler: Option<Pooler>,
    /// Direct connection (not through a pooler) for the subscriptions' LISTEN [default: --connection]
    #[arg(long = "listen-connection", env = "POSTGRAPH_LISTEN_CONNECTION")]
    pub listen_connection: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pooler {
    Transaction,
}

/// `900ms`, `5s`, `1m` (a bare number is seconds).
fn parse_lag(s: &str) -> Result<std::time::Duration, String> {
    match s.trim().strip_suffix("ms") {
        Some(ms) => ms
            .parse()
            .map(std::time::Duration::from_millis)
            .map_err(|_| format!("`{s}` is not a duration (e.g. 900ms, 5s, 1m)")),
        None => parse_duration_secs(s).map(std::time::Duration::from_secs),
    }
}

/// The live schema (docs/live-schema.md): `NOTIFY postgraph, 'reload schema'` and SIGHUP always
/// reload; these make postgraph follow DDL by itself, as v4's `--watch` does.
#[derive(Debug, Clone, Args)]
pub struct LiveFlags {
    /// Follow DDL in the exposed schemas: event triggers when the role may install them, else a
    /// polled catalog fingerprint
    #[arg(short = 'w', long = "watch", env = "POSTGRAPH_WATCH")]
    pub watch: bool,
    /// Connection string of a role that may install --watch's event triggers (a superuser)
    #[arg(
        short = 'C',
        long = "owner-connection",
        env = "OWNER_DATABASE_URL",
        hide_env_values = true
    )]
    pub owner_connection: Option<String>,
    /// --watch without event triggers: how often the catalog fingerprint is compared, in ms
    #[arg(long = "watch-interval", env = "POSTGRAPH_WATCH_INTERVAL", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(100..))]
    pub watch_interval_ms: u64,
}

/// Limits against abusive queries: a query over one is refused (400) before any database
/// work. 0 turns a limit off.
#[derive(Debug, Clone, Args)]
pub struct LimitOptions {
    /// Deepest nesting of selections (fragments inlined)
    #[arg(long = "max-depth", env = "POSTGRAPH_MAX_DEPTH", default_value_t = Limits::DEFAULT_MAX_DEPTH)]
    pub max_depth: usize,
    /// Most aliases in an operation (fragments counted once per spread)
    #[arg(long = "max-aliases", env = "POSTGRAPH_MAX_ALIASES", default_value_t = Limits::DEFAULT_MAX_ALIASES)]
    pub max_aliases: usize,
    /// Most selected fields in an operation (fragments counted once per spread)
    #[arg(long = "max-fields", env = "POSTGRAPH_MAX_FIELDS", default_value_t = Limits::DEFAULT_MAX_FIELDS)]
    pub max_fields: usize,
    /// Most directives in an operation (fragments counted once per spread)
    #[arg(long = "max-directives", env = "POSTGRAPH_MAX_DIRECTIVES", default_value_t = Limits::DEFAULT_MAX_DIRECTIVES)]
    pub max_directives: usize,
    /// Most lexical tokens in a query document
    #[arg(long = "max-tokens", env = "POSTGRAPH_MAX_TOKENS", default_value_t = Limits::DEFAULT_MAX_TOKENS)]
    pub max_tokens: usize,
    /// Largest page of a connection: `first`/`last` over it are refused, and a connection
    /// with neither returns at most this many rows
    #[arg(long = "max-page-size", env = "POSTGRAPH_MAX_PAGE_SIZE", default_value_t = DEFAULT_MAX_PAGE_SIZE)]
    pub max_page_size: u32,
    /// Most groups one `groupedAggregates` may return: beyond it the field is an error
    /// (TOO_MANY_GROUPS), never a silently cut list; 0: no cap
    #[arg(long = "max-groups", env = "POSTGRAPH_MAX_GROUPS", default_value_t = DEFAULT_MAX_GROUPS)]
    pub max_groups: u32,
}

/// The default `--max-page-size`: large enough for any list a screen shows, small enough
/// that one connection cannot make Postgres build a response of millions of rows.
pub const DEFAULT_MAX_PAGE_SIZE: u32 = 1000;
/// The default `--max-groups`: as many groups as the default page has rows.
pub const DEFAULT_MAX_GROUPS: u32 = 1000;
/// `--body-size-limit`: 100 KB.
pub const DEFAULT_BODY_SIZE_LIMIT: u64 = 100 * 1024;
/// `--header-timeout`: 10 s.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// `--body-timeout`: 30 s.
pub const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
/// `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// A timeout flag in ms as a duration; 0 is none.
pub fn timeout(ms: u64) -> Option<std::time::Duration> {
    (ms > 0).then(|| std::time::Duration::from_millis(ms))
}

impl LimitOptions {
    /// The document limits, with introspection allowed unless `production`.
    pub fn limits(&self, production: bool) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_aliases: self.max_aliases,
            max_fields: self.max_fields,
            max_directives: self.max_directives,
            max_tokens: self.max_tokens,
            introspection: !production,
        }
    }
    /// The page cap for the planner (None when 0).
    pub fn max_page_size(&self) -> Option<i64> {
        (self.max_page_size > 0).then_some(i64::from(self.max_page_size))
    }
    /// The groups cap for the planner (None when 0).
    pub fn max_groups(&self) -> Option<i64> {
        (self.max_groups > 0).then_some(i64::from(self.max_groups))
    }
}

#[derive(Debug, Clone, Args)]
pub struct MigrateOptions {
    /// PostgreSQL connection string (a role allowed to create the objects)
    #[arg(short = 'c', long = "connection", env = "DATABASE_URL")]
    pub connection: String,
    /// Folder of refinery migrations (`V1__name.sql`, ...)
    #[arg(long, default_value = "migrations")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct ExportOptions {
    #[command(flatten)]
    pub db: DbOptions,
    /// Output file; stdout when omitted
    pub file: Option<PathBuf>,
}

/// `HS256`, `RS256`, `ES384`, `EdDSA`, ... (`none` is not an algorithm).
pub fn parse_algorithm(s: &str) -> Result<jsonwebtoken::Algorithm, String> {
    use jsonwebtoken::Algorithm::*;
    match s.parse() {
        Ok(a @ (HS256 | HS384 | HS512 | RS256 | RS384 | RS512 | ES256 | ES384 | EdDSA)) => Ok(a),
        _ => Err(format!(
            "`{s}`: use HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384 or EdDSA"
        )),
    }
}

/// One audience (v4's `--jwt-verify-audience` takes a list; postgraph checks one).
fn parse_audience(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s.contains(',') {
        return Err(format!(
            "`{s}`: give one audience (postgraph signs it into tokens and requires it of incoming ones; `postgraphile` is v4's)"
        ));
    }
    Ok(s.to_string())
}

/// One `--extended-errors` field: a name v4 knows for a Postgres error field.
fn parse_error_field(s: &str) -> Result<String, String> {
    let s = s.trim();
    match crate::exec::ERROR_FIELDS.iter().find(|f| **f == s) {
        Some(f) => Ok(f.to_string()),
        None => Err(format!(
            "unknown error field `{s}`; expected some of {}",
            crate::exec::ERROR_FIELDS.join(", ")
        )),
    }
}

/// `900`, `900s`, `15m`, `1h`, `7d` → seconds (at least 1).
pub fn parse_duration_secs(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 900, 15m, 1h, 7d)"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{s}`: the unit must be s, m, h or d")),
    };
    match n.checked_mul(scale) {
        Some(0) => Err("the duration must be at least one second".into()),
        Some(secs) => Ok(secs),
        None => Err(format!("`{s}` is too long")),
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, no path, no trailing slash.
fn parse_origin(s: &str) -> Result<String, String> {
    let s = s.trim();
    let bad = || {
        format!(
            "`{s}` is not an origin like https://app.example.com (scheme://host[:port], no path)"
        )
    };
    let (scheme, rest) = s.split_once("://").ok_or_else(bad)?;
    let host_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !matches!(scheme, "http" | "https") || !host_ok {
        return Err(bad());
    }
    Ok(s.to_ascii_lowercase())
}

/// The pool size when none is given: two connections per core, at least 4. Enough to keep
/// a database's cores busy while other requests wait on the network, and no more: each
/// connection beyond what Postgres can run at once adds a runnable backend, and on a small
/// machine shared with Postgres those get preempted mid-statement. With 2 cores, 5
/// connections let single statements stall for 100-800 ms now and then under load; 4 did not
/// (bench/README.md).
pub fn default_pool_size() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    (2 * cores).max(4)
}

/// Settings of the embedded example app: what `serve` and `demo` use when no connection is given.
pub mod example {
    pub const DATABASE: &str = "postgraph";
    /// The schema the example app exposes (`demo`'s default `--schema`).
    pub const SCHEMA: &str = "app_public";
    pub const AUTHENTICATOR: &str = "app_authenticator";
    pub const DEFAULT_ROLE: &str = "app_anonymous";
    pub const JWT_TOKEN_IDENTIFIER: &str = "app_public.jwt_token";
    /// A development-only secret: the embedded database lives only as long as the process.
    /// At least 32 bytes, as every HMAC secret must be.
    pub const JWT_SECRET: &str = "postgraph-demo-secret-change-me-before-production";
    /// The example app's session check: an access token of a revoked session version is 401.
    pub const PRE_REQUEST: &str = "app_private.check_session";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("900"), Ok(900));
        assert_eq!(parse_duration_secs("900s"), Ok(900));
        assert_eq!(parse_duration_secs("15m"), Ok(900));
        assert_eq!(parse_duration_secs("1h"), Ok(3600));
        assert_eq!(parse_duration_secs(" 7d "), Ok(7 * 86_400));
        for bad in [
            "",
            "0",
            "0m",
            "m",
            "15 m",
            "1.5h",
            "-1",
            "3w",
            "99999999999999999999d",
        ] {
            assert!(parse_duration_secs(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn algorithms() {
        use jsonwebtoken::Algorithm;
        assert_eq!(parse_algorithm("HS512"), Ok(Algorithm::HS512));
        assert_eq!(parse_algorithm("EdDSA"), Ok(Algorithm::EdDSA));
        for bad in ["none", "None", "PS256", "hs256", ""] {
            assert!(parse_algorithm(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn jwt_flags_parse_with_their_defaults() {
        let cli = Cli::try_parse_from(["postgraph", "serve"]).unwrap();
        let Command::Serve(o) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(o.jwt_leeway, crate::auth::DEFAULT_LEEWAY_SECS);
        assert_eq!(o.jwt_expires_in, crate::auth::DEFAULT_EXPIRES_IN_SECS);
        assert_eq!(o.jwt_role_claim_key, "role");
        assert!(!o.jwt_allow_missing_exp);
        let cli = Cli::try_parse_from([
            "postgraph",
            "serve",
            "--jwt-leeway",
            "0",
            "--jwt-expires-in",
            "1h",
            "--jwt-public-key",
            "a.pem",
            "--jwt-public-key",
            "b.pem",
            "--jwt-role-claim-key",
            ".app.role",
        ])
        .unwrap();
        let Command::Serve(o) = cli.command else {
            panic!("not serve")
        };
        assert_eq!((o.jwt_leeway, o.jwt_expires_in), (0, 3600));
        assert_eq!(o.jwt_public_keys.len(), 2);
        assert_eq!(o.jwt_role_claim_key, ".app.role");
    }

    #[test]
    fn scale_out_flags() {
        let cli = Cli::try_parse_from([
            "postgraph",
            "serve",
            "--read-replica",
            "postgres://r1/app",
            "--read-replica",
            "host=r2 port=5433 dbname=app",
            "--replica-max-lag",
            "900ms",
            "--pooler",
            "transaction",
            "--listen-connection",
            "postgres://primary/app",
        ])
        .unwrap();
        let Command::Serve(o) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(
            o.scale.read_replicas,
            ["postgres://r1/app", "host=r2 port=5433 dbname=app"]
        );
        assert_eq!(
            o.scale.replica_max_lag,
            std::time::Duration::from_millis(900)
        );
        assert_eq!(o.scale.pooler, Some(Pooler::Transaction));
        assert_eq!(
            o.scale.listen_connection.as_deref(),
            Some("postgres://primary/app")
        );
        let cli = Cli::try_parse_from(["postgraph", "serve"]).unwrap();
        let Command::Serve(o) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(o.scale.replica_max_lag, std::time::Duration::from_secs(5));
        assert!(o.scale.read_replicas.is_empty() && o.scale.pooler.is_none());
        for bad in [["--pooler", "session"], ["--replica-max-lag", "soon"]] {
            let mut args = vec!["postgraph", "serve"];
            args.extend(bad);
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn cookie_and_cors_flags() {
        let cli = Cli::try_parse_from([
            "postgraph",
            "serve",
            "--jwt-cookie",
            "jwt",
            "--jwt-fingerprint",
            "--cors-origin",
            "https://a.example,https://b.example",
        ])
        .unwrap();
        let Command::Serve(o) = cli.command else {
            panic!("not serve")
        };
        assert_eq!(o.jwt_cookie.as_deref(), Some("jwt"));
        assert!(o.jwt_fingerprint && !o.insecure_cookies && !o.cors);
        assert_eq!(o.cors_origins, ["https://a.example", "https://b.example"]);
        // Any origin and exact origins exclude each other.
        assert!(Cli::try_parse_from([
            "postgraph",
            "serve",
            "--cors",
            "--cors-origin",
            "https://a.example"
        ])
        .is_err());
    }
}
