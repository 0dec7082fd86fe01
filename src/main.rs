//! The `postgraph` command: serve, demo, migrate, export-schema.

use clap::Parser;
use postgraph::auth::{Auth, JwtConfig, Pem};
use postgraph::config::{
    connection, example, v4, Cli, Command, DbOptions, LogFormat, ServeOptions,
};
use postgraph::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use postgraph::http::HttpOptions;
use postgraph::server::{self, EngineConfig};
use std::net::SocketAddr;
use std::process::ExitCode;

// mimalloc: about a tenth less CPU per cheap request than glibc's malloc (bench, by-pk).
// Built without transparent huge pages, which otherwise more than double the idle RSS.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = parse_args();
    // warp reports every client that hangs up mid-request as an error; that is the client's
    // business, so its connection log is off unless RUST_LOG asks for it.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,warp::server=off".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        // One JSON object per line, the event's fields at the top level.
        LogFormat::Json => logs
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
        // Colours for a terminal only: escape codes in a log file or a collector are noise.
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
    }
    let result = match cli.command {
        Command::Serve(o) => serve(o, false).await,
        Command::Demo(o) => serve(o, true).await,
        Command::Migrate(o) => migrate(o).await,
        Command::ExportSchema(o) => export_schema(o).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match cli.log_format {
                LogFormat::Json => tracing::error!(error = %e, "postgraph stopped"),
                LogFormat::Text => eprintln!("error: {e}"),
            }
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error>;

/// The command line, with v4's options that cannot apply refused with what postgraph does
/// instead, and an unknown option named as such (not clap's guess at a similar one).
fn parse_args() -> Cli {
    if let Some(why) = v4::refusal(std::env::args()) {
        eprintln!("error: {why}");
        std::process::exit(2);
    }
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::UnknownArgument => {
            let arg = match e.get(clap::error::ContextKind::InvalidArg) {
                Some(clap::error::ContextValue::String(a)) => a.clone(),
                _ => String::new(),
            };
            eprintln!("error: {}", v4::unknown_option(&arg));
            std::process::exit(2);
        }
        Err(e) => e.exit(),
    }
}

/// The schemas to expose: those given, else v4's `public` (the example app's own when it is
/// the example app).
fn schemas(db: &DbOptions, example_app: bool) -> Vec<String> {
    if !db.schemas.is_empty() {
        db.schemas.clone()
    } else if example_app {
        vec![example::SCHEMA.into()]
    } else {
        vec!["public".into()]
    }
}

/// The database `--connection` and libpq's environment name, if any.
fn resolve_connection(given: Option<&str>) -> Result<Option<String>, AnyError> {
    Ok(connection::resolve(given, |k| std::env::var(k).ok())?)
}

/// Prints a line to stdout, ignoring a closed stdout: a server must not die for its banner.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// The connection to use and, with none given, the embedded example app keeping it alive.
async fn database(
    db: &DbOptions,
    seed: bool,
) -> Result<(String, Option<EmbeddedPostgres>, bool), AnyError> {
    match resolve_connection(db.connection.as_deref())? {
        Some(c) => Ok((c, None, false)),
        None => {
            tracing::info!(
                "no --connection given: starting a private PostgreSQL with the example app"
            );
            let (pg, conn) = server::embedded_example(EmbeddedOptions::default(), seed).await?;
            Ok((conn, Some(pg), true))
        }
    }
}

