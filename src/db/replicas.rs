//! Read replicas: a pool per streaming replica, a monitor that samples the primary's WAL
//! position and each replica's replay position, and the choice of where a query runs.
//!
//! Lag is measured from the replay position: the monitor keeps the primary's recent positions
//! with the time it saw them, and a replica's lag is how long ago the primary first passed the
//! position the replica has replayed (0 when it has replayed all the primary had). An idle
//! primary thus never makes a replica look behind, and a paused replay does at once.
//!
//! Choice: the least busy healthy replica (fewest queries in flight), ties taken round robin;
//! a replica that is down or lags more than `--replica-max-lag` is skipped until it recovers,
//! and with none left queries run on the primary.
//!
//! A replica that answers with an error, or is not a standby, is skipped at once; one whose
//! check merely times out (a busy machine) keeps its state until it has not answered for
//! longer than the allowed lag. Every query that was meant for a replica but ran on the primary
//! is counted with its reason (`/ready`, `/metrics`), so a replica that is `ok` yet serves
//! nothing says why.

use crate::sql::text as sql;
use deadpool_postgres::Pool;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The name a client's read-your-writes position travels under: an HTTP header, a socket's
/// `connection_init` payload key, an operation's `extensions` key.
pub const POSITION_NAME: &str = "x-postgraph-lsn";

/// A WAL position (`pg_lsn`), as Postgres writes it: `16/B374D848`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

impl std::str::FromStr for Lsn {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a WAL position like 0/16B3748");
        let (hi, lo) = s.trim().split_once('/').ok_or_else(bad)?;
        let part = |p: &str| {
            (!p.is_empty() && p.len() <= 8)
                .then(|| u32::from_str_radix(p, 16).ok())
                .flatten()
                .ok_or_else(bad)
        };
        Ok(Lsn((u64::from(part(hi)?) << 32) | u64::from(part(lo)?)))
    }
}

/// WAL page size (`wal_block_size`, 8 kB unless Postgres was built otherwise) and the
/// longest page header (at a segment's start; 24 bytes elsewhere).
const WAL_PAGE: u64 = 8192;
const LONG_PAGE_HEADER: u64 = 40;

impl Lsn {
    /// The primary's insert position as a position replicas report reaching. At a page
    /// boundary Postgres reports the insert position past the next page's header, where no
    /// record ends: a replica that replayed everything stays at the boundary, and on an idle
    /// primary it would never be seen to reach the position. No record ends within 40 bytes
    /// after a record ending on a boundary, so the boundary stands for such positions exactly.
    pub fn reachable(self) -> Lsn {
        match self.0 % WAL_PAGE {
            into @ 1..=LONG_PAGE_HEADER => Lsn(self.0 - into),
            _ => self,
        }
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// The latest of a client's comma-separated positions (a link that appends sends several);
/// None for an empty text.
pub fn latest_position(text: &str) -> Result<Option<Lsn>, String> {
    let mut latest = None;
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let lsn = part
            .parse()
            .map_err(|e: String| format!("{POSITION_NAME}: {e}"))?;
        latest = latest.max(Some(lsn));
    }
    Ok(latest)
}

/// One replica and what the monitor last learned of it.
pub struct Replica {
    /// `host:port`, for `/ready`, `/metrics` and logs (never the password).
    pub name: String,
    pub pool: Pool,
    up: AtomicBool,
    replayed: AtomicU64,
    lag_ms: AtomicU64,
    in_flight: AtomicUsize,
    reads: AtomicU64,
    /// When the monitor last had an answer (ms since `Replicas::started`).
    answered_ms: AtomicU64,
    fell_back: AtomicU64,
    last_fallback: Mutex<Option<Fallback>>,
}

/// Why a query meant for a replica ran on the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Its pool had no free connection in time.
    Busy,
    /// No connection could be opened, or it broke during the query.
    Failed,
    /// It had not replayed the position the client asked for.
    Behind,
    /// A recovery conflict cancelled the query (40001 on a standby).
    Conflict,
}

/// What `/ready` and `/metrics` say of a replica.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplicaStatus {
    pub name: String,
    /// `ok`, `lagging` (over the allowed lag: skipped) or `down` (no answer, or not a standby).
    pub state: &'static str,
    pub lag_ms: u64,
    pub replayed: String,
    pub in_flight: usize,
    /// Queries it has served.
    pub reads: u64,
    /// Queries meant for it that ran on the primary instead, and the latest one's reason.
    pub fell_back: u64,
    pub last_fallback: Option<Fallback>,
}

/// Held while a query runs on a replica: it counts as busy.
pub struct InFlight(Arc<Replica>);

