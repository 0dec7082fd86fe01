//! Subscriptions under load (issue 11): N subscribers over `graphql-transport-ws`, each
//! subscribed as a signed-in user to one topic, and a publisher sending v4's NOTIFYs
//! (`{"__node__": ["posts", id]}`), first at a fixed rate, then flat out. Measured: events
//! delivered per second (all subscribers together), the latency from NOTIFY to delivery, and
//! postgraph's CPU and memory. Each NOTIFY names another published post, so a delivered event
//! (its `relatedNode.id`) tells which NOTIFY it answers, and when that was sent.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::proc::{self, CpuUsage};
use crate::{env_num, server, step, Config, Result};

const TOPIC: &str = "bench";
const SUBSCRIPTION: &str =
    "subscription { listen(topic: \"bench\") { relatedNodeId relatedNode { ... on Post { id title } } } }";
/// Posts 1..=90,000 are published (cluster.rs: the drafts are the last tenth), so every
/// subscriber sees the node of every event; NOTIFY number `seq` names post `seq + 1`.
const PUBLISHED_POSTS: u64 = 90_000;
/// How long the stragglers of a phase may take to arrive once the publisher stopped.
const DRAIN: Duration = Duration::from_secs(10);

/// The measurement's knobs (environment, see bench/README.md).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub subscribers: usize,
    /// NOTIFYs per second in the fixed-rate phase.
    pub rate: u32,
    /// Flat out: NOTIFYs sent ahead of the slowest subscriber at most (beyond the server's
    /// queues a subscriber would be dropped, which is not what this measures).
    pub window: u64,
}

impl Settings {
    pub fn from_env() -> Result<Settings> {
        let s = Settings {
            subscribers: env_num("BENCH_EVENTS_SUBSCRIBERS", 50)?,
            rate: env_num("BENCH_EVENTS_RATE", 20)?,
            window: env_num("BENCH_EVENTS_WINDOW", 64)?,
        };
        if s.subscribers == 0 || s.rate == 0 || s.window == 0 {
            return Err("BENCH_EVENTS_SUBSCRIBERS, _RATE and _WINDOW must be ≥ 1".into());
        }
        Ok(s)
    }
}

/// One phase's figures.
pub struct Phase {
    pub label: String,
    pub notifies: u64,
    pub delivered: u64,
    /// Deliveries that never came (sent × subscribers − delivered).
    pub missing: u64,
    /// Deliveries without the post they name (should be none).
    pub unresolved: u64,
    pub per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub cpu: CpuUsage,
    pub peak_rss_kb: u64,
}

pub struct Events {
    pub settings: Settings,
    /// postgraph's RSS with every subscriber connected and subscribed, before any event.
    pub subscribed_rss_kb: u64,
    pub phases: Vec<Phase>,
    /// Subscribers whose socket ended before the end (dropped by the server, or an error).
    pub dropped: usize,
    /// (count, line) of the events server's warnings and errors.
    pub log_problems: Vec<(usize, String)>,
}

/// What the subscribers and the publisher share.
struct Shared {
    base: Instant,
    /// When NOTIFY number `seq` was sent, in ns after `base` (0: not sent).
    sent_at: Vec<AtomicU64>,
}

