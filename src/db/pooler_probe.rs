//! Whether `--connection` goes through a transaction pooler (pgbouncer's `pool_mode =
//! transaction`, Supavisor, RDS Proxy): checked once at startup when `--pooler` is not given.
//!
//! The check: session A runs a statement, then session B opens a transaction. Directly, or
//! behind a session pooler, each session has a server connection of its own, so B's server
//! process is never A's. A transaction pooler hands A's server connection back to its pool
//! when A's statement ends, and (pgbouncer reuses the most recently released first) gives it
//! to B's transaction: B then reports A's process id. A few rounds cover a pooler that picks
//! another free connection first. Only simple queries, no session state left behind.

use super::DbError;
use crate::sql::text as sql;
use tokio_postgres::{Client, SimpleQueryMessage};

const ROUNDS: usize = 4;

async fn backend_pid(client: &Client, query: &str) -> Result<Option<String>, DbError> {
    let messages = client.simple_query(query).await.map_err(DbError::Sql)?;
    Ok(messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    }))
}

/// True when two sessions through `conn` were served by one server process: a transaction
/// (or statement) pooler is in front. `first` is a session already open through `conn`.
pub async fn shares_server_connections(first: &Client, conn: &str) -> Result<bool, DbError> {
    let second = super::connect(conn).await?;
    for _ in 0..ROUNDS {
        let a = backend_pid(first, sql::BACKEND_PID).await?;
        let b = backend_pid(&second, sql::BEGIN_BACKEND_PID).await;
        second
            .batch_execute(sql::ROLLBACK)
            .await
            .map_err(DbError::Sql)?;
        if a.is_some() && a == b? {
            return Ok(true);
        }
    }
    Ok(false)
}