impl InFlight {
    pub fn replica(&self) -> &Replica {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a query goes.
pub enum Route {
    /// A healthy replica known to have replayed far enough.
    Replica(InFlight),
    /// A healthy replica not yet known to have replayed the position asked for: check it.
    Check(InFlight, Lsn),
    Primary,
}

/// The replicas, their monitor, and the lag allowed.
pub struct Replicas {
    list: Vec<Arc<Replica>>,
    max_lag: Duration,
    next: AtomicUsize,
    monitor: Mutex<Option<tokio::task::AbortHandle>>,
    started: Instant,
}

/// No replicas: everything runs on the primary.
impl Default for Replicas {
    fn default() -> Self {
        Replicas {
            list: vec![],
            max_lag: Duration::ZERO,
            next: AtomicUsize::new(0),
            monitor: Mutex::new(None),
            started: Instant::now(),
        }
    }
}

impl Drop for Replicas {
    fn drop(&mut self) {
        if let Some(task) = self.monitor.lock().expect("monitor").take() {
            task.abort();
        }
    }
}

/// `host:port` of a connection string, or `replica N` when it names none.
fn display_name(conn: &str, i: usize) -> String {
    let parsed: Option<tokio_postgres::Config> = conn.parse().ok();
    let host = parsed.as_ref().and_then(|c| {
        c.get_hosts().first().map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
    });
    let port = parsed.as_ref().and_then(|c| c.get_ports().first().copied());
    match (host, port) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => format!("{h}:5432"),
        _ => format!("replica {}", i + 1),
    }
}

impl Replicas {
    /// Pools for `connections` (not connected yet: a replica that is down at startup is
    /// skipped until the monitor sees it answer).
    pub fn new(
        connections: &[String],
        max_size: usize,
        wait: Duration,
        max_lag: Duration,
    ) -> Result<Self, super::DbError> {
        let list = connections
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(Arc::new(Replica {
                    name: display_name(c, i),
                    pool: super::pool(c, max_size, wait)?,
                    up: AtomicBool::new(false),
                    replayed: AtomicU64::new(0),
                    lag_ms: AtomicU64::new(0),
                    in_flight: AtomicUsize::new(0),
                    reads: AtomicU64::new(0),
                    answered_ms: AtomicU64::new(0),
                    fell_back: AtomicU64::new(0),
                    last_fallback: Mutex::new(None),
                }))
            })
            .collect::<Result<Vec<_>, super::DbError>>()?;
        Ok(Replicas {
            list,
            max_lag,
            next: AtomicUsize::new(0),
            monitor: Mutex::new(None),
            started: Instant::now(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Starts the monitor, which samples the primary through `primary` every `every`; it
    /// stops when the replicas are dropped. The first round runs before this returns, so
    /// replicas that answer serve from the start.
    pub async fn start_monitor(self: &Arc<Self>, primary: Pool, every: Duration) {
        if self.list.is_empty() {
            return;
        }
        let mut samples = VecDeque::new();
        self.check(&primary, &mut samples).await;
        let weak: Weak<Self> = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(replicas) = weak.upgrade() else {
                    return;
                };
                replicas.check(&primary, &mut samples).await;
            }
        });
        *self.monitor.lock().expect("monitor") = Some(task.abort_handle());
    }

    /// One round: the primary's position, then each replica's.
    async fn check(&self, primary: &Pool, samples: &mut VecDeque<(Instant, u64)>) {
        const WITHIN: Duration = Duration::from_secs(2);
        let now = Instant::now();
        if let Ok(Ok(Some(lsn))) =
            tokio::time::timeout(WITHIN, first_value(primary, sql::PRIMARY_POSITION)).await
        {
            if let Ok(lsn) = lsn.parse::<Lsn>() {
                if samples.back().is_none_or(|(_, last)| *last != lsn.0) {
                    // When it answered: a slow answer must not make the position look older.
                    samples.push_back((Instant::now(), lsn.0));
                }
            }
        }
        // Enough history to tell any lag up to twice the allowed one.
        let keep = (self.max_lag * 2).max(Duration::from_secs(10));
        while samples.len() > 1 && samples.front().is_some_and(|(t, _)| now - *t > keep) {
            samples.pop_front();
        }
        let checks = self.list.iter().map(|r| async move {
            let status = tokio::time::timeout(WITHIN, replica_status(&r.pool)).await;
            (r, status, Instant::now())
        });
        for (r, status, answered) in futures::future::join_all(checks).await {
            match status {
                Ok(Ok(Some(replayed))) => {
                    // The oldest sample past what it replayed: the primary was there since.
                    let lag = samples
                        .iter()
                        .find(|(_, lsn)| *lsn > replayed.0)
                        .map_or(Duration::ZERO, |(t, _)| {
                            answered.saturating_duration_since(*t)
                        });
                    r.replayed.fetch_max(replayed.0, Ordering::Relaxed);
                    r.lag_ms.store(lag.as_millis() as u64, Ordering::Relaxed);
                    r.answered_ms
                        .store(self.since_start(answered), Ordering::Relaxed);
                    if !r.up.swap(true, Ordering::Relaxed) {
                        tracing::info!(replica = %r.name, "read replica answers: serving queries");
                    }
                }
                // No answer in time: a busy machine, unless it lasts longer than the lag allowed.
                Err(_)
                    if self
                        .since_start(now)
                        .saturating_sub(r.answered_ms.load(Ordering::Relaxed))
                        <= self.max_lag.as_millis() as u64 => {}
                other => {
                    if r.up.swap(false, Ordering::Relaxed) {
                        let why = match other {
                            Ok(Ok(None)) => "it is not a standby".to_string(),
                            Ok(Err(e)) => e,
                            _ => "no answer in time".to_string(),
                        };
                        tracing::warn!(replica = %r.name, %why, "read replica skipped: queries go elsewhere");
                    }
                }
            }
        }
    }

