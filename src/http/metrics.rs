//! Prometheus metrics at `/metrics` (with `--metrics`), in the text exposition format written
//! by hand: GraphQL requests by operation name and status, a latency histogram, errors by
//! code, and the pool's connections in use, idle and waited for.

use crate::exec::PoolStatus;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Operation names are chosen by clients: past this many distinct ones, the rest count
/// under `operation="_other"` (and each is cut to [`MAX_LABEL`] characters), so that no
/// client can grow the metrics without bound.
const MAX_OPERATIONS: usize = 500;
const OTHER: &str = "_other";

#[derive(Default)]
pub struct Metrics {
    /// Operation name (or "") → HTTP status → requests.
    requests: Mutex<HashMap<String, HashMap<u16, u64>>>,
    /// Error code (SQLSTATE or the engine's own) → requests whose first error it was.
    errors: Mutex<HashMap<String, u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Metrics {
    /// Counts one GraphQL request.
    pub fn observe(
        &self,
        operation: Option<&str>,
        status: u16,
        elapsed: Duration,
        code: Option<&str>,
    ) {
        {
            let mut requests = self.requests.lock().expect("metrics");
            let name = operation.map_or("", label);
            // Looked up by &str first: a known name costs no allocation.
            if let Some(statuses) = requests.get_mut(name) {
                *statuses.entry(status).or_insert(0) += 1;
            } else {
                let key = if requests.len() < MAX_OPERATIONS {
                    name
                } else {
                    OTHER
                };
                *requests
                    .entry(key.to_string())
                    .or_default()
                    .entry(status)
                    .or_insert(0) += 1;
            }
        }
        if let Some(code) = code {
            let mut errors = self.errors.lock().expect("metrics");
            // Codes are SQLSTATEs or the engine's own: a bounded set, but guard it anyway.
            if errors.contains_key(code) || errors.len() < MAX_OPERATIONS {
                *errors.entry(code.to_string()).or_insert(0) += 1;
            }
        }
        let seconds = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// The exposition text (`text/plain; version=0.0.4`).
    pub fn render(&self, pool: PoolStatus) -> String {
        let mut out = String::new();
        out.push_str("# HELP postgraph_requests_total GraphQL requests by operation name and HTTP status.\n# TYPE postgraph_requests_total counter\n");
        let mut requests: Vec<_> = self
            .requests
            .lock()
            .expect("metrics")
            .iter()
            .flat_map(|(op, statuses)| statuses.iter().map(|(s, n)| ((op.clone(), *s), *n)))
            .collect();
        requests.sort();
        for ((operation, status), n) in requests {
            let _ = writeln!(
                out,
                "postgraph_requests_total{{operation=\"{}\",status=\"{status}\"}} {n}",
                escape(&operation)
            );
        }
        out.push_str("# HELP postgraph_errors_total GraphQL requests by the code of their first error (a SQLSTATE for database errors).\n# TYPE postgraph_errors_total counter\n");
        let mut errors: Vec<_> = self
            .errors
            .lock()
            .expect("metrics")
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        errors.sort();
        for (code, n) in errors {
            let _ = writeln!(
                out,
                "postgraph_errors_total{{code=\"{}\"}} {n}",
                escape(&code)
            );
        }
        out.push_str("# HELP postgraph_request_duration_seconds Time to answer a GraphQL request.\n# TYPE postgraph_request_duration_seconds histogram\n");
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "postgraph_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "postgraph_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}\npostgraph_request_duration_seconds_sum {}\npostgraph_request_duration_seconds_count {count}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = write!(
            out,
            "# HELP postgraph_pool_connections Database connections of the pool, by state.\n# TYPE postgraph_pool_connections gauge\n\
             postgraph_pool_connections{{state=\"in_use\"}} {}\npostgraph_pool_connections{{state=\"idle\"}} {}\n\
             # HELP postgraph_pool_max_connections The pool's size limit (--max-pool-size).\n# TYPE postgraph_pool_max_connections gauge\npostgraph_pool_max_connections {}\n\
             # HELP postgraph_pool_waiting Requests waiting for a database connection.\n# TYPE postgraph_pool_waiting gauge\npostgraph_pool_waiting {}\n",
            pool.size.saturating_sub(pool.available),
            pool.available,
            pool.max_size,
            pool.waiting
        );
        out
    }
}

/// Each read replica: whether it serves queries, its lag, queries in flight and served.
pub fn render_replicas(out: &mut String, replicas: &[crate::db::replicas::ReplicaStatus]) {
    type Value = fn(&crate::db::replicas::ReplicaStatus) -> f64;
    let series: [(&str, &str, &str, Value); 5] = [
        (
            "fallbacks_total",
            "counter",
            "Queries meant for a read replica that ran on the primary instead (see /ready for the latest reason).",
            |r| r.fell_back as f64,
        ),
        (
            "up",
            "gauge",
            "Whether a read replica serves queries (1), or is skipped: down or lagging (0).",
            |r| f64::from(u8::from(r.state == "ok")),
        ),
        (
            "lag_seconds",
            "gauge",
            "How far a read replica's replay is behind the primary.",
            |r| r.lag_ms as f64 / 1000.0,
        ),
        (
            "in_flight",
            "gauge",
            "Queries running on a read replica.",
            |r| r.in_flight as f64,
        ),
        (
            "reads_total",
            "counter",
            "Queries a read replica has answered.",
            |r| r.reads as f64,
        ),
    ];
    for (name, kind, help, value) in series {
        if replicas.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "# HELP postgraph_replica_{name} {help}\n# TYPE postgraph_replica_{name} {kind}"
        );
        for r in replicas {
            // The state names why a replica is skipped; only `up` carries it.
            let state = if name == "up" {
                format!(",state=\"{}\"", r.state)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "postgraph_replica_{name}{{replica=\"{}\"{state}}} {}",
                escape(&r.name),
                value(r)
            );
        }
    }
}

/// Longest operation name kept as a label (longer ones are cut, at a character boundary).
const MAX_LABEL: usize = 100;

fn label(name: &str) -> &str {
    match name.char_indices().nth(MAX_LABEL) {
        Some((i, _)) => &name[..i],
        None => name,
    }
}

/// A label value as the exposition format quotes it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
