//! Per-request transaction: role, timeout and claims applied transaction-locally, the
//! statements run, then commit. Reads are pipelined so the whole request costs one network
//! round trip once statements are prepared; every statement is prepared once per connection
//! (or sent unnamed behind a transaction pooler: `statements`). Queries may run on a read
//! replica (`route`).

mod pre_request;
mod route;
mod several;
mod statements;

use crate::auth::SessionSettings;
use crate::db::replicas::{Lsn, Replicas};
use crate::sql::{self, Bound};
use deadpool_postgres::{Object, Pool, PoolError};
pub use pre_request::PreRequest;
pub use route::ReadFrom;
use statements::Prepared;
pub use statements::StatementMode;
use std::sync::Arc;
use tokio_postgres::types::ToSql;

/// Failures before anything ran: no connection to be had.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("timed out waiting for a database connection")]
    PoolTimeout,
    #[error("the database is unavailable")]
    Unavailable(String),
    /// The connection broke during the request (Postgres restarted, the backend was
    /// terminated): its transaction did not commit, unless the break came while the commit
    /// itself was in flight; either way Postgres applied all of it or none.
    #[error("the database connection was lost during the request; retry it")]
    Lost(String),
}

/// The code of a statement that no longer fits the database: the schema changed (a column,
/// table, function or type dropped or renamed, a type changed) after postgraph built its API.
pub const SCHEMA_CHANGED: &str = "SCHEMA_CHANGED";
const SCHEMA_CHANGED_MESSAGE: &str = "the database schema changed after postgraph started and \
    no longer matches this API; restart postgraph to serve the new schema";

/// Whether Postgres refused the engine's own statement for naming something that is not
/// there (any more), or for types that no longer fit: the statements were generated from
/// the schema at startup, so the schema changed since. An error with a context (`where`)
/// came from inside a function and is the function's own business.
fn schema_drift(db: &tokio_postgres::error::DbError) -> bool {
    db.where_().is_none() && ["42703", "42P01", "42883", "42704"].contains(&db.code().code())
}

/// Whether a prepared statement failed for being planned against the schema as it was:
/// Postgres re-plans after DDL on the tables a statement reads, but not for a table's row
/// type used as a type (`null::app_public.posts`), whose changed column then has "the wrong
/// type" (42804). A plan whose result type changed is refused (0A000): every statement here
/// returns one column of a fixed type, so it should not happen, and would be met the same
/// way. Preparing the statement again plans it afresh.
fn stale_plan(db: &tokio_postgres::error::DbError) -> bool {
    let (code, message) = (db.code().code(), db.message());
    db.where_().is_none()
        && ((code == "42804" && message.contains("has wrong type"))
            || (code == "0A000" && message.contains("cached plan must not change result type")))
}

/// A Postgres error during execution, safe to show: SQLSTATE, message, constraint.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub code: String,
    pub message: String,
    pub constraint: Option<String>,
    /// A prepared statement Postgres planned against the schema as it was (see `stale_plan`).
    stale_plan: bool,
    /// The fields Postgres sent with it, by v4's names (`errcode`, `detail`, `hint`, ...),
    /// for `--extended-errors`; None for an error that is not Postgres'.
    pub fields: Option<Vec<(&'static str, String)>>,
    /// The `--pre-request` function refused the request: the HTTP status its SQLSTATE asks
    /// for (`PT401` → 401, `PT403` → 403).
    pub refused: Option<u16>,
}

/// The SQLSTATEs a `--pre-request` function raises to refuse a request, and their statuses
/// (PostgREST's `PTxyz` convention).
const REFUSALS: &[(&str, u16)] = &[("PT401", 401), ("PT403", 403)];

/// The fields of a Postgres error `--extended-errors` may name (v4's names for them).
pub const ERROR_FIELDS: &[&str] = &[
    "errcode",
    "severity",
    "detail",
    "hint",
    "position",
    "internalPosition",
    "internalQuery",
    "where",
    "schema",
    "table",
    "column",
    "dataType",
    "constraint",
    "file",
    "line",
    "routine",
];