async fn serve(mut o: ServeOptions, demo: bool) -> Result<(), AnyError> {
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    // SIGHUP reloads the schema; installed now, so one during startup does not end the process.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    // `serve` needs a database; only `demo` starts the embedded example app.
    if !demo && resolve_connection(o.db.connection.as_deref())?.is_none() {
        return Err(NO_DATABASE.into());
    }
    let is_example = demo && o.db.connection.is_none();
    for note in o.v4.notes() {
        tracing::warn!("{note}");
    }
    if let Some(keys) = &o.v4.jwt_role {
        o.jwt_role_claim_key = v4::role_claim_path(keys);
    }
    if let Some(ms) = o.v4.timeout {
        (o.header_timeout_ms, o.body_timeout_ms) = (ms, ms);
    }
    // Everything that can be checked without a database is checked first: a bad flag or key
    // file must not wait for (or start) a Postgres.
    let secret = match &o.jwt_secret_file {
        Some(path) => Some(read_secret(path)?),
        None => o.jwt_secret.clone(),
    };
    let private_key = o.jwt_private_key.as_deref().map(Pem::read).transpose()?;
    let public_keys = o
        .jwt_public_keys
        .iter()
        .map(|p| Pem::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    // GraphiQL is of no use without introspection.
    let graphiql = o.graphiql && !o.production;
    let addr: SocketAddr = format!("{}:{}", o.host, o.port).parse()?;
    let mut http_options = HttpOptions {
        graphql_route: o.v4.graphql_route.clone(),
        batch_limit: o.v4.enable_query_batching.then_some(o.v4.max_batch_size),
        graphiql_route: o.v4.graphiql_route.clone(),
        request_log: !o.v4.disable_query_log,
        body_limit: o.body_size_limit,
        header_timeout: postgraph::config::timeout(o.header_timeout_ms),
        body_timeout: postgraph::config::timeout(o.body_timeout_ms),
        max_connections: (o.max_connections > 0).then_some(o.max_connections),
        graphiql,
        cors: o.cors,
        cors_origins: o.cors_origins.clone(),
        metrics: o.metrics,
        jwt_cookie: o.jwt_cookie.clone(),
        insecure_cookies: o.insecure_cookies,
        ws: postgraph::ws::WsOptions {
            max_sockets: o.max_sockets,
            max_subscriptions_per_socket: o.max_subscriptions_per_socket,
            max_message_bytes: usize::try_from(o.body_size_limit).unwrap_or(usize::MAX),
            ..Default::default()
        },
        panic_path: None,
    };
    http_options.check()?;
    let pick = |given: &Option<String>, fallback: &str| {
        given
            .clone()
            .or_else(|| is_example.then(|| fallback.to_string()))
    };
    // The demo secret only when no key of any kind is given.
    let asymmetric = private_key.is_some() || !public_keys.is_empty() || o.jwt_jwks_url.is_some();
    let secret = if asymmetric {
        secret
    } else {
        pick(&secret, example::JWT_SECRET)
    };
    let (audience, more_audiences, ignore_audience) =
        postgraph::config::audiences(o.jwt_audience.as_deref());
    let (issuer, more_issuers) = postgraph::config::issuers(o.jwt_issuer.as_deref());
    let jwt = JwtConfig {
        secret,
        private_key,
        public_keys,
        jwks_url: o.jwt_jwks_url.clone(),
        jwks_cooldown_secs: o.jwt_jwks_cooldown,
        algorithm: o.jwt_algorithm,
        audience,
        more_audiences,
        issuer,
        more_issuers,
        verify: o.v4.jwt_verify.verify(ignore_audience),
        leeway_secs: o.jwt_leeway,
        allow_missing_exp: o.jwt_allow_missing_exp,
        expires_in_secs: o.jwt_expires_in,
        role_claim: o.jwt_role_claim_key.clone(),
        fingerprint: o.jwt_fingerprint,
        refresh_cookie: o.jwt_refresh_cookie,
        session_lifetime_secs: o.jwt_session_lifetime,
    };
    // Keys and JWT settings are checked before any database is asked (or started).
    Auth::new(jwt.clone())?;
    for relaxed in jwt.verify.relaxations() {
        tracing::warn!("{relaxed}: token checks are weaker than postgraph's defaults");
    }
    let (connection, embedded, _) = database(&o.db, true).await?;
    let cfg = EngineConfig {
        connection,
        schemas: schemas(&o.db, is_example),
        jwt_token_identifier: pick(&o.db.jwt_token_identifier, example::JWT_TOKEN_IDENTIFIER),
        disable_default_mutations: o.db.disable_default_mutations,
        simple_subscriptions: o.db.simple_subscriptions,
        schema_flags: o.db.schema_flags.clone(),
        jwt,
        default_role: pick(&o.default_role, example::DEFAULT_ROLE),
        max_pool_size: o
            .max_pool_size
            .unwrap_or_else(postgraph::config::default_pool_size),
        statement_timeout_ms: o.statement_timeout_ms,
        pool_timeout_ms: o.pool_timeout_ms,
        limits: o.limits.limits(o.production),
        max_page_size: o.limits.max_page_size(),
        max_groups: o.limits.max_groups(),
        production: o.production,
        extended_errors: o.extended_errors.clone(),
        scale: server::ScaleConfig {
            read_replicas: o.scale.read_replicas.clone(),
            replica_max_lag: o.scale.replica_max_lag,
            statement_mode: o.scale.pooler.map(|p| match p {
                postgraph::config::Pooler::Transaction => postgraph::exec::StatementMode::Unnamed,
                postgraph::config::Pooler::None => postgraph::exec::StatementMode::Cached,
            }),
        },
        pre_request: pick(&o.pre_request, example::PRE_REQUEST),
    };
    if cfg.jwt.secret.is_none() && !asymmetric {
        tracing::info!("JWT off (no --jwt-secret or keys): requests run as the default role");
    }
    // As v4: a failed first connection or schema build stops postgraph, unless
    // --retry-on-init-fail asks to wait (for a database started alongside, say).
    let target = connection::describe(&cfg.connection);
    let mut backoff = std::time::Duration::from_millis(250);
    let engine = loop {
        match server::build_engine(&cfg).await {
            Ok(engine) => break engine,
            Err(e) => {
                let e = startup_error(e, &target);
                if !o.v4.retry_on_init_fail {
                    return Err(e.into());
                }
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "startup failed; retrying (--retry-on-init-fail)");
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(std::time::Duration::from_secs(10));
            }
        }
    };
    if export(&engine.schema().api, &o.v4).await? {
        drop(embedded);
        return Ok(());
    }
    let pooled = engine.exec.statement_mode() == postgraph::exec::StatementMode::Unnamed;
    if pooled && o.scale.listen_connection.is_none() && o.db.simple_subscriptions {
        tracing::warn!("a transaction pooler without --listen-connection: subscriptions LISTEN through the pooler, which loses their events");
    }
    // A pooler cannot hold a LISTEN: --listen-connection goes around it.
    http_options.ws.listen_connection = Some(
        o.scale
            .listen_connection
            .clone()
            .unwrap_or(cfg.connection.clone()),
    );
    let running = server::start(engine, http_options, addr).await?;
    say!("postgraph listening");
    say!("  GraphQL:  {}", running.url());
    if graphiql {
        say!("  GraphiQL: http://{}{}", running.addr, o.v4.graphiql_route);
    }
    if demo || is_example {
        say!("\nTry it (the example app, a throwaway database that is gone on exit):\n");
        say!(
            "  curl -s {} -H 'Content-Type: application/json' \\\n    -d '{{\"query\":\"mutation {{ signup(input: {{username: \\\"dora\\\", email: \\\"dora@example.com\\\", password: \\\"correct horse\\\"}}) {{ jwtToken }} }}\"}}'\n",
            running.url()
        );
    }
    // A stop asked for while the reload LISTEN is still coming up is taken at once.
    let starting = postgraph::live::start(
        running.engine.clone(),
        cfg.clone(),
        postgraph::live::LiveOptions {
            watch: o.live.watch,
            owner_connection: o.live.owner_connection.clone(),
            // A pooler cannot hold a LISTEN: --listen-connection goes around it.
            listen_connection: o.scale.listen_connection.clone(),
            poll_interval: std::time::Duration::from_millis(o.live.watch_interval_ms),
            ..Default::default()
        },
    );
    let live = tokio::select! {
        live = starting => Some(live),
        _ = &mut shutdown => None,
    };
    while let Some(live) = &live {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = hangup.recv() => {
                tracing::info!("SIGHUP: reloading the schema");
                live.reload();
            }
        }
    }
    drop(live);
    // New connections are refused from here; requests in flight get a bounded time to finish.
    let bound = std::time::Duration::from_millis(o.shutdown_timeout_ms);
    tracing::info!(timeout_ms = o.shutdown_timeout_ms, "shutting down");
    if tokio::time::timeout(bound, running.stop()).await.is_err() {
        tracing::warn!("requests still in flight after the shutdown timeout: stopping anyway");
    }
    drop(embedded);
    Ok(())
}

