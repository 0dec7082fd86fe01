//! Several mutations in one transaction: each behind its own savepoint, sent together, with one
//! more flight per failure.

use super::*;

impl Executor {
    /// Several mutations: all are sent at once, each behind its own savepoint (never released:
    /// the commit keeps them all). The first that fails leaves the transaction aborted and the
    /// rest unanswered, so the next flight returns to its savepoint and resends the rest: two
    /// round trips when all succeed (the last is the commit), one more per failure.
    pub(super) async fn write_several<'a>(
        &self,
        client: &'a Object,
        opening: Opening<'a>,
        mutations: &'a [MutationStatements<'_>],
        prepared: &'a [Result<Prepared<'_>, DbError>],
    ) -> Result<(Vec<Result<String, DbError>>, Option<Lsn>), DbError> {
        type Flight<'f> = std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<String, DbError>> + Send + 'f>,
        >;
        // With read replicas, the commit also reads the WAL position (read-your-writes).
        let positions = !self.replicas.is_empty();
        let mut out: Vec<Result<String, DbError>> = Vec::with_capacity(mutations.len());
        let mut opening = Some(opening);
        // Whether the last flight's last answer was a failure, not yet rolled back.
        let mut failed = false;
        while out.len() < mutations.len() {
            let start = out.len();
            let mut flight: Vec<Flight<'a>> = vec![];
            if failed {
                let back = sql::rollback_to_savepoint(start - 1);
                flight.push(Box::pin(async move {
                    client
                        .batch_execute(&back)
                        .await
                        .map_err(DbError::from_pg)
                        .map(|()| String::new())
                }));
            }
            for (i, (m, st)) in mutations
                .iter()
                .zip(prepared.chunks(2))
                .enumerate()
                .skip(start)
            {
                let savepoint = sql::savepoint(i);
                flight.push(Box::pin(async move {
                    let (savepoint, result) = futures::join!(
                        client.batch_execute(&savepoint),
                        Self::mutate(client, m, &st[0], &st[1])
                    );
                    savepoint.map_err(DbError::from_pg).and(result)
                }));
            }
            let opened = async {
                match opening.take() {
                    Some(o) => o.await,
                    None => Ok(()),
                }
            };
            let (opened, results) = futures::join!(opened, in_order(flight));
            let mut results = results.into_iter();
            let recovered = if failed { results.next() } else { None };
            if let Some(e) = opened.err().or(recovered.and_then(Result::err)) {
                let _ = client.batch_execute(sql::ROLLBACK).await;
                return Err(e);
            }
            failed = false;
            for r in results {
                failed = r.is_err();
                out.push(r);
                if failed {
                    break;
                }
            }
        }
        let (recovered, commit) = if failed {
            let back = sql::rollback_to_savepoint(mutations.len() - 1);
            futures::join!(
                async { Some(client.batch_execute(&back).await) },
                route::end(client, sql::COMMIT, positions)
            )
        } else {
            (None, route::end(client, sql::COMMIT, positions).await)
        };
        if let Some(Err(e)) = recovered {
            return Err(DbError::from_pg(e));
        }
        let position = commit.map_err(DbError::from_pg)?;
        Ok((out, position))
    }
}