impl DbError {
    fn from_pg(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) if schema_drift(db) || stale_plan(db) => {
                tracing::warn!(code = %db.code().code(), message = %db.message(), "the statement no longer fits the database schema");
                DbError {
                    code: SCHEMA_CHANGED.into(),
                    message: SCHEMA_CHANGED_MESSAGE.into(),
                    constraint: None,
                    stale_plan: stale_plan(db),
                    fields: None,
                    refused: None,
                }
            }
            Some(db) => DbError {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
                constraint: db.constraint().map(str::to_string),
                stale_plan: false,
                fields: Some(pg_fields(db)),
                refused: None,
            },
            None if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) =>
            {
                tracing::warn!(error = %e, "database connection lost during execution");
                DbError {
                    code: "08006".into(),
                    message: "the database connection failed".into(),
                    constraint: None,
                    stale_plan: false,
                    fields: None,
                    refused: None,
                }
            }
            None => {
                tracing::error!(error = %e, "unexpected answer from the database");
                DbError {
                    code: "XX000".into(),
                    message: "unexpected answer from the database".into(),
                    constraint: None,
                    stale_plan: false,
                    fields: None,
                    refused: None,
                }
            }
        }
    }
    /// Whether the connection is gone or going (class 08, or the server shutting down or
    /// terminating the backend: 57P01-57P03): it must not serve another request.
    pub fn is_connection_loss(&self) -> bool {
        self.code.starts_with("08") || ["57P01", "57P02", "57P03"].contains(&self.code.as_str())
    }
    /// Whether the message is meant for the client: bad input (22), constraint violations
    /// (23), authorization (28), serialization failures and deadlocks (40), permission and
    /// RLS refusals (42501), timeouts (57014), the application's own `raise exception`
    /// (P0001) and the engine's own codes. Others (undefined objects, resources, internal
    /// errors, ...) describe the server, and production hides their text.
    pub fn client_facing(&self) -> bool {
        let c = self.code.as_str();
        c.len() != 5
            || ["22", "23", "28", "40"]
                .iter()
                .any(|class| c.starts_with(class))
            || ["42501", "57014", "P0001"].contains(&c)
    }
    pub fn not_found(message: String) -> Self {
        DbError {
            code: "NOT_FOUND".into(),
            message,
            constraint: None,
            stale_plan: false,
            fields: None,
            refused: None,
        }
    }

    /// An error of the `--pre-request` call: a refusal when its SQLSTATE is one of
    /// [`REFUSALS`].
    fn from_pre_request(e: tokio_postgres::Error) -> Self {
        let mut e = DbError::from_pg(e);
        e.refused = REFUSALS
            .iter()
            .find(|(code, _)| *code == e.code)
            .map(|(_, status)| *status);
        e
    }
}

