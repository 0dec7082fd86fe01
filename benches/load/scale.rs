//! Beyond one server (BENCH_ONLY=scale): reads with a streaming replica beside the primary
//! (req/s and the primary's CPU per request), the cost of `--pooler transaction` (unnamed
//! statements) directly and through pgbouncer, and the delay a read-your-writes read adds.
//! Each setup is its own postgraph process, measured back to back with the plain one.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use postgraph::config::example;
use postgraph::db::embedded::EmbeddedPostgres;
use serde_json::json;

use crate::{ops, proc, server, wrk, Config, Load, Result};

/// One setup's throughput on the list read, and the primary Postgres' CPU per request.
pub struct Row {
    pub label: String,
    pub measured: wrk::Measured,
    /// CPU time of the primary's Postgres processes per request, µs.
    pub primary_cpu_us: f64,
}

/// Latencies of sequential reads right after a write, with and without its position header.
pub struct ReadYourWrites {
    pub samples: usize,
    pub with_header_p50_ms: f64,
    pub without_header_p50_ms: f64,
}

pub struct Scale {
    pub rows: Vec<Row>,
    pub ryw: Option<ReadYourWrites>,
}

/// The setups: plain, pooler mode direct, pooler mode through pgbouncer (when installed),
/// and one replica beside the primary.
#[allow(clippy::too_many_arguments)]
pub async fn measure(
    config: &Config,
    pg: &EmbeddedPostgres,
    authenticator: &str,
    database: &str,
    args: &[String],
    token: &str,
    work: &Path,
    script: &Path,
) -> Result<Scale> {
    let postmaster = pg.pid().ok_or("embedded Postgres has no pid")?;
    let list = ops::all(token, token)
        .into_iter()
        .find(|o| o.name == "list")
        .ok_or("no list operation")?;
    let body = work.join("scale-list.json");
    std::fs::write(&body, list.body().to_string())?;
    let with = |extra: &[&str]| {
        let mut a = args.to_vec();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let mut setups: Vec<(String, String, Vec<String>)> = vec![
        ("primary only".into(), authenticator.into(), with(&[])),
        (
            "`--pooler transaction`, direct".into(),
            authenticator.into(),
            with(&["--pooler", "transaction"]),
        ),
    ];
    let bouncer = match pg.start_pgbouncer(&[example::AUTHENTICATOR], 8).await {
        Ok(b) => {
            setups.push((
                "`--pooler transaction` through pgbouncer".into(),
                b.connection_string(example::AUTHENTICATOR, database),
                with(&["--pooler", "transaction"]),
            ));
            Some(b)
        }
        Err(e) => {
            crate::step(format_args!("  pgbouncer skipped: {e}"));
            None
        }
    };
    let replica = pg.start_replica().await?;
    let replica_url = replica.connection_string(example::AUTHENTICATOR, database);
    setups.push((
        "one `--read-replica` beside the primary".into(),
        authenticator.into(),
        with(&["--read-replica", &replica_url]),
    ));
    let mut rows = vec![];
    for (label, connection, args) in &setups {
        crate::step(format_args!("  scale: {label}"));
        let server = server::Server::start(
            &config.binary,
            connection,
            args,
            &work.join("postgraph-scale.log"),
            &config.rust_log,
        )
        .await?;
        let run = wrk::Run {
            url: &server.url,
            script,
            body: &body,
            token: None,
        };
        run.measure(Load {
            duration: config.load.warmup,
            ..config.load
        })
        .await?;
        let meter = proc::CpuMeter::start(Some(server.pid), postmaster);
        let measured = run.measure(config.load).await?;
        let cpu = meter.stop();
        let requests = measured.requests.max(1) as f64;
        rows.push(Row {
            label: label.clone(),
            primary_cpu_us: cpu.postgres * 1e6 / requests,
            measured,
        });
    }
    // Read-your-writes: the replica server again, one client, write then read.
    let server = server::Server::start(
        &config.binary,
        authenticator,
        &setups.last().map(|s| s.2.clone()).unwrap_or_default(),
        &work.join("postgraph-ryw.log"),
        &config.rust_log,
    )
    .await?;
    let ryw = read_your_writes(&server.url, token, if config.quick { 50 } else { 200 }).await?;
    drop(server);
    drop(bouncer);
    drop(replica);
    Ok(Scale {
        rows,
        ryw: Some(ryw),
    })
}

/// `samples` rounds of: a write, a read with its position, a write, a read without.
async fn read_your_writes(url: &str, token: &str, samples: usize) -> Result<ReadYourWrites> {
    let http = reqwest::Client::new();
    let write = json!({"query": "mutation { createPost(input: {post: {title: \"ryw\"}}) { post { id } } }"});
    let read = json!({"query": "{ allPosts(first: 1, orderBy: ID_DESC) { nodes { id } } }"});
    let bearer = format!("Bearer {token}");
    let (mut with, mut without) = (vec![], vec![]);
    for _ in 0..samples {
        for header in [true, false] {
            let r = http
                .post(url)
                .header("authorization", &bearer)
                .json(&write)
                .send()
                .await?;
            let position = r
                .headers()
                .get(postgraph::http::POSITION_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or("a mutation's response has no position header")?;
            r.bytes().await?;
            let mut req = http.post(url).header("authorization", &bearer).json(&read);
            if header {
                req = req.header(postgraph::http::POSITION_HEADER, position);
            }
            let started = Instant::now();
            req.send().await?.bytes().await?;
            let took = started.elapsed();
            if header { &mut with } else { &mut without }.push(took);
        }
    }
    let p50 = |mut v: Vec<Duration>| {
        v.sort();
        v.get(v.len() / 2).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(ReadYourWrites {
        samples,
        with_header_p50_ms: p50(with),
        without_header_p50_ms: p50(without),
    })
}

pub fn markdown(scale: &Scale) -> String {
    let mut out = String::from(
        "\n## Beyond one server\n\nThe list read under the same load against one postgraph per \
         setup, back to back (figures from a busy shared machine: compare rows, not runs). \
         The replica runs on the same machine as the primary, so it adds no cores: what it \
         shows is the work moved off the primary's Postgres.\n\n\
         | setup | req/s | p50 | p99 | primary Postgres CPU per request |\n|---|---:|---:|---:|---:|\n",
    );
    for r in &scale.rows {
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.0} µs |",
            r.label,
            r.measured.requests_per_sec,
            r.measured.p50_ms,
            r.measured.p99_ms,
            r.primary_cpu_us
        );
    }
    if let Some(ryw) = &scale.ryw {
        let _ = writeln!(
            out,
            "\nRead-your-writes, one client, {} rounds of a createPost then a read: with the \
             position header p50 {:.2} ms, without it {:.2} ms. A read whose position the \
             monitor has not yet seen replayed asks the replica once (one round trip) and goes \
             to the primary when it is behind.",
            ryw.samples, ryw.with_header_p50_ms, ryw.without_header_p50_ms
        );
    }
    out
}
