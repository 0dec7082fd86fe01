//! Per-request transaction: role, timeout and claims applied transaction-locally, the
//! statements run, then commit. Reads are pipelined so the whole request costs one network
//! round trip once statements are prepared; every statement is prepared once per connection.

use crate::auth::SessionSettings;
use crate::sql::{self, Bound};
use deadpool_postgres::{Object, Pool, PoolError};
use std::task::Poll;
use tokio_postgres::types::{ToSql, Type};

/// Failures before anything ran: no connection to be had.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("timed out waiting for a database connection")]
    PoolTimeout,
    #[error("the database is unavailable")]
    Unavailable(String),
}

/// A Postgres error during execution, safe to show: SQLSTATE, message, constraint.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    pub code: String,
    pub message: String,
    pub constraint: Option<String>,
}

impl DbError {
    fn from_pg(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => DbError {
                code: db.code().code().to_string(),
                message: db.message().to_string(),
                constraint: db.constraint().map(str::to_string),
            },
            None => {
                tracing::warn!(error = %e, "database connection error during execution");
                DbError {
                    code: "08006".into(),
                    message: "the database connection failed".into(),
                    constraint: None,
                }
            }
        }
    }
    pub fn not_found(message: String) -> Self {
        DbError {
            code: "NOT_FOUND".into(),
            message,
            constraint: None,
        }
    }
}

/// The pool plus the per-transaction limits.
pub struct Executor {
    pool: Pool,
    /// The per-transaction `statement_timeout`, e.g. `30000ms` (`0ms`: none).
    statement_timeout: String,
}

/// One mutation: the write, the payload built from what it wrote, and what to say when the
/// write touched no row.
pub struct MutationStatements<'a> {
    pub write: Bound<'a>,
    pub payload: Bound<'a>,
    pub not_found: Option<&'a str>,
}