/// The fields a Postgres error carries, as text (positions as numbers in text, as v4 has them).
fn pg_fields(db: &tokio_postgres::error::DbError) -> Vec<(&'static str, String)> {
    use tokio_postgres::error::ErrorPosition;
    let (position, internal) = match db.position() {
        Some(ErrorPosition::Original(p)) => (Some(p.to_string()), None),
        Some(ErrorPosition::Internal { position, query }) => {
            (None, Some((position.to_string(), query.clone())))
        }
        None => (None, None),
    };
    let (internal_position, internal_query) = internal.unzip();
    [
        ("errcode", Some(db.code().code().to_string())),
        ("severity", Some(db.severity().to_string())),
        ("detail", db.detail().map(str::to_string)),
        ("hint", db.hint().map(str::to_string)),
        ("position", position),
        ("internalPosition", internal_position),
        ("internalQuery", internal_query),
        ("where", db.where_().map(str::to_string)),
        ("schema", db.schema().map(str::to_string)),
        ("table", db.table().map(str::to_string)),
        ("column", db.column().map(str::to_string)),
        ("dataType", db.datatype().map(str::to_string)),
        ("constraint", db.constraint().map(str::to_string)),
        ("file", db.file().map(str::to_string)),
        ("line", db.line().map(|l| l.to_string())),
        ("routine", db.routine().map(str::to_string)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

/// Begin and the settings, in flight: resolves when Postgres has answered both.
type Opening<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DbError>> + Send + 'a>>;

/// A pooled connection lent to one request. A request dropped before it finishes (its client
/// hung up) may leave the connection mid-statement in an open transaction: then it leaves the
/// pool, its query is cancelled and it is closed (Postgres rolls the transaction back), so no
/// later request ever runs inside it.
struct Lease(Option<Object>);

impl Lease {
    fn client(&self) -> &Object {
        self.0
            .as_ref()
            .expect("a lease holds its connection until released")
    }
    /// The request finished: the connection goes back to the pool.
    fn release(mut self) {
        drop(self.0.take());
    }
    /// The connection broke: it leaves the pool for good (the pool opens a new one when
    /// needed), so no later request is handed a dead connection.
    fn discard(mut self) {
        if let Some(client) = self.0.take() {
            drop(Object::take(client));
        }
    }
    /// Hands the results back, or, when the connection was lost under them, discards it and
    /// says so (503): a request half answered by a dying connection is not an answer. The
    /// idle connections go too: what ended one (a restart, a mass `pg_terminate_backend`)
    /// most likely ended them, and their own tasks may not have noticed yet; new ones are
    /// opened on demand.
    fn finish(
        self,
        pool: &Pool,
        results: Vec<Result<String, DbError>>,
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        let lost = results
            .iter()
            .find_map(|r| r.as_ref().err().filter(|e| e.is_connection_loss()))
            .cloned();
        match lost {
            Some(e) => {
                tracing::warn!(code = %e.code, message = %e.message, "connection lost mid-request: discarding it");
                self.discard();
                let idle = pool.retain(|_, _| false).removed.len();
                tracing::info!(idle, "idle connections dropped after a connection loss");
                Err(ExecError::Lost(e.message))
            }
            None if self.client().is_closed() => {
                self.discard();
                Ok(results)
            }
            None => {
                self.release();
                Ok(results)
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else {
            return;
        };
        tracing::info!("request dropped mid-transaction: cancelling it and closing its connection");
        let cancel = client.cancel_token();
        let client = Object::take(client);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = cancel.cancel_query(tokio_postgres::NoTls).await;
                drop(client);
            });
        }
    }
}

/// The pool's size, idle connections and waiters, for `/metrics`.
pub type PoolStatus = deadpool_postgres::Status;

/// The pool plus the per-transaction limits.
pub struct Executor {
    pool: Pool,
    /// The per-transaction `statement_timeout`, e.g. `30000ms` (`0ms`: none).
    statement_timeout: String,
    /// Named statements kept per connection, or none (behind a transaction pooler).
    mode: StatementMode,
    /// Where queries may run instead of the primary (none: everything on the primary).
    pub replicas: Arc<Replicas>,
    /// `--pre-request`: the check run after the settings in every request's transaction.
    pre_request: Option<PreRequest>,
}

/// One mutation: the write, the payload built from what it wrote, and what to say when the
/// write touched no row.
pub struct MutationStatements<'a> {
    pub write: Bound<'a>,
    pub payload: Bound<'a>,
    pub not_found: Option<&'a str>,
}

/// One query of a pipelined read: its JSON text or its error.
type Step<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, DbError>> + Send + 'a>>;

/// Runs `futures` pipelined: each is polled once in order (tokio-postgres sends a request
/// on its first poll, so they go out in this order and together), then awaited in order
/// (the answers come back in that order).
async fn in_order<T>(
    futures: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + '_>>>,
) -> Vec<T> {
    let mut all: Vec<_> = futures
        .into_iter()
        .map(futures::future::maybe_done)
        .collect();
    for f in &mut all {
        let _ = futures::poll!(std::pin::Pin::new(&mut *f));
    }
    let mut out = Vec::with_capacity(all.len());
    for mut f in all {
        std::pin::Pin::new(&mut f).await;
        out.extend(std::pin::Pin::new(&mut f).take_output());
    }
    out
}

/// Whether an update or delete failed for matching no row (see `sql::NO_ROW_MATCHED`).
fn no_row_matched(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        db.code() == &tokio_postgres::error::SqlState::INVALID_TEXT_REPRESENTATION
            && db.where_().is_none()
            && db.message().contains(sql::NO_ROW_MATCHED)
    })
}

