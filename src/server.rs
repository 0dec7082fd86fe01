//! Wiring: connect, introspect, build the schema and the engine, serve; plus the embedded
//! example app that `serve`/`demo` (without --connection) and the tests start.

use crate::auth::{Auth, AuthError, JwtConfig};
use crate::catalog::{self, CatalogError};
use crate::config::example;
use crate::db::replicas::Replicas;
use crate::db::{self, embedded::EmbeddedOptions, embedded::EmbeddedPostgres, DbError};
use crate::engine::Engine;
use crate::exec::{Executor, StatementMode};
use crate::graphql::{limits::Limits, Api};
use crate::http::{self, HttpOptions};
use crate::schema::{self, BuildError, BuildOptions, SchemaFlags};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Schema(#[from] BuildError),
    #[error("building the schema failed: {0}")]
    Build(String),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{} not exist in this database; --schema names the schemas to expose (this database has: {})",
        plural_schemas(.0), .1.join(", "))]
    MissingSchemas(Vec<String>, Vec<String>),
    #[error("--jwt-token-identifier must be `schema.type`, got `{0}`")]
    JwtIdentifier(String),
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    PreRequest(String),
    #[error("could not listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

fn plural_schemas(names: &[String]) -> String {
    let list = names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() == 1 {
        format!("schema {list} does")
    } else {
        format!("schemas {list} do")
    }
}

impl StartError {
    /// Whether trying again later may help: the database cannot be reached yet (refused,
    /// reset, timed out), is starting or shutting down, or has no free connection slot.
    pub fn is_transient(&self) -> bool {
        match self {
            StartError::Db(DbError::Connect(e)) => match e.as_db_error() {
                None => true,
                Some(db) => matches!(db.code().code(), "57P01" | "57P02" | "57P03" | "53300"),
            },
            _ => false,
        }
    }
}

/// What the engine needs to start.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub connection: String,
    pub schemas: Vec<String>,
    pub jwt_token_identifier: Option<String>,
    /// `--disable-default-mutations`: no CRUD mutations, function mutations only.
    pub disable_default_mutations: bool,
    /// `--simple-subscriptions`: v4's `listen(topic:)` over WebSocket.
    pub simple_subscriptions: bool,
    /// `--simple-collections` and the other v4 schema options.
    pub schema_flags: SchemaFlags,
    pub jwt: JwtConfig,
    /// Role of requests without a token; None = the connecting role.
    pub default_role: Option<String>,
    pub max_pool_size: usize,
    pub statement_timeout_ms: u64,
    /// How long a request waits for a pooled connection (then 504).
    pub pool_timeout_ms: u64,
    /// Abuse limits on query documents.
    pub limits: Limits,
    /// `--max-page-size`; None: connections are not capped.
    pub max_page_size: Option<i64>,
    /// `--max-groups`; None: `groupedAggregates` is not capped.
    pub max_groups: Option<i64>,
    /// `--production`: no introspection (set in `limits`), no internal detail in errors.
    pub production: bool,
    /// `--extended-errors`: Postgres error fields added to GraphQL errors (v4's names).
    pub extended_errors: Vec<String>,
    /// `--pre-request`: `schema.function` run in every request's transaction after the claims
    /// are set (PostgREST's `db-pre-request`); raising `PT401` refuses the token (401).
    pub pre_request: Option<String>,
    /// `--read-replica`, `--replica-max-lag`, `--pooler`.
    pub scale: ScaleConfig,
}

/// Read replicas and the statement mode a pooler in front needs.
#[derive(Debug, Clone)]
pub struct ScaleConfig {
    pub read_replicas: Vec<String>,
    pub replica_max_lag: std::time::Duration,
    /// `--pooler`: None (not given) checks at startup whether a transaction pooler is in front.
    pub statement_mode: Option<StatementMode>,
}

impl Default for ScaleConfig {
    fn default() -> Self {
        ScaleConfig {
            read_replicas: vec![],
            replica_max_lag: std::time::Duration::from_secs(5),
            statement_mode: None,
        }
    }
}

impl ScaleConfig {
    /// How often the replicas' replay positions are sampled: often enough to notice the
    /// allowed lag being passed within a quarter of it, at most once a second.
    fn monitor_interval(&self) -> std::time::Duration {
        (self.replica_max_lag / 4).clamp(
            std::time::Duration::from_millis(50),
            std::time::Duration::from_secs(1),
        )
    }
}

