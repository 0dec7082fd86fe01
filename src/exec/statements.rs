//! How a statement reaches Postgres: prepared once per connection and kept (the default), or
//! as the unnamed statement, parsed afresh each time (`--pooler transaction`). A transaction
//! pooler hands each transaction whichever server connection is free, so a statement named
//! on one is unknown on the next; the unnamed statement lives only until the next one, and
//! Parse, Bind, Execute and Sync travel in one message, so it costs no extra round trip.

use super::DbError;
use deadpool_postgres::Object;
use tokio_postgres::types::{ToSql, Type};

/// Whether named statements may outlive a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatementMode {
    /// Prepared once per connection, kept in its statement cache.
    #[default]
    Cached,
    /// The unnamed statement every time: nothing outlives the transaction.
    Unnamed,
}

/// A statement ready to run with text parameters.
pub enum Prepared<'a> {
    Named(tokio_postgres::Statement),
    Unnamed(&'a str),
}

impl StatementMode {
    /// Prepares `text` (with `n` text parameters) on `client`, or only notes it when unnamed.
    pub async fn prepare<'a>(
        self,
        client: &Object,
        text: &'a str,
        n: usize,
    ) -> Result<Prepared<'a>, DbError> {
        match self {
            StatementMode::Cached => client
                .prepare_typed_cached(text, &vec![Type::TEXT; n])
                .await
                .map(Prepared::Named)
                .map_err(DbError::from_pg),
            StatementMode::Unnamed => Ok(Prepared::Unnamed(text)),
        }
    }
}

impl Prepared<'_> {
    /// Runs the statement for its one row. Sent on the first poll, as the named kind is, so
    /// statements polled in order are pipelined.
    pub async fn query_one(
        &self,
        client: &Object,
        args: &[&(dyn ToSql + Sync)],
    ) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
        match self {
            Prepared::Named(statement) => client.query_one(statement, args).await,
            Prepared::Unnamed(text) => {
                let typed: Vec<(&(dyn ToSql + Sync), Type)> =
                    args.iter().map(|a| (*a, Type::TEXT)).collect();
                client.query_typed_one(text, &typed).await
            }
        }
    }
}