fn params(p: &[Option<String>]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Executor {
    pub fn new(pool: Pool, statement_timeout_ms: u64) -> Self {
        Executor {
            pool,
            statement_timeout: format!("{statement_timeout_ms}ms"),
        }
    }

    async fn client(&self) -> Result<Object, ExecError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Timeout(_) => ExecError::PoolTimeout,
            other => ExecError::Unavailable(other.to_string()),
        })
    }

    async fn prepare(
        client: &Object,
        text: &str,
        n: usize,
    ) -> Result<tokio_postgres::Statement, DbError> {
        client
            .prepare_typed_cached(text, &vec![Type::TEXT; n])
            .await
            .map_err(DbError::from_pg)
    }

    /// The session statement for these settings and its arguments (role, timeout, pairs).
    async fn prepare_session<'s>(
        &'s self,
        client: &Object,
        s: &'s SessionSettings,
    ) -> Result<(tokio_postgres::Statement, Vec<&'s (dyn ToSql + Sync)>), DbError> {
        let text = sql::set_session(s.settings.len());
        let statement = client
            .prepare_typed_cached(text, &vec![Type::TEXT; 2 + 2 * s.settings.len()])
            .await
            .map_err(DbError::from_pg)?;
        let mut args: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(2 + 2 * s.settings.len());
        args.push(&s.role);
        args.push(&self.statement_timeout);
        for (name, value) in &s.settings {
            args.push(name);
            args.push(value);
        }
        Ok((statement, args))
    }

    /// Runs read statements in one transaction; each gives its JSON text or its error.
    ///
    /// Everything is pipelined: begin, settings, the queries and commit are written before any
    /// reply is read, so a request costs one network round trip once its statements are
    /// prepared on the connection. A statement not prepared yet is prepared after the
    /// settings (Postgres checks privileges when parsing, so it must see the request's role),
    /// which costs one more round trip the first time only.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn read(
        &self,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        let client = self.client().await?;
        let (set, setup_args) = match self.prepare_session(&client, session).await {
            Ok(s) => s,
            Err(e) => return Ok(statements.iter().map(|_| Err(e.clone())).collect()),
        };
        // tokio-postgres sends a request when its future is first polled: poll in protocol order.
        let mut begin = std::pin::pin!(client.batch_execute(sql::BEGIN));
        let mut setup = std::pin::pin!(client.query(&set, &setup_args));
        let begin_now = futures::poll!(begin.as_mut());
        let setup_now = futures::poll!(setup.as_mut());
        let mut prepares: Vec<_> = statements
            .iter()
            .map(|s| Box::pin(Self::prepare(&client, s.text, s.params.len())))
            .collect();
        let mut prepared: Vec<Option<Result<tokio_postgres::Statement, DbError>>> =
            Vec::with_capacity(statements.len());
        for p in prepares.iter_mut() {
            prepared.push(match futures::poll!(p.as_mut()) {
                Poll::Ready(r) => Some(r),
                Poll::Pending => None,
            });
        }
        if prepared.iter().any(Option::is_none) {
            // First use on this connection: wait for the prepares (one extra round trip).
            for (slot, p) in prepared.iter_mut().zip(prepares.iter_mut()) {
                if slot.is_none() {
                    *slot = Some(p.await);
                }
            }
        }
        drop(prepares);
        let args: Vec<Vec<&(dyn ToSql + Sync)>> =
            statements.iter().map(|s| params(&s.params)).collect();
        let queries = futures::future::join_all(prepared.into_iter().zip(&args).map(|(p, a)| {
            let client = &client;
            async move {
                match p.expect("prepared") {
                    Ok(stmt) => client
                        .query_one(&stmt, a)
                        .await
                        .map_err(DbError::from_pg)
                        .map(|row| {
                            row.get::<_, Option<String>>(0)
                                .unwrap_or_else(|| "null".into())
                        }),
                    Err(e) => Err(e),
                }
            }
        }));
        let commit = client.batch_execute(sql::COMMIT);
        let begin = async move {
            match begin_now {
                Poll::Ready(r) => r,
                Poll::Pending => begin.await,
            }
        };
        let setup = async move {
            match setup_now {
                Poll::Ready(r) => r,
                Poll::Pending => setup.await,
            }
        };
        let (begin, setup, results, _commit) = futures::join!(begin, setup, queries, commit);
        if let Err(e) = begin
            .map_err(DbError::from_pg)
            .and_then(|_| setup.map(|_| ()).map_err(DbError::from_pg))
        {
            return Ok(statements.iter().map(|_| Err(e.clone())).collect());
        }
        Ok(results)
    }

    /// Runs mutations in order in one transaction; with several, each gets a savepoint so one
    /// failing rolls back only itself.
    ///
    /// A mutation's write leaves the written row in a transaction-local setting for its payload
    /// statement, so begin, settings, write and payload go out together; only the decision to
    /// commit (or roll back a failed single mutation) waits for their replies: two round trips
    /// once the statements are prepared on the connection.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn write(
        &self,
        session: &SessionSettings,
        mutations: &[MutationStatements<'_>],
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        let client = self.client().await?;
        let (set, setup_args) = match self.prepare_session(&client, session).await {
            Ok(s) => s,
            Err(e) => return Ok(mutations.iter().map(|_| Err(e.clone())).collect()),
        };
        // tokio-postgres sends a request when its future is first polled: poll in protocol order.
        let mut begin = std::pin::pin!(client.batch_execute(sql::BEGIN));
        let mut setup = std::pin::pin!(client.query(&set, &setup_args));
        let begin_now = futures::poll!(begin.as_mut());
        let setup_now = futures::poll!(setup.as_mut());
        // Prepared after the settings: Postgres checks privileges when parsing.
        let texts: Vec<&Bound<'_>> = mutations
            .iter()
            .flat_map(|m| [&m.write, &m.payload])
            .collect();
        let mut prepares: Vec<_> = texts
            .iter()
            .map(|b| Box::pin(Self::prepare(&client, b.text, b.params.len())))
            .collect();
        let mut prepared: Vec<Option<Result<tokio_postgres::Statement, DbError>>> =
            Vec::with_capacity(texts.len());
        for p in prepares.iter_mut() {
            prepared.push(match futures::poll!(p.as_mut()) {
                Poll::Ready(r) => Some(r),
                Poll::Pending => None,
            });
        }
        for (slot, p) in prepared.iter_mut().zip(prepares.iter_mut()) {
            if slot.is_none() {
                *slot = Some(p.await);
            }
        }
        drop(prepares);
        let prepared: Vec<Result<tokio_postgres::Statement, DbError>> =
            prepared.into_iter().map(|p| p.expect("prepared")).collect();
        let begin = async move {
            match begin_now {
                Poll::Ready(r) => r,
                Poll::Pending => begin.await,
            }
        };
        let setup = async move {
            match setup_now {
                Poll::Ready(r) => r,
                Poll::Pending => setup.await,
            }
        };

        let savepoints = mutations.len() > 1;
        let mut out = Vec::with_capacity(mutations.len());
        let mut failed = false;
        if savepoints {
            let (begin, setup) = futures::join!(begin, setup);
            if let Err(e) = begin
                .map_err(DbError::from_pg)
                .and_then(|_| setup.map(|_| ()).map_err(DbError::from_pg))
            {
                let _ = client.batch_execute(sql::ROLLBACK).await;
                return Ok(mutations.iter().map(|_| Err(e.clone())).collect());
            }
            for (m, st) in mutations.iter().zip(prepared.chunks(2)) {
                let (savepoint, result) = futures::join!(
                    client.batch_execute(sql::SAVEPOINT),
                    Self::mutate(&client, m, &st[0], &st[1])
                );
                let result = savepoint.map_err(DbError::from_pg).and(result);
                let step = if result.is_ok() {
                    sql::RELEASE_SAVEPOINT
                } else {
                    sql::ROLLBACK_TO_SAVEPOINT
                };
                if let Err(e) = client.batch_execute(step).await {
                    failed = true;
                    tracing::warn!(error = %e, "savepoint handling failed");
                }
                out.push(result);
            }
        } else {
            let m = &mutations[0];
            let (begin, setup, result) = futures::join!(
                begin,
                setup,
                Self::mutate(&client, m, &prepared[0], &prepared[1])
            );
            if let Err(e) = begin
                .map_err(DbError::from_pg)
                .and_then(|_| setup.map(|_| ()).map_err(DbError::from_pg))
            {
                let _ = client.batch_execute(sql::ROLLBACK).await;
                return Ok(mutations.iter().map(|_| Err(e.clone())).collect());
            }
            failed = result.is_err();
            out.push(result);
        }
        let end = if failed && !savepoints {
            sql::ROLLBACK
        } else {
            sql::COMMIT
        };
        if let Err(e) = client.batch_execute(end).await {
            let e = DbError::from_pg(e);
            return Ok(mutations.iter().map(|_| Err(e.clone())).collect());
        }
        Ok(out)
    }

    /// The write and its payload, sent together; a write that touched no row is NOT_FOUND
    /// when the mutation names one (update, delete).
    async fn mutate(
        client: &Object,
        m: &MutationStatements<'_>,
        write: &Result<tokio_postgres::Statement, DbError>,
        payload: &Result<tokio_postgres::Statement, DbError>,
    ) -> Result<String, DbError> {
        let (write, payload) = (
            write.as_ref().map_err(Clone::clone)?,
            payload.as_ref().map_err(Clone::clone)?,
        );
        let write_args = params(&m.write.params);
        let payload_args = params(&m.payload.params);
        let (written, result) = futures::join!(
            client.query_one(write, &write_args),
            client.query_one(payload, &payload_args)
        );
        let count: i64 = written.map_err(DbError::from_pg)?.get(0);
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