const NO_DATABASE: &str = "no database to serve: give one with -c/--connection (a database \
    name such as `mydb`, or a URL such as postgres://user:password@localhost:5432/mydb), \
    DATABASE_URL, or libpq's PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD. To try postgraph \
    without a database of your own, `postgraph demo` serves an example app on a private PostgreSQL.";

/// A startup error; a failed connection says where it tried (never with the password).
fn startup_error(e: server::StartError, target: &str) -> String {
    match e {
        server::StartError::Db(postgraph::db::DbError::Connect(_)) => {
            format!("{e} ({target})")
        }
        e => e.to_string(),
    }
}

/// v4's `--export-schema-graphql`/`--export-schema-json`; whether to stop there (`-X`).
async fn export(api: &postgraph::graphql::Api, v4: &v4::V4Options) -> Result<bool, AnyError> {
    if let Some(path) = &v4.export_schema_graphql {
        std::fs::write(path, api.sdl()).map_err(|e| {
            format!(
                "cannot write --export-schema-graphql {}: {e}",
                path.display()
            )
        })?;
    }
    if let Some(path) = &v4.export_schema_json {
        std::fs::write(path, api.introspection_json().await?)
            .map_err(|e| format!("cannot write --export-schema-json {}: {e}", path.display()))?;
    }
    Ok(v4.no_server)
}