    fn since_start(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.started).as_millis() as u64
    }

    fn usable(&self, r: &Replica) -> bool {
        r.up.load(Ordering::Relaxed)
            && Duration::from_millis(r.lag_ms.load(Ordering::Relaxed)) <= self.max_lag
    }

    /// Where a query runs: the least busy usable replica (known to have replayed `after`, when
    /// given), else one to check against `after`, else the primary.
    pub fn route(&self, after: Option<Lsn>) -> Route {
        let n = self.list.len();
        if n == 0 {
            return Route::Primary;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut best: Option<&Arc<Replica>> = None;
        let mut behind: Option<&Arc<Replica>> = None;
        for i in 0..n {
            let r = &self.list[(start + i) % n];
            if !self.usable(r) {
                continue;
            }
            let busy = |x: &Arc<Replica>| x.in_flight.load(Ordering::Relaxed);
            let slot = match after {
                Some(lsn) if r.replayed.load(Ordering::Relaxed) < lsn.0 => &mut behind,
                _ => &mut best,
            };
            if slot.is_none_or(|b| busy(r) < busy(b)) {
                *slot = Some(r);
            }
        }
        let take = |r: &Arc<Replica>| {
            r.in_flight.fetch_add(1, Ordering::Relaxed);
            InFlight(r.clone())
        };
        match (best, behind, after) {
            (Some(r), _, _) => Route::Replica(take(r)),
            (None, Some(r), Some(lsn)) => Route::Check(take(r), lsn),
            _ => Route::Primary,
        }
    }

    /// What a check of a replica found: it replayed `lsn` (so later routes know), or failed.
    pub fn replayed(&self, r: &Replica, lsn: Lsn) {
        r.replayed.fetch_max(lsn.0, Ordering::Relaxed);
    }

    /// A query on `r` failed to connect or lost its connection: skip it until the monitor
    /// sees it answer again.
    pub fn failed(&self, r: &Replica) {
        if r.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(replica = %r.name, "read replica failed a query: skipped until it answers");
        }
    }

    /// A query meant for `r` runs on the primary instead, for `why`.
    pub fn fell_back(&self, r: &Replica, why: Fallback) {
        r.fell_back.fetch_add(1, Ordering::Relaxed);
        *r.last_fallback.lock().expect("fallback") = Some(why);
        tracing::debug!(replica = %r.name, ?why, "query meant for a replica runs on the primary");
    }

    pub fn served(&self, r: &Replica) {
        r.reads.fetch_add(1, Ordering::Relaxed);
    }

    pub fn status(&self) -> Vec<ReplicaStatus> {
        self.list
            .iter()
            .map(|r| ReplicaStatus {
                name: r.name.clone(),
                state: if !r.up.load(Ordering::Relaxed) {
                    "down"
                } else if self.usable(r) {
                    "ok"
                } else {
                    "lagging"
                },
                lag_ms: r.lag_ms.load(Ordering::Relaxed),
                replayed: Lsn(r.replayed.load(Ordering::Relaxed)).to_string(),
                in_flight: r.in_flight.load(Ordering::Relaxed),
                reads: r.reads.load(Ordering::Relaxed),
                fell_back: r.fell_back.load(Ordering::Relaxed),
                last_fallback: *r.last_fallback.lock().expect("fallback"),
            })
            .collect()
    }
}

