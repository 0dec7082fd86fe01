//! Test harness: one embedded cluster per test binary, the example app migrated once into a
//! template database, and per test a fresh clone of it served by a real postgraph over HTTP.
#![allow(dead_code)]

pub mod ws;

use postgraph::auth::JwtConfig;
use postgraph::config::example;
use postgraph::db::{self, embedded::EmbeddedOptions, embedded::EmbeddedPostgres};
use postgraph::graphql::limits::Limits;
use postgraph::http::HttpOptions;
use postgraph::server::{self, EngineConfig, Running};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::OnceCell;

pub const SECRET: &str = "test-secret-that-is-long-enough-for-hs256";
const TEMPLATE: &str = "app_template";

static CLUSTER: OnceCell<EmbeddedPostgres> = OnceCell::const_new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

pub async fn cluster() -> &'static EmbeddedPostgres {
    CLUSTER
        .get_or_init(|| async {
            let opts = EmbeddedOptions::default()
                .setting("shared_preload_libraries", "pg_stat_statements")
                .setting("pg_stat_statements.track_utility", "on")
                .setting("pg_stat_statements.track_planning", "on");
            let pg = EmbeddedPostgres::start(opts)
                .await
                .expect("embedded postgres");
            pg.create_database(TEMPLATE, None)
                .await
                .expect("template db");
            let mut admin = db::connect(&pg.connection_string(pg.superuser(), TEMPLATE))
                .await
                .expect("connect template");
            db::migrate_example(&mut admin).await.expect("migrations");
            admin
                .batch_execute("create extension if not exists pg_stat_statements")
                .await
                .expect("pg_stat_statements");
            drop(admin);
            pg
        })
        .await
}

/// A fresh database cloned from the migrated template, and a postgraph serving it.
pub struct TestApp {
    pub running: Running,
    pub http: reqwest::Client,
    pub database: String,
    /// Superuser connection string into this test's database (for setup and checks).
    pub admin_url: String,
    pub authenticator_url: String,
}

pub struct Options {
    pub max_pool_size: usize,
    pub body_limit: u64,
    /// SQL run as superuser before the engine introspects.
    pub setup_sql: Option<&'static str>,
    pub statement_timeout_ms: u64,
    pub pool_timeout_ms: u64,
    pub limits: Limits,
    pub max_page_size: Option<i64>,
    /// `--max-groups`; the default's 1000 unless a test sets it.
    pub max_groups: Option<i64>,
    /// `--production`: introspection and GraphiQL off, internal error detail hidden.
    pub production: bool,
    /// How tokens are verified and signed (the test secret, otherwise the defaults).
    pub jwt: JwtConfig,
    /// `--metrics`: serve `/metrics`.
    pub metrics: bool,
    /// `--cors-origin`s; none: `--cors` (any origin).
    pub cors_origins: Vec<&'static str>,
    /// `--disable-default-mutations`.
    pub disable_default_mutations: bool,
    /// `--simple-collections` and the other v4 schema options.
    pub schema_flags: postgraph::schema::SchemaFlags,
    /// `--extended-errors`.
    pub extended_errors: Vec<&'static str>,
    /// `--pre-request` (the example app has `app_private.check_session`).
    pub pre_request: Option<&'static str>,
    /// `--jwt-cookie`: the token cookie's name.
    pub jwt_cookie: Option<&'static str>,
    /// `--insecure-cookies`: cookies without `Secure`.
    pub insecure_cookies: bool,
    /// `--simple-subscriptions`: the `Subscription` root with `listen(topic:)`.
    pub simple_subscriptions: bool,
    /// WebSocket limits (the LISTEN connection is filled in).
    pub ws: postgraph::ws::WsOptions,
    /// `--header-timeout`, `--body-timeout` (ms, 0: none) and `--max-connections` (0: no cap).
    pub header_timeout_ms: u64,
    pub body_timeout_ms: u64,
    pub max_connections: usize,
    /// `--read-replica`s, `--replica-max-lag`, `--pooler`.
    pub scale: server::ScaleConfig,
    /// `--listen-connection`: the LISTEN connection's own (default: the engine's).
    pub listen_connection: Option<String>,
    /// A GET of this path panics in the handler (tests of the panic guard).
    pub panic_path: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_pool_size: 4,
            body_limit: 100 * 1024,
            setup_sql: None,
            statement_timeout_ms: 10_000,
            pool_timeout_ms: 5_000,
            limits: Limits::default(),
            max_page_size: Some(i64::from(postgraph::config::DEFAULT_MAX_PAGE_SIZE)),
            max_groups: Some(i64::from(postgraph::config::DEFAULT_MAX_GROUPS)),
            production: false,
            jwt: JwtConfig {
                secret: Some(SECRET.into()),
                ..JwtConfig::default()
            },
            metrics: false,
            cors_origins: vec![],
            disable_default_mutations: false,
            schema_flags: Default::default(),
            extended_errors: vec![],
            pre_request: None,
            jwt_cookie: None,
            insecure_cookies: false,
            simple_subscriptions: false,
            ws: postgraph::ws::WsOptions::default(),
            header_timeout_ms: postgraph::config::DEFAULT_HEADER_TIMEOUT_MS,
            body_timeout_ms: postgraph::config::DEFAULT_BODY_TIMEOUT_MS,
            max_connections: postgraph::config::DEFAULT_MAX_CONNECTIONS,
            scale: Default::default(),
            listen_connection: None,
            panic_path: None,
        }
    }
}