fn jwt_type(identifier: &Option<String>) -> Result<Option<(String, String)>, StartError> {
    match identifier {
        None => Ok(None),
        Some(id) => match id.split_once('.') {
            Some((s, n)) if !s.is_empty() && !n.is_empty() => Ok(Some((
                s.trim_matches('"').to_string(),
                n.trim_matches('"').to_string(),
            ))),
            _ => Err(StartError::JwtIdentifier(id.clone())),
        },
    }
}

/// Introspects the database and builds the API (schema model + juniper schema).
pub async fn build_api(
    client: &tokio_postgres::Client,
    schemas: &[String],
    jwt_token_identifier: &Option<String>,
) -> Result<Api, StartError> {
    build_api_with(
        client,
        schemas,
        jwt_token_identifier,
        false,
        false,
        &SchemaFlags::default(),
    )
    .await
}

/// `build_api`, with or without the CRUD mutations (`--disable-default-mutations`) and the
/// `Subscription` root (`--simple-subscriptions`), with the v4 schema options.
pub async fn build_api_with(
    client: &tokio_postgres::Client,
    schemas: &[String],
    jwt_token_identifier: &Option<String>,
    disable_default_mutations: bool,
    simple_subscriptions: bool,
    flags: &SchemaFlags,
) -> Result<Api, StartError> {
    let started = Instant::now();
    // A mistyped schema would otherwise give an empty API and a clean log.
    let (missing, existing) = catalog::missing_schemas(client, schemas).await?;
    if !missing.is_empty() {
        return Err(StartError::MissingSchemas(missing, existing));
    }
    let catalog = catalog::load_with(client, schemas, flags.include_extension_resources).await?;
    for s in schemas {
        let empty = !catalog.classes.iter().any(|c| &c.schema == s)
            && !catalog.procs.iter().any(|p| &p.schema == s);
        if empty {
            tracing::warn!(
                schema = s.as_str(),
                "schema has no tables, views or functions to expose"
            );
        }
    }
    let opts = BuildOptions {
        schemas: schemas.to_vec(),
        jwt_type: jwt_type(jwt_token_identifier)?,
        disable_default_mutations,
        simple_subscriptions,
        flags: flags.clone(),
    };
    // CPU-bound (seconds at tens of thousands of tables): off the threads serving requests.
    let introspected = started.elapsed();
    let rss_catalog = rss_mib();
    let fingerprint = catalog.fingerprint.clone();
    let (mut api, model_built, rss_model) = tokio::task::spawn_blocking(move || {
        let model = schema::build(&catalog, &opts)?;
        drop(catalog);
        let model_built = started.elapsed();
        let rss_model = rss_mib();
        Ok::<_, BuildError>((Api::new(model), model_built, rss_model))
    })
    .await
    .map_err(|e| StartError::Build(e.to_string()))??;
    // Where the time goes: introspection, the model, juniper's schema (bench/results.md).
    tracing::info!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        introspection_ms = introspected.as_secs_f64() * 1000.0,
        model_ms = (model_built - introspected).as_secs_f64() * 1000.0,
        juniper_ms = (started.elapsed() - model_built).as_secs_f64() * 1000.0,
        types = api.model.types.len(),
        rss_mib_catalog = rss_catalog,
        rss_mib_model = rss_model,
        rss_mib_juniper = rss_mib(),
        "schema built"
    );
    api.catalog_fingerprint = fingerprint;
    Ok(api)
}

/// The process's resident memory in MiB (Linux; 0 elsewhere), for the build's log line.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kb| (kb / 1024.0).round())
}

/// A new API for a running engine (a reload): introspected on a connection of its own.
pub async fn rebuild_api(cfg: &EngineConfig) -> Result<Api, StartError> {
    let client = db::connect(&cfg.connection).await?;
    build_api_with(
        &client,
        &cfg.schemas,
        &cfg.jwt_token_identifier,
        cfg.disable_default_mutations,
        cfg.simple_subscriptions,
        &cfg.schema_flags,
    )
    .await
}