impl Shared {
    fn since_base(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

/// One subscriber's side of the shared state.
#[derive(Default)]
struct Subscriber {
    received: AtomicU64,
    /// Events without the post they name (`relatedNode` null, an error): not what is measured.
    unresolved: AtomicU64,
    /// ns after `base` of the last delivery.
    last_at: AtomicU64,
    /// NOTIFY → delivery, in µs, since the last phase ended.
    latencies: Mutex<Vec<u32>>,
    closed: AtomicBool,
}

/// Starts a postgraph with `--simple-subscriptions`, connects the subscribers and runs the
/// phases.
#[allow(clippy::too_many_arguments)]
pub async fn measure(
    config: &Config,
    settings: Settings,
    authenticator: &str,
    admin: &str,
    server_args: &[String],
    token: &str,
    postmaster: u32,
    work: &Path,
) -> Result<Events> {
    let mut args = server_args.to_vec();
    args.push("--simple-subscriptions".into());
    let server = server::Server::start(
        &config.binary,
        authenticator,
        &args,
        &work.join("postgraph-events.log"),
        &config.rust_log,
    )
    .await?;
    let url = server.url.replacen("http://", "ws://", 1);
    let shared = Arc::new(Shared {
        base: Instant::now(),
        sent_at: (0..PUBLISHED_POSTS).map(|_| AtomicU64::new(0)).collect(),
    });
    let mut subs = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..settings.subscribers {
        let sub = Arc::new(Subscriber::default());
        let socket = subscribe(&url, token).await?;
        readers.push(tokio::spawn(read(socket, shared.clone(), sub.clone())));
        subs.push(sub);
    }
    let subscribed_rss_kb = proc::status_kb(server.pid, "VmRSS").unwrap_or(0);
    step(format_args!(
        "  {} subscribers, postgraph RSS {}",
        settings.subscribers,
        crate::report::mib(subscribed_rss_kb)
    ));

    let publisher = postgraph::db::connect(admin).await?;
    let notify = publisher.prepare("select pg_notify($1, $2)").await?;
    let channel = format!("postgraphile:{TOPIC}");
    let mut run = Publisher {
        client: &publisher,
        notify: &notify,
        channel: &channel,
        shared: &shared,
        subs: &subs,
        next: 0,
    };
    let rate = Load::Rate(settings.rate);
    let flat_out = Load::FlatOut(settings.window);
    run.phase(rate, config.load.warmup, server.pid, postmaster)
        .await?;
    let mut phases = Vec::new();
    for load in [rate, flat_out] {
        let phase = run
            .phase(load, config.load.duration, server.pid, postmaster)
            .await?;
        step(format_args!("  {}", phase.summary()));
        phases.push(phase);
    }
    let dropped = subs
        .iter()
        .filter(|s| s.closed.load(Ordering::Relaxed))
        .count();
    for r in readers {
        r.abort();
    }
    Ok(Events {
        settings,
        subscribed_rss_kb,
        phases,
        dropped,
        log_problems: server.log_problems(),
    })
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a socket, authenticates, subscribes, and returns once the subscription listens (a
/// query sent after it is answered: the server takes a socket's operations in order).
async fn subscribe(url: &str, token: &str) -> Result<Socket> {
    let mut req = url.into_client_request()?;
    req.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut s, _) = tokio_tungstenite::connect_async(req).await?;
    let bearer = format!("Bearer {token}");
    for m in [
        json!({"type": "connection_init", "payload": {"Authorization": bearer}}),
        json!({"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIPTION}}),
        json!({"type": "subscribe", "id": "sync", "payload": {"query": "{ __typename }"}}),
    ] {
        s.send(Message::text(m.to_string())).await?;
    }
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), s.next())
            .await
            .map_err(|_| "subscriber: no answer in 30 s")?;
        let Some(Ok(Message::Text(t))) = m else {
            return Err(format!("subscriber: the socket ended while subscribing: {m:?}").into());
        };
        let v: Value = serde_json::from_str(&t)?;
        match (v["type"].as_str(), v["id"].as_str()) {
            (Some("connection_ack"), _) | (Some("next"), Some("sync")) => {}
            (Some("complete"), Some("sync")) => return Ok(s),
            _ => return Err(format!("subscriber: unexpected {v}").into()),
        }
    }
}

/// Reads a subscriber's events until its socket ends.
async fn read(mut socket: Socket, shared: Arc<Shared>, sub: Arc<Subscriber>) {
    while let Some(Ok(m)) = socket.next().await {
        let Message::Text(t) = m else { continue };
        let now = shared.since_base();
        let Ok(v) = serde_json::from_str::<Value>(&t) else {
            continue;
        };
        let id = v["payload"]["data"]["listen"]["relatedNode"]["id"].as_u64();
        let sent = id
            .and_then(|id| shared.sent_at.get(id.checked_sub(1)? as usize))
            .map(|s| s.load(Ordering::Relaxed))
            .filter(|&s| s > 0);
        match sent {
            Some(sent) => {
                let micros = (now.saturating_sub(sent) / 1000).min(u64::from(u32::MAX)) as u32;
                sub.latencies.lock().expect("latencies").push(micros);
            }
            None => {
                sub.unresolved.fetch_add(1, Ordering::Relaxed);
            }
        }
        sub.last_at.store(now, Ordering::Relaxed);
        sub.received.fetch_add(1, Ordering::Relaxed);
    }
    sub.closed.store(true, Ordering::Relaxed);
}

#[derive(Debug, Clone, Copy)]
enum Load {
    /// NOTIFYs per second.
    Rate(u32),
    /// As fast as the slowest subscriber takes them, at most this many ahead.
    FlatOut(u64),
}

struct Publisher<'a> {
    client: &'a tokio_postgres::Client,
    notify: &'a tokio_postgres::Statement,
    channel: &'a str,
    shared: &'a Shared,
    subs: &'a [Arc<Subscriber>],
    /// The next NOTIFY's number.
    next: u64,
}

impl Publisher<'_> {
    fn slowest(&self) -> u64 {
        self.subs
            .iter()
            .filter(|s| !s.closed.load(Ordering::Relaxed))
            .map(|s| s.received.load(Ordering::Relaxed))
            .min()
            .unwrap_or(u64::MAX)
    }