pub async fn app() -> TestApp {
    app_with(Options::default()).await
}

pub async fn app_with(opts: Options) -> TestApp {
    try_app_with(opts).await.expect("server")
}

/// [`app_with`], returning the startup error instead of panicking on it.
pub async fn try_app_with(opts: Options) -> Result<TestApp, server::StartError> {
    let (database, admin_url, authenticator_url) = fresh_database(opts.setup_sql).await;
    let running = serve(&authenticator_url, &opts).await?;
    Ok(TestApp {
        running,
        http: reqwest::Client::new(),
        database,
        admin_url,
        authenticator_url,
    })
}

/// A fresh clone of the migrated template (`setup_sql` run in it as superuser): its name, and
/// the superuser's and the authenticator's connection strings.
pub async fn fresh_database(setup_sql: Option<&str>) -> (String, String, String) {
    let pg = cluster().await;
    let database = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    );
    pg.create_database(&database, Some(TEMPLATE))
        .await
        .expect("clone template");
    let admin_url = pg.connection_string(pg.superuser(), &database);
    if let Some(sql) = setup_sql {
        let admin = db::connect(&admin_url).await.expect("admin");
        admin.batch_execute(sql).await.expect("setup sql");
    }
    let authenticator_url = pg.connection_string(example::AUTHENTICATOR, &database);
    (database, admin_url, authenticator_url)
}