pub async fn build_engine(cfg: &EngineConfig) -> Result<Engine, StartError> {
    let client = db::connect(&cfg.connection).await?;
    let mut api = build_api_with(
        &client,
        &cfg.schemas,
        &cfg.jwt_token_identifier,
        cfg.disable_default_mutations,
        cfg.simple_subscriptions,
        &cfg.schema_flags,
    )
    .await?;
    api.limits = cfg.limits.clone();
    let default_role = match &cfg.default_role {
        Some(r) => r.clone(),
        // The unnamed statement: a transaction pooler may be in front.
        None => client
            .query_typed_one(crate::sql::CURRENT_USER, &[])
            .await
            .map_err(DbError::Sql)?
            .get(0),
    };
    let auth = Auth::new(cfg.jwt.clone())?;
    auth.load_jwks().await?;
    let pool = db::pool(
        &cfg.connection,
        cfg.max_pool_size,
        std::time::Duration::from_millis(cfg.pool_timeout_ms),
    )?;
    let pre_request = match &cfg.pre_request {
        None => None,
        Some(f) => {
            let (schema, name) = crate::sql::pre_request(f).map_err(StartError::PreRequest)?;
            let plain: bool = client
                .query_opt(crate::sql::PRE_REQUEST_FUNCTION, &[&schema, &name])
                .await
                .map_err(DbError::Sql)?
                .ok_or_else(|| {
                    StartError::PreRequest(format!(
                        "--pre-request `{f}`: no such function without arguments"
                    ))
                })?
                .get(0);
            Some(crate::exec::PreRequest::new(&schema, &name, plain))
        }
    };
    let statement_mode = match cfg.scale.statement_mode {
        Some(mode) => mode,
        None => detect_pooler(&client, &cfg.connection).await,
    };
    let wait = std::time::Duration::from_millis(cfg.pool_timeout_ms);
    let replicas = Arc::new(Replicas::new(
        &cfg.scale.read_replicas,
        cfg.max_pool_size,
        wait,
        cfg.scale.replica_max_lag,
    )?);
    replicas
        .start_monitor(pool.clone(), cfg.scale.monitor_interval())
        .await;
    let exec = Executor::new(pool, cfg.statement_timeout_ms)
        .with_pre_request(pre_request)
        .scaled(statement_mode, replicas);
    let mut engine = Engine::new(api, auth, exec, default_role)?;
    engine.plan_options.max_page_size = cfg.max_page_size;
    engine.plan_options.max_groups = cfg.max_groups;
    engine.production = cfg.production;
    engine.extended_errors = cfg.extended_errors.clone();
    Ok(engine)
}

/// The statement mode `--connection` needs when `--pooler` is not given: unnamed statements
/// when a transaction pooler turns out to be in front (see [`db::pooler_probe`]).
async fn detect_pooler(client: &tokio_postgres::Client, connection: &str) -> StatementMode {
    match db::pooler_probe::shares_server_connections(client, connection).await {
        Ok(true) => {
            tracing::warn!(
                "--connection goes through a transaction pooler (two sessions were served by one \
                 server process): statements are sent unnamed, as with --pooler transaction; \
                 pass --pooler transaction to say so (and --listen-connection for subscriptions)"
            );
            StatementMode::Unnamed
        }
        Ok(false) => StatementMode::Cached,
        Err(e) => {
            tracing::warn!(error = %e, "could not check for a transaction pooler in front (--pooler none skips the check): statements are prepared and kept per connection");
            StatementMode::Cached
        }
    }
}

/// A server running in the background (tests, demo); stops when dropped or on `stop()`.
pub struct Running {
    pub addr: SocketAddr,
    /// The engine serving (for [`crate::live::start`]: reloads swap its schema).
    pub engine: Arc<Engine>,
    /// Where GraphQL is served (`--graphql`).
    pub graphql_route: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.graphql_route)
    }
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn start(
    engine: Engine,
    opts: HttpOptions,
    addr: SocketAddr,
) -> Result<Running, StartError> {
    opts.check().map_err(StartError::Http)?;
    let listener = http::bind(addr)
        .await
        .map_err(|e| StartError::Bind(addr, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError::Bind(addr, e))?;
    let (tx, rx) = oneshot::channel::<()>();
    let engine = Arc::new(engine);
    let graphql_route = opts.graphql_route.clone();
    let handle = tokio::spawn(http::serve(engine.clone(), opts, listener, async move {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        engine,
        graphql_route,
        shutdown: Some(tx),
        handle: Some(handle),
    })
}

/// The embedded example app: a private cluster with the example migrations applied (and the
/// demo rows when `seed`). Returns the cluster and the authenticator's connection string.
pub async fn embedded_example(
    opts: EmbeddedOptions,
    seed: bool,
) -> Result<(EmbeddedPostgres, String), StartError> {
    let pg = EmbeddedPostgres::start(opts).await.map_err(DbError::from)?;
    pg.create_database(example::DATABASE, None)
        .await
        .map_err(DbError::from)?;
    let mut admin = db::connect(&pg.connection_string(pg.superuser(), example::DATABASE)).await?;
    let applied = db::migrate_example(&mut admin).await?;
    tracing::info!(?applied, "example migrations applied");
    if seed {
        admin
            .batch_execute(db::DEMO_SEED_SQL)
            .await
            .map_err(DbError::Sql)?;
    }
    let conn = pg.connection_string(example::AUTHENTICATOR, example::DATABASE);
    Ok((pg, conn))
}
