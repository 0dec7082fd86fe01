//! The soak run: `cargo bench --bench load -- soak` (see bench/README.md). The release binary
//! serves the seeded example app while clients on loopback mix valid reads and writes with
//! invalid and hostile requests, and Postgres is restarted twice meanwhile. It reports the
//! requests served, answers by kind, status and code, whether every acknowledged write is in
//! the database, how long service took to come back after each restart, and postgraph's RSS.
//! The Markdown report goes to bench/soak.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use postgraph::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use serde_json::{json, Value};

use crate::{cluster, env_num, example, ops, proc, server, step, Result, WorkDir};

/// What a client sends; the kinds the report counts separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Read,
    Write,
    Invalid,
    Hostile,
}

/// Counts by (kind, status, code), acknowledged writes, and answers that should never happen.
#[derive(Default)]
struct Tally {
    answers: BTreeMap<(Kind, u16, String), u64>,
    acknowledged: Vec<i32>,
    /// Requests with no HTTP answer at all (connection refused or reset).
    transport_errors: u64,
    unexpected: Vec<String>,
}

struct Request {
    kind: Kind,
    body: String,
    token: Option<String>,
    content_type: &'static str,
}

fn gql(kind: Kind, query: &str, variables: Value, token: Option<&str>) -> Request {
    Request {
        kind,
        body: json!({"query": query, "variables": variables}).to_string(),
        token: token.map(str::to_string),
        content_type: "application/json",
    }
}

