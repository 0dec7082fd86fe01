//! What the example app's revocation check costs per request. Since V5 it is the pre-request
//! function (`--pre-request app_private.check_session`, run once per request in its transaction,
//! sent in the same round trip as the claims): it compares the token's `session_version` claim
//! with the account's (one index lookup in `user_accounts`), so `signout_everywhere` revokes
//! access tokens before their `exp`, with a 401. The signed-in operations are measured with
//! that function, then with a no-op of the same signature, back to back in each round, and the
//! original is put back. The call itself (one more statement in the pipeline) is in both.

use std::fmt::Write as _;
use std::path::Path;

use crate::{ops, wrk, Load, Result};

/// The pre-request function the benchmark's postgraph runs (the example app's).
pub const PRE_REQUEST: &str = "app_private.check_session";

/// A `check_session()` that checks nothing: the call stays, the lookup goes.
const WITHOUT_CHECK: &str = "create or replace function app_private.check_session() returns void
  language plpgsql stable security definer
  set search_path = pg_catalog, pg_temp
as $$ begin end $$";

const DEFINITION: &str = "select pg_get_functiondef('app_private.check_session()'::regprocedure)";

/// One operation measured with and without the check, every round.
pub struct Cost {
    pub label: &'static str,
    /// (with the check, without it), per round.
    pub rounds: Vec<(wrk::Measured, wrk::Measured)>,
}

pub struct Measure<'a> {
    pub admin: &'a tokio_postgres::Client,
    pub url: &'a str,
    pub script: &'a Path,
    pub work: &'a Path,
    pub load: Load,
    pub warmup: Load,
    pub rounds: u32,
}

impl Measure<'_> {
    pub async fn run(&self, ops: &[&ops::Op]) -> Result<Vec<Cost>> {
        let original: String = self.admin.query_one(DEFINITION, &[]).await?.get(0);
        let result = self.measure(ops, &original).await;
        // Whatever happened, the example app gets its own function back.
        self.admin.batch_execute(&original).await?;
        result
    }

    async fn measure(&self, ops: &[&ops::Op], original: &str) -> Result<Vec<Cost>> {
        let mut costs: Vec<Cost> = ops
            .iter()
            .map(|op| Cost {
                label: op.label,
                rounds: vec![],
            })
            .collect();
        for _ in 0..self.rounds {
            for (op, cost) in ops.iter().zip(&mut costs) {
                let body = self.work.join(format!("{}-revocation.json", op.name));
                std::fs::write(&body, op.body().to_string())?;
                let run = wrk::Run {
                    url: self.url,
                    script: self.script,
                    body: &body,
                    token: op.token.as_deref(),
                };
                self.admin.batch_execute(original).await?;
                run.measure(self.warmup).await?;
                let with = run.measure(self.load).await?;
                self.admin.batch_execute(WITHOUT_CHECK).await?;
                run.measure(self.warmup).await?;
                let without = run.measure(self.load).await?;
                crate::step(format_args!(
                    "  {}: {:.0} req/s with the check, {:.0} without",
                    op.name, with.requests_per_sec, without.requests_per_sec
                ));
                cost.rounds.push((with, without));
            }
        }
        Ok(costs)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The report's section. The machine is saturated under this load (more connections than
/// cores), so the throughput difference is the work the check adds: `cores × (1/with −
/// 1/without)` of machine time per request.
pub fn markdown(costs: &[Cost], cores: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nThe revocation check (example app V5: the pre-request function `check_session()` \
         compares the token's `session_version` with the account's, once per request), \
         measured with it and with a no-op `check_session()` back to back in each round; \
         medians of the rounds. Under this \
         load the machine is saturated, so the cost per request is the machine time the check \
         adds: {cores} cores × (1 / req/s with − 1 / req/s without):\n"
    );
    let _ = writeln!(
        out,
        "| operation | req/s with check | req/s without | p50 with / without | cost per request |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for c in costs {
        let with = median(c.rounds.iter().map(|r| r.0.requests_per_sec).collect());
        let without = median(c.rounds.iter().map(|r| r.1.requests_per_sec).collect());
        let p50_with = median(c.rounds.iter().map(|r| r.0.p50_ms).collect());
        let p50_without = median(c.rounds.iter().map(|r| r.1.p50_ms).collect());
        let per_request_us = if with > 0.0 && without > 0.0 {
            cores as f64 * 1e6 * (1.0 / with - 1.0 / without)
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "| {} | {with:.0} | {without:.0} | {p50_with:.2} / {p50_without:.2} ms | {per_request_us:.0} µs |",
            c.label
        );
    }
    out
}