/// A postgraph serving the example app's schema through `connection` (the authenticator's),
/// configured by `opts`.
pub async fn serve(connection: &str, opts: &Options) -> Result<Running, server::StartError> {
    let engine = server::build_engine(&engine_config(connection, opts)).await?;
    server::start(
        engine,
        HttpOptions {
            body_limit: opts.body_limit,
            graphiql: !opts.production,
            cors: opts.cors_origins.is_empty(),
            cors_origins: opts.cors_origins.iter().map(|o| o.to_string()).collect(),
            metrics: opts.metrics,
            jwt_cookie: opts.jwt_cookie.map(str::to_owned),
            insecure_cookies: opts.insecure_cookies,
            ws: postgraph::ws::WsOptions {
                listen_connection: Some(
                    opts.listen_connection
                        .clone()
                        .unwrap_or_else(|| connection.to_string()),
                ),
                ..opts.ws.clone()
            },
            header_timeout: postgraph::config::timeout(opts.header_timeout_ms),
            body_timeout: postgraph::config::timeout(opts.body_timeout_ms),
            max_connections: (opts.max_connections > 0).then_some(opts.max_connections),
            panic_path: opts.panic_path.clone(),
            ..HttpOptions::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
}

/// The engine configuration [`serve`] starts with.
pub fn engine_config(connection: &str, opts: &Options) -> EngineConfig {
    EngineConfig {
        connection: connection.to_string(),
        schemas: vec!["app_public".into()],
        jwt_token_identifier: Some(example::JWT_TOKEN_IDENTIFIER.into()),
        disable_default_mutations: opts.disable_default_mutations,
        simple_subscriptions: opts.simple_subscriptions,
        schema_flags: opts.schema_flags.clone(),
        jwt: opts.jwt.clone(),
        default_role: Some(example::DEFAULT_ROLE.into()),
        max_pool_size: opts.max_pool_size,
        statement_timeout_ms: opts.statement_timeout_ms,
        pool_timeout_ms: opts.pool_timeout_ms,
        limits: Limits {
            introspection: opts.limits.introspection && !opts.production,
            ..opts.limits.clone()
        },
        max_page_size: opts.max_page_size,
        max_groups: opts.max_groups,
        production: opts.production,
        extended_errors: opts.extended_errors.iter().map(|f| f.to_string()).collect(),
        scale: opts.scale.clone(),
        pre_request: opts.pre_request.map(str::to_owned),
    }
}

/// A response as the client sees it.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
    pub fn errors(&self) -> Option<&Vec<Value>> {
        self.body["errors"].as_array()
    }
    pub fn first_error_code(&self) -> Option<&str> {
        self.errors()?.first()?["extensions"]["code"].as_str()
    }
}

impl TestApp {
    pub fn url(&self) -> String {
        self.running.url()
    }

    pub async fn post_raw(
        &self,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.http.post(self.url()).body(body);
        let mut has_ct = false;
        for (k, v) in headers {
            has_ct |= k.eq_ignore_ascii_case("content-type");
            req = req.header(*k, *v);
        }
        if !has_ct {
            req = req.header("content-type", "application/json");
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("response is not JSON: {text}"));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Reply {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![];
        if let Some(b) = &bearer {
            headers.push(("authorization", b.as_str()));
        }
        self.post_raw(
            json!({"query": query, "variables": variables}).to_string(),
            &headers,
        )
        .await
    }

    /// Runs `sql` as superuser in this test's database and returns the first column of each row as JSON.
    pub async fn sql(&self, sql: &str) -> Vec<Value> {
        sql_at(&self.admin_url, sql).await
    }

    /// Statements this test's database has seen from anyone but the superuser.
    pub async fn statement_count(&self, like: &str) -> i64 {
        let client = db::connect(&self.admin_url).await.expect("admin");
        let row = client
            .query_one(
                "select coalesce(sum(calls), 0)::int8 from pg_stat_statements s join pg_database d on d.oid = s.dbid \
                 where d.datname = current_database() and s.userid <> 'postgres'::regrole and s.query like $1",
                &[&like],
            )
            .await
            .expect("pg_stat_statements");
        row.get(0)
    }

    /// Executions and plannings of this database's statements whose text matches `like`.
    pub async fn statement_plans(&self, like: &str) -> (i64, i64) {
        let client = db::connect(&self.admin_url).await.expect("admin");
        let row = client
            .query_one(
                "select coalesce(sum(calls), 0)::int8, coalesce(sum(plans), 0)::int8 \
                 from pg_stat_statements s join pg_database d on d.oid = s.dbid \
                 where d.datname = current_database() and s.userid <> 'postgres'::regrole and s.query like $1",
                &[&like],
            )
            .await
            .expect("pg_stat_statements");
        (row.get(0), row.get(1))
    }

    pub async fn signup(&self, username: &str) -> String {
        let r = self
            .gql(
                "mutation($u: String!, $e: String!) { signup(input: {username: $u, email: $e, password: \"correct horse battery\"}) { jwtToken } }",
                json!({"u": username, "e": format!("{username}@example.com")}),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.data()["signup"]["jwtToken"]
            .as_str()
            .unwrap_or_else(|| panic!("no token: {}", r.body))
            .to_string()
    }
}

/// Decodes a token's claims without verifying (tests check what was signed).
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64"),
    )
    .expect("json")
}

/// A new empty database in the test cluster; returns its superuser connection string.
pub async fn empty_database() -> String {
    let pg = cluster().await;
    let database = format!(
        "empty_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    );
    pg.create_database(&database, None)
        .await
        .expect("create database");
    pg.connection_string(pg.superuser(), &database)
}

/// Runs `sql` as superuser through `url` and returns the rows as JSON.
pub async fn sql_at(url: &str, sql: &str) -> Vec<Value> {
    let client = db::connect(url).await.expect("connect");
    let rows = client
        .query(&format!("select to_json(x)::text from ({sql}) as x"), &[])
        .await
        .expect("sql");
    rows.iter()
        .map(|r| serde_json::from_str(&r.get::<_, String>(0)).unwrap())
        .collect()
}
