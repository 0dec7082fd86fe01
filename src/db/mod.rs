//! Database access: the connection pool, refinery migrations (the example app's, embedded at
//! build time, or a user's folder), and the embedded throwaway Postgres.

pub mod embedded;
pub mod pooler_probe;
pub mod replicas;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use std::path::Path;
use std::time::Duration;
use tokio_postgres::NoTls;

mod example_migrations {
    refinery::embed_migrations!("migrations");
}

/// The example app's seed rows for `postgraph demo`.
pub const DEMO_SEED_SQL: &str = include_str!("../../sql/demo_seed.sql");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid connection string: {0}")]
    Config(tokio_postgres::Error),
    #[error("could not connect to the database: {}", describe(.0))]
    Connect(tokio_postgres::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] refinery::Error),
    #[error("could not build the connection pool: {0}")]
    Pool(String),
    #[error(transparent)]
    Embedded(#[from] embedded::EmbeddedError),
    #[error("{0}")]
    Sql(tokio_postgres::Error),
}

/// A connection error as a person can act on it: Postgres' own message (tokio-postgres
/// shows only "db error"), or the I/O failure.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        // tokio-postgres' own text leaves out the cause ("error connecting to server").
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

/// Opens one connection (for migrations and introspection).
pub async fn connect(conn: &str) -> Result<tokio_postgres::Client, DbError> {
    let (client, connection) = tokio_postgres::connect(conn, NoTls)
        .await
        .map_err(DbError::Connect)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "connection closed");
        }
    });
    Ok(client)
}

/// The request pool: at most `max_size` connections; a request waits at most `wait` for one.
///
/// Reuse checks only that the connection is open (`RecyclingMethod::Fast`, no round trip):
/// settings are reset by each request's own transaction (see `sql::BEGIN`); a connection the
/// server closed (a restart, `pg_terminate_backend`) is noticed by its connection task as soon
/// as the server says so; and one that fails mid-request is discarded by the executor. A
/// query per checkout (`Verified`) would add a round trip to every request for nothing more.
pub fn pool(conn: &str, max_size: usize, wait: Duration) -> Result<Pool, DbError> {
    let config: tokio_postgres::Config = conn.parse().map_err(DbError::Config)?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: Some(wait),
            create: Some(Duration::from_secs(5)),
            recycle: Some(Duration::from_secs(5)),
        })
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Applies the example app's migrations; returns the names of those applied now.
pub async fn migrate_example(client: &mut tokio_postgres::Client) -> Result<Vec<String>, DbError> {
    let report = example_migrations::migrations::runner()
        .run_async(client)
        .await?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}

/// Applies the migrations in `dir` (refinery's `V<n>__<name>.sql`); returns those applied now.
pub async fn migrate_dir(
    client: &mut tokio_postgres::Client,
    dir: &Path,
) -> Result<Vec<String>, DbError> {
    let migrations = refinery::load_sql_migrations(dir)?;
    let report = refinery::Runner::new(&migrations).run_async(client).await?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}
