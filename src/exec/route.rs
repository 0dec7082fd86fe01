//! Where a query runs: on a read replica when one is healthy (and has replayed the position
//! the client asks for), else on the primary; and the commit that reports the primary's WAL
//! position for read-your-writes.

use super::{Bound, DbError, ExecError, Executor, Lease};
use crate::auth::SessionSettings;
use crate::db::replicas::{self, Fallback, InFlight, Lsn, Route};
use crate::sql;
use deadpool_postgres::Object;

/// Which server a query may run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// A replica, one that has replayed `after` when given (a client's own last write).
    Replica { after: Option<Lsn> },
    /// The primary only (subscription events, whose position is not known).
    Primary,
}

impl Default for ReadFrom {
    fn default() -> Self {
        ReadFrom::Replica { after: None }
    }
}

/// A replica's answer that the primary may give instead: a recovery conflict cancelled the
/// query (40001 on a standby), or the replica went away.
fn retry_on_primary(results: &[Result<String, DbError>]) -> bool {
    results
        .iter()
        .any(|r| r.as_ref().is_err_and(|e| e.code == "40001"))
}

impl Executor {
    /// Runs read statements (see [`Executor::read`]) where `from` allows: a replica chosen by
    /// the replica set, falling back to the primary whenever none fits or the replica fails.
    pub async fn read_from(
        &self,
        from: ReadFrom,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Result<Vec<Result<String, DbError>>, ExecError> {
        if let ReadFrom::Replica { after } = from {
            let on_replica = match self.replicas.route(after) {
                Route::Primary => None,
                Route::Replica(busy) => self.on_replica(busy, None, session, statements).await,
                Route::Check(busy, lsn) => {
                    self.on_replica(busy, Some(lsn), session, statements).await
                }
            };
            if let Some(results) = on_replica {
                return results;
            }
        }
        self.read_primary(session, statements).await
    }

    /// The read on the replica `busy` holds; None when it must go to the primary instead.
    /// With `check`, the replica is first asked whether it has replayed that far (one round
    /// trip, only when the monitor's last look says it has not).
    async fn on_replica(
        &self,
        busy: InFlight,
        check: Option<Lsn>,
        session: &SessionSettings,
        statements: &[Bound<'_>],
    ) -> Option<Result<Vec<Result<String, DbError>>, ExecError>> {
        let replica = busy.replica();
        let client: Object = match replica.pool.get().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(replica = %replica.name, error = %e, "no replica connection");
                // All its connections busy is not a fault; failing to open one is.
                if matches!(
                    e,
                    deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait)
                ) {
                    self.replicas.fell_back(replica, Fallback::Busy);
                } else {
                    self.replicas.failed(replica);
                    self.replicas.fell_back(replica, Fallback::Failed);
                }
                return None;
            }
        };
        if let Some(wanted) = check {
            match replicas::replay_position(&client).await {
                Some(at) => {
                    self.replicas.replayed(replica, at);
                    if at < wanted {
                        self.replicas.fell_back(replica, Fallback::Behind);
                        return None;
                    }
                }
                None => {
                    self.replicas.failed(replica);
                    self.replicas.fell_back(replica, Fallback::Failed);
                    return None;
                }
            }
        }
        let results = self
            .read_leased(Lease(Some(client)), &replica.pool, session, statements)
            .await;
        match results {
            Err(ExecError::Lost(_) | ExecError::Unavailable(_)) => {
                self.replicas.failed(replica);
                self.replicas.fell_back(replica, Fallback::Failed);
                None
            }
            Ok(r) if retry_on_primary(&r) => {
                self.replicas.fell_back(replica, Fallback::Conflict);
                None
            }
            other => {
                self.replicas.served(replica);
                Some(other)
            }
        }
    }
}

/// Ends a write's transaction with `end` (commit or rollback); a commit with `position` also
/// reads the primary's WAL position after it, in the same message.
pub(super) async fn end(
    client: &Object,
    end: &str,
    position: bool,
) -> Result<Option<Lsn>, tokio_postgres::Error> {
    if !(position && end == sql::COMMIT) {
        return client.batch_execute(end).await.map(|()| None);
    }
    let messages = client.simple_query(sql::COMMIT_POSITION).await?;
    Ok(messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => {
            row.get(0)?.parse::<Lsn>().ok().map(Lsn::reachable)
        }
        _ => None,
    }))
}
