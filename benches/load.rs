//! Load benchmark: `cargo bench --bench load` (see bench/README.md).
//!
//! The release `postgraph` binary serves the example app in an embedded Postgres seeded at scale
//! (10,000 users, 100,000 posts); wrk drives each GraphQL operation over loopback at a fixed
//! concurrency; pgbench runs the SQL postgraph generates for each read, in the same transaction
//! shape, as the ceiling; N WebSocket subscribers fed by NOTIFYs give the subscriptions figures
//! (events.rs); a generated database of 1,000 tables gives the startup figure. The
//! Markdown report is printed and written to bench/results.md.
//!
//! Knobs are environment variables (BENCH_QUICK=1 for a one-minute run, BENCH_DURATION,
//! BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_ONLY, BENCH_PG_STATS, ...), all listed in
//! bench/README.md.

// A crate root looks for its modules beside itself; these live in benches/load/.
#[path = "load/cluster.rs"]
mod cluster;
#[path = "load/events.rs"]
mod events;
#[path = "load/ops.rs"]
mod ops;
#[path = "load/pgbench.rs"]
mod pgbench;
#[path = "load/proc.rs"]
mod proc;
#[path = "load/report.rs"]
mod report;
#[path = "load/revocation.rs"]
mod revocation;
#[path = "load/scale.rs"]
mod scale;
#[path = "load/server.rs"]
mod server;
#[path = "load/soak.rs"]
mod soak;
#[path = "load/wrk.rs"]
mod wrk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use postgraph::auth::SessionSettings;
use postgraph::config::example;
use postgraph::db::embedded::{EmbeddedOptions, EmbeddedPostgres};

pub type Error = Box<dyn std::error::Error>;
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The statement timeout postgraph is started with; pgbench's transactions set the same value.
pub const STATEMENT_TIMEOUT_MS: u64 = 30_000;
/// The BENCH_ONLY name of the subscriptions measurement (benches/load/events.rs).
pub const EVENTS: &str = "events";
/// The BENCH_ONLY name of the replica and pooler measurements (benches/load/scale.rs).
pub const SCALE: &str = "scale";
/// HS256 secret for the benchmark's tokens (throwaway data, so a constant is fine).
pub const JWT_SECRET: &str = "postgraph-bench-secret-at-least-32-bytes";

/// Run settings, from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub quick: bool,
    pub load: Load,
    pub pool_size: Option<u32>,
    pub only: Option<Vec<String>>,
    pub startup_tables: u32,
    pub startup_runs: u32,
    /// Each operation is measured this many times, the operations interleaved, and its median
    /// round reported: drift of a shared machine then hits every operation alike.
    pub rounds: u32,
    pub rust_log: String,
    /// Record per-request statement counts with pg_stat_statements.
    pub pg_stats: bool,
    pub output: PathBuf,
    pub binary: PathBuf,
    pub events: events::Settings,
}

/// What one measurement drives: the same for wrk and pgbench, so their numbers compare.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: u32,
    pub threads: u32,
    pub duration: Duration,
    pub warmup: Duration,
}

impl Config {
    fn from_env() -> Result<Config> {
        let quick = env_flag("BENCH_QUICK");
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let default_output = if quick {
            "bench/results-quick.md"
        } else {
            "bench/results.md"
        };
        let load = Load {
            connections: env_num("BENCH_CONNECTIONS", 16)?,
            threads: env_num("BENCH_THREADS", 2)?,
            duration: Duration::from_secs(env_num("BENCH_DURATION", if quick { 3 } else { 5 })?),
            warmup: Duration::from_secs(env_num("BENCH_WARMUP", if quick { 1 } else { 2 })?),
        };
        if load.threads == 0 || load.connections < load.threads || load.duration.is_zero() {
            return Err(
                "need BENCH_THREADS ≥ 1, BENCH_CONNECTIONS ≥ BENCH_THREADS and BENCH_DURATION ≥ 1"
                    .into(),
            );
        }
        Ok(Config {
            quick,
            load,
            pool_size: std::env::var("BENCH_POOL_SIZE")
                .ok()
                .map(|v| v.parse())
                .transpose()
                .map_err(|e| format!("BENCH_POOL_SIZE: {e}"))?,
            only: std::env::var("BENCH_ONLY")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect()),
            startup_tables: env_num("BENCH_STARTUP_TABLES", 1000)?,
            startup_runs: env_num("BENCH_STARTUP_RUNS", if quick { 3 } else { 5 })?.max(1),
            rounds: env_num("BENCH_ROUNDS", if quick { 1 } else { 3 })?.max(1),
            rust_log: std::env::var("BENCH_RUST_LOG")
                .unwrap_or_else(|_| "warn,warp::server=off".into()),
            pg_stats: env_flag("BENCH_PG_STATS"),
            output: manifest.join(std::env::var("BENCH_OUTPUT").unwrap_or(default_output.into())),
            // Cargo builds the package's binaries (bench profile = release settings) before
            // running a bench target, and tells it where they are.
            binary: std::env::var_os("BENCH_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_postgraph"))),
            events: events::Settings::from_env()?,
        })
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false" | "no"))
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map_err(|e| format!("{name}={v}: {e}").into()),
        _ => Ok(default),
    }
}