    async fn send(&mut self) -> Result<bool> {
        let seq = self.next;
        let Some(slot) = self.shared.sent_at.get(seq as usize) else {
            return Ok(false);
        };
        let payload = json!({"__node__": ["posts", seq + 1]}).to_string();
        slot.store(self.shared.since_base(), Ordering::Relaxed);
        self.client
            .execute(self.notify, &[&self.channel, &payload])
            .await?;
        self.next += 1;
        Ok(true)
    }

    /// Publishes for `duration`, waits for the deliveries, and collects the figures.
    async fn phase(
        &mut self,
        load: Load,
        duration: Duration,
        server: u32,
        postmaster: u32,
    ) -> Result<Phase> {
        let first = self.next;
        let unresolved = |subs: &[Arc<Subscriber>]| -> u64 {
            subs.iter()
                .map(|s| s.unresolved.load(Ordering::Relaxed))
                .sum()
        };
        let unresolved_before = unresolved(self.subs);
        let received_before: u64 = self
            .subs
            .iter()
            .map(|s| s.received.load(Ordering::Relaxed))
            .sum();
        let cpu = proc::CpuMeter::start(Some(server), postmaster);
        let rss = proc::RssSampler::start(server);
        let started_ns = self.shared.since_base();
        let started = Instant::now();
        match load {
            Load::Rate(rate) => {
                let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                while started.elapsed() < duration {
                    tick.tick().await;
                    if !self.send().await? {
                        break;
                    }
                }
            }
            Load::FlatOut(window) => {
                while started.elapsed() < duration {
                    if self.next >= self.slowest().saturating_add(window) {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    }
                    if !self.send().await? {
                        break;
                    }
                }
            }
        }
        // The stragglers: until every open subscriber has every event, or DRAIN passed.
        let drain = Instant::now();
        while self.slowest() < self.next && drain.elapsed() < DRAIN {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let peak_rss_kb = rss.stop().await;
        let cpu = cpu.stop();
        let notifies = self.next - first;
        let received: u64 = self
            .subs
            .iter()
            .map(|s| s.received.load(Ordering::Relaxed))
            .sum();
        let delivered = received - received_before;
        let last = self
            .subs
            .iter()
            .map(|s| s.last_at.load(Ordering::Relaxed))
            .max()
            .unwrap_or(started_ns);
        let secs = (last.saturating_sub(started_ns) as f64 / 1e9).max(1e-9);
        let mut latencies: Vec<u32> = Vec::new();
        for s in self.subs {
            latencies.append(&mut s.latencies.lock().expect("latencies"));
        }
        latencies.sort_unstable();
        let pick = |q: f64| {
            let i = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
            latencies.get(i).map_or(0.0, |&us| f64::from(us) / 1000.0)
        };
        Ok(Phase {
            label: match load {
                Load::Rate(r) => format!("{r} NOTIFY/s"),
                Load::FlatOut(w) => format!("flat out (≤ {w} ahead)"),
            },
            notifies,
            delivered,
            missing: (notifies * self.subs.len() as u64).saturating_sub(delivered),
            unresolved: unresolved(self.subs) - unresolved_before,
            per_sec: delivered as f64 / secs,
            p50_ms: pick(0.5),
            p99_ms: pick(0.99),
            max_ms: latencies.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
            cpu,
            peak_rss_kb,
        })
    }
}

impl Phase {
    fn per_delivery_us(&self, secs: f64) -> f64 {
        secs * 1e6 / self.delivered.max(1) as f64
    }