/// Whether an answer is the `--pre-request` check's refusal.
fn refused(result: &Result<String, DbError>) -> bool {
    result.as_ref().is_err_and(|e| e.refused.is_some())
}

fn has_stale_plan(results: &[Result<String, DbError>]) -> bool {
    results
        .iter()
        .any(|r| r.as_ref().is_err_and(|e| e.stale_plan))
}

fn params(p: &[Option<String>]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Executor {
    pub fn new(pool: Pool, statement_timeout_ms: u64) -> Self {
        Executor {
            pool,
            statement_timeout: format!("{statement_timeout_ms}ms"),
            mode: StatementMode::default(),
            replicas: Arc::new(Replicas::default()),
            pre_request: None,
        }
    }

    /// With `--pooler transaction` and `--read-replica`s.
    pub fn scaled(mut self, mode: StatementMode, replicas: Arc<Replicas>) -> Self {
        self.mode = mode;
        self.replicas = replicas;
        self
    }

    /// Runs the check in every request's transaction once the role and claims are set; it may
    /// refuse the request (see [`DbError::refused`]).
    pub fn with_pre_request(mut self, check: Option<PreRequest>) -> Self {
        self.pre_request = check;
        self
    }

    async fn client(&self) -> Result<Object, ExecError> {
        self.pool.get().await.map_err(|e| match e {
            // Waiting for a free connection is "busy"; failing to open one is "unavailable".
            PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => ExecError::PoolTimeout,
            other => ExecError::Unavailable(other.to_string()),
        })
    }

    /// Drops every connection's prepared statements (after a schema reload: the new schema's
    /// statements are prepared afresh, the old ones are not kept around).
    pub fn forget_statements(&self) {
        self.pool.manager().statement_caches.clear();
    }

    /// Whether statements are kept per connection or sent unnamed (behind a pooler).
    pub fn statement_mode(&self) -> StatementMode {
        self.mode
    }

    pub fn pool_status(&self) -> PoolStatus {
        self.pool.status()
    }

    /// Whether the database answers within `within`, for `/ready`. `Ok(false)`: every pooled
    /// connection is in use (the server is busy, not broken); `Err`: no connection could be
    /// made or it did not answer.
    pub async fn ping(&self, within: std::time::Duration) -> Result<bool, ExecError> {
        let timeouts = deadpool_postgres::Timeouts {
            wait: Some(within),
            create: Some(within),
            recycle: Some(within),
        };
        let client = match self.pool.timeout_get(&timeouts).await {
            Ok(c) => c,
            Err(PoolError::Timeout(deadpool_postgres::TimeoutType::Wait)) => return Ok(false),
            Err(e) => return Err(ExecError::Unavailable(e.to_string())),
        };
        match tokio::time::timeout(within, client.batch_execute(sql::PING)).await {
            Ok(Ok(())) => Ok(true),
            Ok(Err(e)) => Err(ExecError::Unavailable(e.to_string())),
            Err(_) => Err(ExecError::Unavailable(format!(
                "no answer to a ping within {within:?}"
            ))),
        }
    }

    async fn prepare<'t>(
        &self,
        client: &Object,
        text: &'t str,
        n: usize,
    ) -> Result<Prepared<'t>, DbError> {
        self.mode.prepare(client, text, n).await
    }

    /// The session statement for these settings and its arguments (role, timeout, pairs).
    async fn prepare_session<'s>(
        &'s self,
        client: &Object,
        s: &'s SessionSettings,
    ) -> Result<(Prepared<'static>, Vec<&'s (dyn ToSql + Sync)>), DbError> {
        let text = sql::set_session(s.settings.len());
        let statement = self.prepare(client, text, 2 + 2 * s.settings.len()).await?;
        let mut args: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(2 + 2 * s.settings.len());
        args.push(&s.role);
        args.push(&self.statement_timeout);
        for (name, value) in &s.settings {
            args.push(name);
            args.push(value);
        }
        Ok((statement, args))
    }

    /// Starts the request's transaction: `begin` and the settings are sent at once and the
    /// statements are prepared behind them (Postgres checks privileges when parsing, so they
    /// must be parsed under the request's role): cached statements cost nothing, new ones one
    /// round trip. The `--pre-request` check goes out behind the settings unless `checked` (a
    /// read's first statement carries it). The returned future resolves once begin, the
    /// settings and the check are answered; await it together with what is sent next, so that
    /// everything shares one round trip.
    async fn open<'a, 'b>(
        &'a self,
        client: &'a Object,
        session: &'a SessionSettings,
        begin: &'static str,
        statements: &[&'b Bound<'_>],
        checked: bool,
    ) -> Result<(Opening<'a>, Vec<Result<Prepared<'b>, DbError>>), DbError> {
        let (set, args) = self.prepare_session(client, session).await?;
        let check = self.pre_request.as_ref().filter(|_| !checked);
        // A check that cannot be prepared goes as a simple query.
        let simple = check.filter(|c| !c.plain).map(|c| c.call.as_str());
        let opening: Opening<'a> = Box::pin(async move {
            // join! polls in order, and tokio-postgres sends a request on its first poll: the
            // check goes out behind the settings, in the same round trip.
            let simple = async {
                match simple {
                    Some(call) => client.batch_execute(call).await,
                    None => Ok(()),
                }
            };
            let (begin, setup, checked) = futures::join!(
                client.batch_execute(begin),
                set.query_one(client, &args),
                simple
            );
            begin.map_err(DbError::from_pg)?;
            setup.map_err(DbError::from_pg)?;
            checked.map_err(DbError::from_pre_request)?;
            Ok(())
        });
        let mut opening = Box::pin(futures::future::maybe_done(opening));
        let _ = futures::poll!(opening.as_mut());
        // A plain check is prepared (parsed once per connection, under the request's role as
        // the statements are) and sent before them.
        let prepared_check = match check.filter(|c| c.plain) {
            Some(c) => Some(self.prepare(client, &c.call, 0).await),
            None => None,
        };
        let prepared = futures::future::join_all(
            statements
                .iter()
                .map(|s| self.prepare(client, s.text, s.params.len())),
        )
        .await;
        let mut check = Box::pin(futures::future::maybe_done(async move {
            match prepared_check {
                Some(p) => p?
                    .query_one(client, &[])
                    .await
                    .map(drop)
                    .map_err(DbError::from_pre_request),
                None => Ok(()),
            }
        }));
        let _ = futures::poll!(check.as_mut());
        let opened: Opening<'a> = Box::pin(async move {
            opening.as_mut().await;
            check.as_mut().await;
            opening.as_mut().take_output().unwrap_or(Ok(()))?;
            check.as_mut().take_output().unwrap_or(Ok(()))
        });
        Ok((opened, prepared))
    }

    /// Runs read statements in one READ ONLY transaction; each gives its JSON text or its error.
    /// Begin, settings, the queries and commit go out together: one network round trip once
    /// the statements are prepared on the connection.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn read(
        &self,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        self.read_from(ReadFrom::default(), session, statements)
            .await
    }

    /// [`Executor::read`] on the primary's pool.
    async fn read_primary(
        &self,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        let lease = Lease(Some(self.client().await?));
        self.read_leased(lease, &self.pool, session, statements)
            .await
    }

    /// [`Executor::read`] on a connection of `pool`.
    async fn read_leased(
        &self,
        lease: Lease,
        pool: &Pool,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        let mut results = self.read_all(lease.client(), session, statements).await;
        if has_stale_plan(&results) {
            // A read can always run again: prepared afresh, it sees the schema as it is now.
            lease.client().statement_cache.clear();
            results = self.read_all(lease.client(), session, statements).await;
        }
        lease.finish(pool, results)
    }

    /// Several root fields are independent, as in v4: one that fails gives its error and the
    /// others their data. They all go out in one transaction; one that fails aborts it, so
    /// the fields after it run again in a fresh transaction (a read-only transaction keeps
    /// nothing, and under READ COMMITTED each statement takes its own snapshot anyway): one
    /// round trip more per failing field, none when all succeed.
    async fn read_all(
        &self,
        client: &Object,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Vec<Result<String, DbError>> {
        let mut results = Vec::with_capacity(statements.len());
        while results.len() < statements.len() {
            let rest = &statements[results.len()..];
            match self.read_on(client, session, rest).await {
                // The check, inside the first query, refused the request: nothing else runs.
                Ok(answers) if answers.first().is_some_and(refused) => {
                    let refusal = answers.into_iter().next().expect("an answer");
                    results.extend(rest.iter().map(|_| refusal.clone()));
                }
                Ok(answers) => {
                    let kept = answers
                        .iter()
                        .position(Result::is_err)
                        .map_or(answers.len(), |k| k + 1);
                    results.extend(answers.into_iter().take(kept));
                }
                // The transaction itself failed (begin, settings): every field's error.
                Err(e) => results.extend(rest.iter().map(|_| Err(e.clone()))),
            }
        }
        results
    }

    /// One read-only transaction: begin, settings, the queries and commit, sent together; the
    /// `--pre-request` check rides inside the first query when it can.
    /// Err: the transaction itself failed.
    async fn read_on(
        &self,
        client: &Object,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Result<Vec<Result<String, DbError>>, DbError> {
        let inside = self
            .pre_request
            .as_ref()
            .and_then(|c| c.inside(statements.first()?.text));
        let first = inside.as_deref().map(|text| Bound {
            text,
            params: statements[0].params.clone(),
        });
        let mut bound: Vec<&Bound<'_>> = statements.iter().collect();
        if let Some(first) = &first {
            bound[0] = first;
        }
        let (opening, prepared) = self
            .open(
                client,
                session,
                sql::BEGIN_READ_ONLY,
                &bound,
                first.is_some(),
            )
            .await?;
        let args: Vec<Vec<&(dyn ToSql + Sync)>> = bound.iter().map(|s| params(&s.params)).collect();
        let steps: Vec<Step<'_>> = prepared
            .iter()
            .zip(&args)
            .enumerate()
            .map(|(i, (p, a))| -> Step<'_> {
                // The check's refusal comes back as the first query's error.
                let error = if i == 0 && first.is_some() {
                    DbError::from_pre_request
                } else {
                    DbError::from_pg
                };
                Box::pin(async move {
                    let stmt = p.as_ref().map_err(Clone::clone)?;
                    let row = stmt.query_one(client, a).await.map_err(error)?;
                    Ok(row
                        .get::<_, Option<String>>(0)
                        .unwrap_or_else(|| "null".into()))
                })
            })
            .collect();
        let (opened, results, _commit) =
            futures::join!(opening, in_order(steps), client.batch_execute(sql::COMMIT));
        opened.map(|()| results)
    }

    /// Runs mutations in order in one transaction; with several, each gets a savepoint so one
    /// failing rolls back only itself.
    ///
    /// A mutation's write leaves the written row in a transaction-local setting for its payload
    /// statement, and an update or delete that matches no row fails in its own statement, so
    /// nothing waits for an answer before the commit: a single mutation sends begin, settings,
    /// write, payload and COMMIT together, one round trip once its statements are prepared.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn write(
        &self,
        session: &SessionSettings,
        mutations: &[MutationStatements<'_>],
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        Ok(self.write_at(session, mutations).await?.0)
    }

    /// [`Executor::write`], with the primary's WAL position after the commit when there are
    /// read replicas (for read-your-writes).
    pub async fn write_at(
        &self,
        session: &SessionSettings,
        mutations: &[MutationStatements<'_>],
    ) -> Result<(Vec<Result<String, DbError>>, Option<Lsn>), ExecError> {
        let lease = Lease(Some(self.client().await?));
        let (mut results, mut position) = self.write_on(lease.client(), session, mutations).await;
        // Run again only when nothing was kept: a failed single mutation rolled back, several
        // that all failed rolled back to their savepoints. A stale plan after one that
        // succeeded stays that mutation's error, so nothing is written twice.
        if has_stale_plan(&results) && results.iter().all(Result::is_err) {
            lease.client().statement_cache.clear();
            (results, position) = self.write_on(lease.client(), session, mutations).await;
        }
        Ok((lease.finish(&self.pool, results)?, position))
    }

    async fn write_on(
        &self,
        client: &Object,
        session: &SessionSettings,
        mutations: &[MutationStatements<'_>],
    ) -> (Vec<Result<String, DbError>>, Option<Lsn>) {
        let all = |e: DbError| (mutations.iter().map(|_| Err(e.clone())).collect(), None);
        let statements: Vec<&Bound<'_>> = mutations
            .iter()
            .flat_map(|m| [&m.write, &m.payload])
            .collect();
        let (opening, prepared) = match self
            .open(client, session, sql::BEGIN, &statements, false)
            .await
        {
            Ok(o) => o,
            Err(e) => return all(e),
        };
        if let [m] = mutations {
            // COMMIT travels with the rest: after any failure before it Postgres answers it by
            // rolling back, so it committed exactly when every statement before it succeeded
            // and it did too.
            let (opened, result, commit) = futures::join!(
                opening,
                Self::mutate(client, m, &prepared[0], &prepared[1]),
                route::end(client, sql::COMMIT, !self.replicas.is_empty())
            );
            if let Err(e) = opened {
                return all(e);
            }
            let mut position = None;
            if result.is_ok() {
                match commit {
                    Ok(p) => position = p,
                    Err(e) => return all(DbError::from_pg(e)),
                }
            }
            return (vec![result], position);
        }
        self.write_several(client, opening, mutations, &prepared)
            .await
            .unwrap_or_else(all)
    }

    /// The write and its payload, sent together; a write that touched no row is NOT_FOUND
    /// when the mutation names one (update, delete).
    pub(super) async fn mutate(
        client: &Object,
        m: &MutationStatements<'_>,
        write: &Result<Prepared<'_>, DbError>,
        payload: &Result<Prepared<'_>, DbError>,
    ) -> Result<String, DbError> {
        let (write, payload) = (
            write.as_ref().map_err(Clone::clone)?,
            payload.as_ref().map_err(Clone::clone)?,
        );
        let write_args = params(&m.write.params);
        let payload_args = params(&m.payload.params);
        let (written, result) = futures::join!(
            write.query_one(client, &write_args),
            payload.query_one(client, &payload_args)
        );
        let count: i64 = written
            .map_err(|e| match m.not_found {
                Some(msg) if no_row_matched(&e) => DbError::not_found(msg.to_string()),
                _ => DbError::from_pg(e),
            })?
            .get(0);
        if count == 0 {
            if let Some(msg) = m.not_found {
                return Err(DbError::not_found(msg.to_string()));
            }
        }
        Ok(result
            .map_err(DbError::from_pg)?
            .get::<_, Option<String>>(0)
            .unwrap_or_else(|| "null".into()))
    }
}