/// Progress on stderr, so that stdout carries only the report.
pub fn step(message: impl std::fmt::Display) {
    eprintln!("[bench] {message}");
}

fn main() -> ExitCode {
    // `cargo bench` passes --bench. Without it we were started by `cargo test --all-targets` or
    // similar, which must not turn into a multi-minute benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("load benchmark: skipped (run it with `cargo bench --bench load`)");
        return ExitCode::SUCCESS;
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("[bench] configuration error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    // `cargo bench --bench load -- soak`: the soak run instead of the load benchmark.
    let outcome = if std::env::args().any(|a| a == "soak") {
        let output = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/soak.md");
        runtime.block_on(soak::run(&config.binary, &config.rust_log, &output))
    } else {
        runtime.block_on(run(&config))
    };
    // Anything still holding the cluster or the server has been dropped by now (guards).
    match outcome {
        Ok(()) => {
            step(format_args!(
                "done in {:.0} s",
                started.elapsed().as_secs_f64()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("[bench] FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: &Config) -> Result<()> {
    let machine = report::Machine::detect();
    let wrk_version = wrk::ensure_installed()?;
    if !config.binary.is_file() {
        return Err(format!("postgraph binary not found at {}", config.binary.display()).into());
    }
    let work = WorkDir::create()?;
    let lua = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/wrk.lua");

    step("starting embedded PostgreSQL");
    let mut options = EmbeddedOptions::default();
    if config.pg_stats {
        options = options
            .setting("shared_preload_libraries", "pg_stat_statements")
            .setting("pg_stat_statements.track_utility", "on")
            .setting("pg_stat_statements.track_planning", "on");
    }
    // Declared before the server so that it is dropped after it (locals drop in reverse order),
    // on success and on error alike.
    let pg = EmbeddedPostgres::start(options).await?;
    let app = cluster::create_app(&pg, config.pg_stats).await?;

    step("starting postgraph");
    let mut args = vec![
        "--jwt-secret".to_string(),
        JWT_SECRET.into(),
        "--jwt-token-identifier".into(),
        example::JWT_TOKEN_IDENTIFIER.into(),
        "--default-role".into(),
        example::DEFAULT_ROLE.into(),
        "--statement-timeout".into(),
        STATEMENT_TIMEOUT_MS.to_string(),
        // The `filter` operation filters on a relation.
        "--connection-filter-relations".into(),
        "--pre-request".into(),
        revocation::PRE_REQUEST.into(),
    ];
    if let Some(size) = config.pool_size {
        args.extend(["--max-pool-size".into(), size.to_string()]);
    }
    let server = server::Server::start(
        &config.binary,
        &app.authenticator,
        &args,
        &work.0.join("postgraph.log"),
        &config.rust_log,
    )
    .await?;
    let idle_rss_kb = proc::status_kb(server.pid, "VmRSS").unwrap_or(0);
    step(format_args!(
        "postgraph up in {} ms, idle RSS {}",
        server.ready_after.as_millis(),
        report::mib(idle_rss_kb)
    ));

    let http = reqwest::Client::new();
    let reader_token = ops::sign_in(&http, &server.url, &cluster::user_email(1)).await?;
    let writer_token = ops::sign_in(&http, &server.url, cluster::WRITER_EMAIL).await?;
    let flags = postgraph::schema::SchemaFlags {
        filter: postgraph::schema::filter::FilterFlags {
            relations: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let api = postgraph::server::build_api_with(
        &postgraph::db::connect(&app.authenticator).await?,
        &["app_public".to_string()],
        &Some(example::JWT_TOKEN_IDENTIFIER.to_string()),
        false,
        false,
        &flags,
    )
    .await?;

    let all = ops::all(&reader_token, &writer_token);
    if let Some(only) = &config.only {
        let known = |o: &String| o == EVENTS || o == SCALE || all.iter().any(|op| op.name == *o);
        if let Some(unknown) = only.iter().find(|o| !known(o)) {
            let mut names: Vec<&str> = all.iter().map(|op| op.name).collect();
            names.extend([EVENTS, SCALE]);
            return Err(
                format!("BENCH_ONLY: unknown operation {unknown:?} (have {names:?})").into(),
            );
        }
    }
    let selected: Vec<&ops::Op> = all
        .iter()
        .filter(|op| {
            config
                .only
                .as_ref()
                .is_none_or(|o| o.iter().any(|n| n == op.name))
        })
        .collect();

    let postmaster = pg.pid().ok_or("embedded Postgres has no pid")?;
    let bench = Bench {
        config,
        server: &server,
        pg: &pg,
        postmaster,
        admin: postgraph::db::connect(&app.admin).await?,
        api,
        http,
        lua: &lua,
        work: &work.0,
    };
    let mut rounds: Vec<Vec<report::OpResult>> = selected.iter().map(|_| Vec::new()).collect();
    for round in 1..=config.rounds {
        for (op, measured) in selected.iter().zip(&mut rounds) {
            step(format_args!(
                "{}: {} (round {round} of {})",
                op.name, op.label, config.rounds
            ));
            let result = bench.measure(op).await?;
            step(format_args!("  {}", result.summary()));
            measured.push(result);
        }
    }
    let results: Vec<report::OpResult> = rounds.into_iter().map(report::median_round).collect();
    // The revocation check's cost, on the signed-in reads whose policies call it.
    let signed_in: Vec<&ops::Op> = selected
        .iter()
        .copied()
        .filter(|op| matches!(op.name, "me" | "list-auth"))
        .collect();
    let revocation = if signed_in.is_empty() {
        vec![]
    } else {
        step("revocation check: with and without it");
        revocation::Measure {
            admin: &bench.admin,
            url: &server.url,
            script: &lua,
            work: &work.0,
            load: config.load,
            warmup: Load {
                duration: config.load.warmup,
                ..config.load
            },
            rounds: config.rounds,
        }
        .run(&signed_in)
        .await?
    };
    drop(bench);
    let peak_rss_kb = proc::status_kb(server.pid, "VmHWM").unwrap_or(0);
    let log_problems = server.log_problems();
    drop(server);

    let events = if config
        .only
        .as_ref()
        .is_none_or(|o| o.iter().any(|n| n == EVENTS))
    {
        step("events: subscribers over WebSocket");
        Some(
            events::measure(
                config,
                config.events,
                &app.authenticator,
                &app.admin,
                &args,
                &reader_token,
                postmaster,
                &work.0,
            )
            .await?,
        )
    } else {
        None
    };

    let scale = if config
        .only
        .as_ref()
        .is_none_or(|o| o.iter().any(|n| n == SCALE))
    {
        step("scale: replicas, pooler mode, read-your-writes");
        Some(
            scale::measure(
                config,
                &pg,
                &app.authenticator,
                example::DATABASE,
                &args,
                &writer_token,
                &work.0,
                &lua,
            )
            .await?,
        )
    } else {
        None
    };

    step(format_args!(
        "startup figure: {} tables",
        config.startup_tables
    ));
    let startup = cluster::startup_figure(&pg, config, &work.0).await?;

    let report = report::Report {
        machine,
        config: config.clone(),
        wrk_version,
        pg_version: app.server_version.clone(),
        idle_rss_kb,
        peak_rss_kb,
        ops: results,
        revocation,
        events,
        startup,
        log_problems,
    }
    .markdown();
    let report = match &scale {
        Some(s) => format!("{report}{}", scale::markdown(s)),
        None => report,
    };
    println!("{report}");
    if let Some(dir) = config.output.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&config.output, &report)?;
    step(format_args!(
        "report written to {}",
        config.output.display()
    ));
    drop(pg);
    Ok(())
}

/// What measuring one operation needs.
struct Bench<'a> {
    config: &'a Config,
    server: &'a server::Server,
    pg: &'a EmbeddedPostgres,
    postmaster: u32,
    /// Superuser connection, to count the rows createPost wrote.
    admin: tokio_postgres::Client,
    api: postgraph::graphql::Api,
    http: reqwest::Client,
    lua: &'a Path,
    work: &'a Path,
}

impl Bench<'_> {
    /// Warm-up then measurement with wrk, a sample response checked before and after, then
    /// (reads and createPost) the same with pgbench.
    async fn measure(&self, op: &ops::Op) -> Result<report::OpResult> {
        let config = self.config;
        let warmup_load = Load {
            duration: config.load.warmup,
            ..config.load
        };
        let mut notes = Vec::new();
        let rows_before = match op.kind {
            ops::Kind::Write => Some(cluster::writer_posts(&self.admin).await?),
            _ => None,
        };
        if let Err(e) = op.sample(&self.http, &self.server.url).await {
            notes.push(format!("sample response before the run: {e}"));
        }
        let body = self.work.join(format!("{}.json", op.name));
        std::fs::write(&body, op.body().to_string())?;
        let run = wrk::Run {
            url: &self.server.url,
            script: self.lua,
            body: &body,
            token: op.token.as_deref(),
        };
        let warmup = run.measure(warmup_load).await?;

        if config.pg_stats {
            cluster::reset_statements(&self.admin).await?;
        }
        let cpu = proc::CpuMeter::start(Some(self.server.pid), self.postmaster);
        let rss = proc::RssSampler::start(self.server.pid);
        let load = run.measure(config.load).await?;
        let peak_rss_kb = rss.stop().await;
        let cpu = cpu.stop();
        let statements = if config.pg_stats {
            cluster::statements(&self.admin).await?
        } else {
            Vec::new()
        };

        if let Err(e) = op.sample(&self.http, &self.server.url).await {
            notes.push(format!("sample response after the run: {e}"));
        }
        if let Some(before) = rows_before {
            let written = cluster::writer_posts(&self.admin).await? - before;
            // Both samples wrote a row too.
            let sent = load.requests + warmup.requests + 2;
            if written as u64 != sent {
                notes.push(format!(
                    "{written} posts written for {sent} requests counted by wrk and the samples \
                     (requests cut off when wrk stops may still commit)"
                ));
            }
        }
        let ceiling = match op.kind {
            ops::Kind::Read | ops::Kind::Write => {
                Some(self.ceiling(op, warmup_load, &mut notes).await?)
            }
            _ => None,
        };
        Ok(report::OpResult {
            name: op.name,
            label: op.label,
            write: matches!(op.kind, ops::Kind::Write),
            load,
            peak_rss_kb,
            cpu,
            statements,
            ceiling,
            notes,
        })
    }

    /// pgbench running the operation's SQL in the request's transaction shape.
    async fn ceiling(
        &self,
        op: &ops::Op,
        warmup: Load,
        notes: &mut Vec<String>,
    ) -> Result<pgbench::Measured> {
        let session = op.session(&self.api)?;
        // The check postgraph runs (--pre-request), where postgraph runs it: like for like.
        let (schema, name) = postgraph::sql::pre_request(revocation::PRE_REQUEST)?;
        let check = postgraph::sql::pre_request_function(&schema, &name);
        let script = pgbench::script(&self.api, op, &session, STATEMENT_TIMEOUT_MS, Some(&check))?;
        let path = self.work.join(format!("{}.sql", op.name));
        std::fs::write(&path, &script)?;
        let run = pgbench::Run {
            bin_dir: self.pg.bin_dir(),
            host: self.pg.host(),
            port: self.pg.port(),
            user: example::AUTHENTICATOR,
            database: example::DATABASE,
            script: &path,
        };
        run.measure(warmup).await?;
        let cpu = proc::CpuMeter::start(None, self.postmaster);
        let mut result = run.measure(self.config.load).await?;
        // pgbench's backends may still be exiting; their CPU time reaches the postmaster's
        // cutime once they are reaped.
        tokio::time::sleep(Duration::from_millis(200)).await;
        result.cpu = cpu.stop();
        if result.failed > 0 {
            notes.push(format!("pgbench: {} failed transactions", result.failed));
        }
        Ok(result)
    }
}

/// Scratch folder for request bodies, pgbench scripts and the server log; removed on drop
/// unless BENCH_KEEP is set.
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    fn create() -> Result<WorkDir> {
        let dir = std::env::temp_dir().join(format!("postgraph-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if env_flag("BENCH_KEEP") {
            step(format_args!("kept {}", self.0.display()));
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Role, timeout and claims for one operation, as the engine would set them.
pub fn session_for(
    api: &postgraph::graphql::Api,
    claims: Option<&postgraph::auth::Claims>,
) -> Result<SessionSettings> {
    Ok(SessionSettings::from_claims(
        claims,
        example::DEFAULT_ROLE,
        &api.model.roles,
    )?)
}