/// The secret in a file, without the trailing newline an editor or `echo` leaves.
fn read_secret(path: &std::path::Path) -> Result<String, AnyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read --jwt-secret-file {}: {e}", path.display()))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C). The handlers are installed when this is called,
/// so a signal that arrives during startup is not lost (and does not kill the process with
/// the embedded cluster left running).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
    }
}

async fn migrate(o: postgraph::config::MigrateOptions) -> Result<(), AnyError> {
    let conn = resolve_connection(Some(&o.connection))?.ok_or(NO_DATABASE)?;
    let mut client = postgraph::db::connect(&conn).await?;
    let applied = postgraph::db::migrate_dir(&mut client, &o.dir).await?;
    if applied.is_empty() {
        println!("nothing to apply: the database is up to date");
    }
    for m in applied {
        println!("applied {m}");
    }
    Ok(())
}

async fn export_schema(o: postgraph::config::ExportOptions) -> Result<(), AnyError> {
    let (connection, embedded, is_example) = database(&o.db, false).await?;
    let token =
        o.db.jwt_token_identifier
            .clone()
            .or_else(|| is_example.then(|| example::JWT_TOKEN_IDENTIFIER.to_string()));
    let client = postgraph::db::connect(&connection).await?;
    let api = server::build_api_with(
        &client,
        &schemas(&o.db, is_example),
        &token,
        o.db.disable_default_mutations,
        o.db.simple_subscriptions,
        &o.db.schema_flags,
    )
    .await?;
    let sdl = api.sdl();
    match &o.file {
        Some(path) => std::fs::write(path, &sdl)?,
        None => print!("{sdl}"),
    }
    drop(embedded);
    Ok(())
}