/// The first column of the first row of a simple query (no named statement, so a pooler in
/// front is fine).
async fn first_value(pool: &Pool, query: &str) -> Result<Option<String>, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let messages = client
        .simple_query(query)
        .await
        .map_err(|e| e.to_string())?;
    Ok(messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
        _ => None,
    }))
}

/// A replica's replay position; None when the server is not a standby.
async fn replica_status(pool: &Pool) -> Result<Option<Lsn>, String> {
    let client = pool.get().await.map_err(|e| e.to_string())?;
    let messages = client
        .simple_query(sql::REPLICA_STATUS)
        .await
        .map_err(|e| e.to_string())?;
    let row = messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    });
    match row.map(|r| (r.get(0), r.get(1))) {
        Some((Some("true"), Some(lsn))) => lsn.parse().map(Some),
        _ => Ok(None),
    }
}

/// The replay position a replica reports now (for a read that must see a given write).
pub async fn replay_position(client: &tokio_postgres::Client) -> Option<Lsn> {
    let messages = client.simple_query(sql::REPLICA_STATUS).await.ok()?;
    messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(1)?.parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::{Lsn, Replicas, Route};
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    /// Three replicas r1..r3 (pools not connected) in these states: (up, lag ms, replayed).
    fn replicas(states: [(bool, u64, u64); 3]) -> Replicas {
        let conns: Vec<String> = (1..=3).map(|i| format!("host=r{i} dbname=app")).collect();
        let set = Replicas::new(&conns, 2, Duration::from_secs(1), Duration::from_secs(5))
            .expect("pools");
        for (r, (up, lag, replayed)) in set.list.iter().zip(states) {
            r.up.store(up, Ordering::Relaxed);
            r.lag_ms.store(lag, Ordering::Relaxed);
            r.replayed.store(replayed, Ordering::Relaxed);
        }
        set
    }

    fn name(route: &Route) -> String {
        match route {
            Route::Replica(busy) => busy.replica().name.clone(),
            Route::Check(busy, _) => format!("check {}", busy.replica().name),
            Route::Primary => "primary".into(),
        }
    }

    #[test]
    fn a_down_or_lagging_replica_is_skipped() {
        let set = replicas([(true, 0, 10), (false, 0, 10), (true, 9000, 10)]);
        for _ in 0..3 {
            assert_eq!(name(&set.route(None)), "r1:5432");
        }
        let none = replicas([(false, 0, 10), (false, 0, 10), (true, 5001, 10)]);
        assert_eq!(name(&none.route(None)), "primary");
        assert_eq!(name(&Replicas::default().route(None)), "primary");
    }

    #[test]
    fn the_least_busy_replica_serves_next() {
        let set = replicas([(true, 0, 10), (true, 0, 10), (true, 0, 10)]);
        let held: Vec<Route> = (0..3).map(|_| set.route(None)).collect();
        let mut names: Vec<String> = held.iter().map(name).collect();
        names.sort();
        assert_eq!(names, ["r1:5432", "r2:5432", "r3:5432"]);
        // With one released, it is the only idle one: the next query goes there.
        let mut held = held;
        let released = name(&held.remove(1));
        assert_eq!(name(&set.route(None)), released);
    }

    #[test]
    fn a_read_after_a_write_needs_a_replica_that_replayed_it() {
        let set = replicas([(true, 0, 10), (true, 0, 50), (false, 0, 99)]);
        // r2 has replayed 40; r3 has 99 but is down.
        assert_eq!(name(&set.route(Some(Lsn(40)))), "r2:5432");
        assert_eq!(name(&set.route(Some(Lsn(50)))), "r2:5432");
        // None known that far: one healthy replica is asked.
        assert!(name(&set.route(Some(Lsn(60)))).starts_with("check r"));
        let down = replicas([(false, 0, 10), (false, 0, 50), (false, 0, 99)]);
        assert_eq!(name(&down.route(Some(Lsn(60)))), "primary");
    }

    #[test]
    fn wal_positions_parse_and_print_as_postgres_writes_them() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.0, (0x16 << 32) | 0xB374_D848);
        // A position inside a page header is the page's start; others stay.
        let at = |s: &str| s.parse::<Lsn>().expect("lsn").reachable().to_string();
        assert_eq!(at("0/3000018"), "0/3000000");
        assert_eq!(at("0/3000028"), "0/3000000");
        assert_eq!(at("0/3000030"), "0/3000030");
        assert_eq!(at("0/3002000"), "0/3002000");
        assert_eq!(at("1/12345678"), "1/12345678");
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!("0/1".parse::<Lsn>().unwrap() < "1/0".parse::<Lsn>().unwrap());
        for bad in ["", "16", "/1", "1/", "x/1", "1/2/3", "123456789/0", "-1/0"] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad:?}");
        }
    }
}