/// The n-th request of client `client`: reads half the time, writes, invalid and hostile
/// requests in fixed proportions (a deterministic rotation, so runs compare).
fn request(client: usize, n: u64, reader: &str, writer: &str) -> Request {
    match n % 20 {
        0..=3 => gql(
            Kind::Read,
            "{ allPosts(first: 20) { nodes { id title } } }",
            json!({}),
            None,
        ),
        4..=6 => gql(
            Kind::Read,
            "query($id: Int!) { postById(id: $id) { id title } }",
            json!({"id": 1 + (n % 9000) as i32}),
            None,
        ),
        7..=9 => gql(
            Kind::Read,
            "{ me { id username } }",
            json!({}),
            Some(reader),
        ),
        10..=12 => gql(
            Kind::Write,
            "mutation($t: String!) { createPost(input: {post: {title: $t, body: \"soak\", published: false}}) { post { id } } }",
            json!({"t": format!("soak {client} {n}")}),
            Some(writer),
        ),
        13 => Request {
            kind: Kind::Invalid,
            body: "{\"query\": \"{ allPosts { totalCount } }\"".into(),
            token: None,
            content_type: "application/json",
        },
        14 => gql(Kind::Invalid, "{ allPosts { nodes { nope } } }", json!({}), None),
        15 => gql(
            Kind::Invalid,
            "{ me { id } }",
            json!({}),
            Some("eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYXBwX3Bvc3RncmFwaCJ9.bad-signature"),
        ),
        16 => Request {
            kind: Kind::Invalid,
            body: "query=%7B+me+%7B+id+%7D+%7D".into(),
            token: None,
            content_type: "application/x-www-form-urlencoded",
        },
        17 => gql(
            Kind::Hostile,
            &format!(
                "{{ {} }}",
                (0..1000)
                    .map(|i| format!("a{i}: allPosts {{ totalCount }}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            json!({}),
            None,
        ),
        18 => gql(
            Kind::Hostile,
            &format!(
                "{{ {}id{} }}",
                "allPosts { nodes { userByAuthorId { postsByAuthorId { nodes { ".repeat(8),
                " } } } } }".repeat(8)
            ),
            json!({}),
            None,
        ),
        _ => gql(
            Kind::Hostile,
            "{ allPosts(first: 1000000) { nodes { id } } }",
            json!({}),
            None,
        ),
    }
}

async fn client_loop(
    client: usize,
    url: String,
    reader: String,
    writer: String,
    until: Instant,
    tally: Arc<Mutex<Tally>>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let mut n = client as u64 * 7;
    while Instant::now() < until {
        let r = request(client, n, &reader, &writer);
        n += 1;
        let mut send = http
            .post(&url)
            .header("content-type", r.content_type)
            .body(r.body);
        if let Some(t) = &r.token {
            send = send.bearer_auth(t);
        }
        let answer = match send.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body: Value = resp
                    .text()
                    .await
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or(Value::Null);
                Some((status, body))
            }
            Err(_) => None,
        };
        let Some((status, body)) = answer else {
            // postgraph itself never goes away; a refused connection is a finding.
            tally.lock().unwrap().transport_errors += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut t = tally.lock().unwrap();
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or(if body["errors"].is_array() { "?" } else { "-" })
            .to_string();
        if status >= 500 && status != 503 && status != 504 {
            t.unexpected
                .push(format!("{:?} → {status} {code}: {body}", r.kind));
        }
        if body.is_null() {
            t.unexpected.push(format!(
                "{:?} → {status} with a body that is not JSON",
                r.kind
            ));
        }
        if r.kind == Kind::Write && status == 200 {
            if let Some(id) = body["data"]["createPost"]["post"]["id"].as_i64() {
                t.acknowledged.push(id as i32);
            }
        }
        *t.answers.entry((r.kind, status, code)).or_default() += 1;
    }
}

/// From a restart until a read answers 200 again.
async fn time_to_recover(http: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    loop {
        let ok = http
            .post(url)
            .json(&json!({"query": "{ allPosts(first: 1) { nodes { id } } }"}))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok || started.elapsed() > Duration::from_secs(60) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn run(binary: &Path, rust_log: &str, output: &Path) -> Result<()> {
    let duration = Duration::from_secs(env_num("SOAK_DURATION", 90)?);
    let clients: usize = env_num("SOAK_CLIENTS", 8)?;
    let work = WorkDir::create()?;

    step("soak: starting embedded PostgreSQL");
    let mut pg = EmbeddedPostgres::start(EmbeddedOptions::default()).await?;
    let app = cluster::create_app(&pg, false).await?;
    let args: Vec<String> = vec![
        "--jwt-secret".into(),
        crate::JWT_SECRET.into(),
        "--jwt-token-identifier".into(),
        example::JWT_TOKEN_IDENTIFIER.into(),
        "--default-role".into(),
        example::DEFAULT_ROLE.into(),
    ];
    let server = server::Server::start(
        binary,
        &app.authenticator,
        &args,
        &work.0.join("postgraph.log"),
        rust_log,
    )
    .await?;
    let http = reqwest::Client::new();
    let reader = ops::sign_in(&http, &server.url, &cluster::user_email(1)).await?;
    let writer = ops::sign_in(&http, &server.url, cluster::WRITER_EMAIL).await?;
    let rss_start = proc::status_kb(server.pid, "VmRSS").unwrap_or(0);

    step(format_args!(
        "soak: {clients} clients for {} s, Postgres restarted at 1/3 and 2/3",
        duration.as_secs()
    ));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let until = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            tokio::spawn(client_loop(
                c,
                server.url.clone(),
                reader.clone(),
                writer.clone(),
                until,
                tally.clone(),
            ))
        })
        .collect();
    let mut recoveries = vec![];
    for third in 1..=2u32 {
        tokio::time::sleep_until((started + duration * third / 3).into()).await;
        step(format_args!("soak: restarting Postgres ({third} of 2)"));
        let restarted = Instant::now();
        pg.restart().await?;
        let down = restarted.elapsed();
        let back = time_to_recover(&http, &server.url).await;
        step(format_args!(
            "soak: Postgres back in {} ms, postgraph serving reads {} ms after that",
            down.as_millis(),
            back.as_millis()
        ));
        recoveries.push((down, back));
    }
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed();
    let rss_end = proc::status_kb(server.pid, "VmRSS").unwrap_or(0);
    let rss_peak = proc::status_kb(server.pid, "VmHWM").unwrap_or(0);

    let admin = postgraph::db::connect(&app.admin).await?;
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let present: i64 = admin
        .query_one(
            "select count(*) from app_public.posts where id = any($1)",
            &[&tally.acknowledged],
        )
        .await?
        .get(0);
    let soak_rows: i64 = admin
        .query_one(
            "select count(*) from app_public.posts where title like 'soak %'",
            &[],
        )
        .await?
        .get(0);
    let log_problems = server.log_problems();
    drop(server);

    let report = markdown(&Summary {
        clients,
        elapsed,
        tally: &tally,
        present,
        soak_rows,
        recoveries: &recoveries,
        rss: (rss_start, rss_end, rss_peak),
        log_problems: &log_problems,
    });
    println!("{report}");
    std::fs::write(output, &report)?;
    step(format_args!("soak report written to {}", output.display()));
    drop(pg);
    let lost = tally.acknowledged.len() as i64 - present;
    if lost != 0 || !tally.unexpected.is_empty() {
        return Err(format!(
            "soak found problems: {lost} acknowledged writes missing, {} unexpected answers",
            tally.unexpected.len()
        )
        .into());
    }
    Ok(())
}

struct Summary<'a> {
    clients: usize,
    elapsed: Duration,
    tally: &'a Tally,
    present: i64,
    soak_rows: i64,
    recoveries: &'a [(Duration, Duration)],
    rss: (u64, u64, u64),
    log_problems: &'a [(usize, String)],
}

fn markdown(s: &Summary<'_>) -> String {
    let machine = crate::report::Machine::detect();
    let total: u64 = s.tally.answers.values().sum();
    let mut out = String::new();
    let _ = writeln!(out, "# postgraph soak run\n");
    let _ = writeln!(
        out,
        "{} · {} CPUs ({}) · postgraph {} · {} clients on loopback for {:.0} s, Postgres \
         restarted (fast shutdown) at 1/3 and 2/3 of the run. Per 20 requests a client sends \
         10 reads (`allPosts(first: 20)`, `postById`, `me`), 3 `createPost`s, 4 invalid \
         requests (malformed JSON, an unknown field, a bad token, a form POST) and 3 hostile \
         ones (1,000 aliases, nesting 40 deep, `first: 1000000`).\n",
        machine.date,
        machine.cpus,
        machine.cpu_model,
        machine.commit,
        s.clients,
        s.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "- Requests answered: {total} ({:.0}/s); no HTTP answer at all: {}.",
        total as f64 / s.elapsed.as_secs_f64(),
        s.tally.transport_errors
    );
    let _ = writeln!(
        out,
        "- Acknowledged writes: {}; present in the database: {} (every acknowledged write \
         present: {}); rows the run wrote in all: {} (a write whose answer was lost to a \
         restart may or may not have committed).",
        s.tally.acknowledged.len(),
        s.present,
        if s.present == s.tally.acknowledged.len() as i64 {
            "yes"
        } else {
            "NO"
        },
        s.soak_rows
    );
    for (i, (down, back)) in s.recoveries.iter().enumerate() {
        let _ = writeln!(
            out,
            "- Restart {}: Postgres accepting connections again after {} ms; postgraph answering \
             reads {} ms after that, without being restarted.",
            i + 1,
            down.as_millis(),
            back.as_millis()
        );
    }
    let (start, end, peak) = s.rss;
    let _ = writeln!(
        out,
        "- postgraph RSS: {} at the start, {} at the end, {} peak.",
        crate::report::mib(start),
        crate::report::mib(end),
        crate::report::mib(peak)
    );
    let _ = writeln!(
        out,
        "- Unexpected answers (a 5xx other than 503/504, or a body that is not JSON): {}.",
        s.tally.unexpected.len()
    );
    for u in s.tally.unexpected.iter().take(10) {
        let _ = writeln!(out, "  - `{}`", u.chars().take(300).collect::<String>());
    }
    let _ = writeln!(
        out,
        "\n| kind | status | code | answers |\n|---|---:|---|---:|"
    );
    for ((kind, status, code), n) in &s.tally.answers {
        let _ = writeln!(out, "| {kind:?} | {status} | {code} | {n} |");
    }
    if !s.log_problems.is_empty() {
        let _ = writeln!(out, "\npostgraph's warnings and errors (count × line):\n");
        for (n, line) in s.log_problems.iter().take(15) {
            let _ = writeln!(
                out,
                "- {n} × `{}`",
                line.chars().take(200).collect::<String>()
            );
        }
    }
    out
}