    pub fn summary(&self) -> String {
        format!(
            "{}: {} NOTIFYs, {:.0} events/s delivered, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, \
             {} missing, {} without their post, peak RSS {}",
            self.label,
            self.notifies,
            self.per_sec,
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.missing,
            self.unresolved,
            crate::report::mib(self.peak_rss_kb)
        )
    }
}

/// The report's section.
pub fn markdown(e: &Events) -> String {
    let s = e.settings;
    let mut out = String::new();
    let _ = writeln!(out, "\n## Subscriptions (issue 11)\n");
    let _ = writeln!(
        out,
        "{} subscribers over `graphql-transport-ws` (one socket each, signed in as one user), \
         each subscribed to `listen(topic: \"{TOPIC}\") {{ relatedNodeId relatedNode {{ ... on \
         Post {{ id title }} }} }}` on a postgraph started with `--simple-subscriptions`; a \
         publisher sends `NOTIFY \"postgraphile:{TOPIC}\"` with `{{\"__node__\": [\"posts\", id]}}`, \
         another published post each time, first at {} NOTIFY/s, then flat out (never more than \
         {} NOTIFYs ahead of the slowest subscriber). Every event is resolved once per \
         subscriber, in its own transaction under RLS. events/s = deliveries (all subscribers) \
         ÷ time from the phase's first NOTIFY to its last delivery; latency = from sending the \
         NOTIFY to the subscriber reading the event (flat out it includes the queueing). CPU in \
         µs per delivered event.\n",
        s.subscribers, s.rate, s.window
    );
    let _ = writeln!(
        out,
        "| load | NOTIFYs | events delivered | events/s | p50 | p99 | max | missing | postgraph CPU | Postgres CPU | other processes | peak RSS |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for p in &e.phases {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.1} ms | {} | {:.0} µs | {:.0} µs | {:.0} % | {} |",
            p.label,
            p.notifies,
            p.delivered,
            p.per_sec,
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.missing,
            p.per_delivery_us(p.cpu.server),
            p.per_delivery_us(p.cpu.postgres),
            100.0 * p.cpu.other / p.cpu.capacity.max(1e-9),
            crate::report::mib(p.peak_rss_kb)
        );
    }
    let _ = writeln!(
        out,
        "\npostgraph RSS with the {} subscribers connected, before any event: {}.{}",
        s.subscribers,
        crate::report::mib(e.subscribed_rss_kb),
        if e.dropped > 0 {
            format!(
                " **{} subscriber(s) lost their socket during the run.**",
                e.dropped
            )
        } else {
            String::new()
        }
    );
    for p in e.phases.iter().filter(|p| p.unresolved > 0) {
        let _ = writeln!(
            out,
            "\n- **{}: {} events came without the post they name** (null `relatedNode` or \
             errors); their latency is not counted.",
            p.label, p.unresolved
        );
    }
    for (n, line) in e.log_problems.iter().take(5) {
        let _ = writeln!(
            out,
            "\n- the subscriptions' postgraph logged {n} × `{}`",
            line.chars().take(200).collect::<String>()
        );
    }
    out
}
