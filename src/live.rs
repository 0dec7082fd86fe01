//! The live schema: what makes the engine rebuild its schema while it serves, and the rebuild.
//!
//! Triggers: `NOTIFY postgraph, 'reload schema'` (always; PostgREST's convention), SIGHUP
//! (`main` calls [`Live::reload`]), and with `--watch` either the event triggers of
//! `sql/watch_install.sql` (NOTIFY postgraph_watch after DDL) or, when no role at hand may
//! install them, a catalog fingerprint polled every `--watch-interval`.
//! Triggers close together give one rebuild: the rebuild waits until none came for `quiet`.
//! A rebuild introspects and builds beside the schema being served and swaps it in
//! ([`Engine::replace_api`]); one that fails leaves the old schema serving and logs why.

use crate::engine::Engine;
use crate::server::{self, EngineConfig};
use crate::sql::text::{self, RELOAD_CHANNEL, WATCH_CHANNEL};
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

/// How often `--watch` compares the catalog fingerprint when it has no event trigger.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);
/// How long the triggers must stay quiet before a rebuild starts.
pub const DEFAULT_QUIET: Duration = Duration::from_millis(300);
/// The longest a rebuild waits for quiet while triggers keep coming.
const MAX_WAIT: Duration = Duration::from_secs(5);
/// How long [`start`] waits for the LISTEN connection.
const LISTEN_WAIT: Duration = Duration::from_secs(10);
const RECONNECT_MIN: Duration = Duration::from_millis(200);
const RECONNECT_MAX: Duration = Duration::from_secs(10);
/// `application_name` of the reload LISTEN connection, so it shows in `pg_stat_activity`.
const APPLICATION_NAME: &str = "postgraph reload";

#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// `--watch`: follow DDL by itself.
    pub watch: bool,
    /// `--owner-connection`: a role that may install the event triggers (a superuser).
    pub owner_connection: Option<String>,
    /// `--listen-connection`: where the reload LISTEN goes (around a transaction pooler,
    /// which would lose the notifications); the engine's own connection when absent.
    pub listen_connection: Option<String>,
    /// `--watch-interval`: how often the fingerprint is compared without event triggers.
    pub poll_interval: Duration,
    /// How long triggers must stay quiet before a rebuild.
    pub quiet: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            watch: false,
            owner_connection: None,
            listen_connection: None,
            poll_interval: DEFAULT_POLL_INTERVAL,
            quiet: DEFAULT_QUIET,
        }
    }
}

/// How `--watch` learns of DDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    Off,
    EventTrigger,
    Fingerprint,
}

/// What the reloads have done so far.
#[derive(Default)]
struct Counts {
    reloads: AtomicU64,
    failures: AtomicU64,
}

/// The background tasks of the live schema; they stop when this is dropped.
pub struct Live {
    wake: Arc<Notify>,
    counts: Arc<Counts>,
    mode: WatchMode,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.tasks.iter().for_each(|t| t.abort());
    }
}

impl Live {
    /// Asks for a rebuild (SIGHUP).
    pub fn reload(&self) {
        self.wake.notify_one();
    }

    /// Rebuilds that succeeded (the schema's generation is one more than this).
    pub fn reloads(&self) -> u64 {
        self.counts.reloads.load(Ordering::SeqCst)
    }

    /// Rebuilds that failed and left the old schema serving.
    pub fn failures(&self) -> u64 {
        self.counts.failures.load(Ordering::SeqCst)
    }

    pub fn mode(&self) -> WatchMode {
        self.mode
    }
}

/// Starts the reload machinery for `engine`, built from `cfg`. With `--watch`, the event
/// triggers are installed first (the fingerprint poll is the fallback when that is refused).
pub async fn start(engine: Arc<Engine>, cfg: EngineConfig, opts: LiveOptions) -> Live {
    let wake = Arc::new(Notify::new());
    let counts = Arc::new(Counts::default());
    let mode = if opts.watch {
        install_triggers(&cfg, &opts).await
    } else {
        WatchMode::Off
    };
    let engine_fingerprint = engine.schema().api.catalog_fingerprint.clone();
    let listening = Arc::new(Notify::new());
    let mut channels = vec![RELOAD_CHANNEL];
    if mode == WatchMode::EventTrigger {
        channels.push(WATCH_CHANNEL);
    }
    let mut tasks = vec![
        tokio::spawn(rebuilds(
            engine,
            cfg.clone(),
            opts.quiet,
            wake.clone(),
            counts.clone(),
        ))
        .abort_handle(),
        tokio::spawn(listen(
            opts.listen_connection
                .clone()
                .unwrap_or_else(|| cfg.connection.clone()),
            channels,
            wake.clone(),
            listening.clone(),
        ))
        .abort_handle(),
    ];
    // Returns once the LISTEN is in place (or the wait is over): a NOTIFY from then on counts.
    if tokio::time::timeout(LISTEN_WAIT, listening.notified())
        .await
        .is_err()
    {
        tracing::warn!(
            "the schema reload LISTEN connection is not up yet; retrying in the background"
        );
    }
    // A trigger between the schema's snapshot and the LISTEN was missed: the catalog's
    // fingerprint then differs from the one read with the schema, and one rebuild catches up.
    let mut poller = Poller {
        connection: cfg.connection.clone(),
        schemas: cfg.schemas.clone(),
        client: None,
    };
    let now = poller.fingerprint().await;
    let built = engine_fingerprint.as_deref();
    if now.as_deref().is_some_and(|now| built != Some(now)) {
        tracing::info!("the catalog changed while the schema was built: reloading");
        wake.notify_one();
    }
    if mode == WatchMode::Fingerprint {
        tasks
            .push(tokio::spawn(poll(poller, now, opts.poll_interval, wake.clone())).abort_handle());
    }
    Live {
        wake,
        counts,
        mode,
        tasks,
    }
}

/// Installs the event triggers through the owner connection, else the engine's own.
async fn install_triggers(cfg: &EngineConfig, opts: &LiveOptions) -> WatchMode {
    let connection = opts.owner_connection.as_ref().unwrap_or(&cfg.connection);
    let installed = async {
        let client = crate::db::connect(connection)
            .await
            .map_err(|e| e.to_string())?;
        client
            .batch_execute(text::WATCH_INSTALL_SQL)
            .await
            .map_err(|e| {
                e.as_db_error()
                    .map_or(e.to_string(), |d| d.message().into())
            })
    }
    .await;
    match installed {
        Ok(()) => {
            tracing::info!("--watch: event triggers installed; DDL reloads the schema");
            WatchMode::EventTrigger
        }
        Err(why) => {
            tracing::info!(
                reason = %why,
                "--watch: no event triggers (they need a superuser: see --owner-connection); \
                 polling a catalog fingerprint instead"
            );
            WatchMode::Fingerprint
        }
    }
}

/// Waits for a trigger, then for quiet, then rebuilds; forever.
async fn rebuilds(
    engine: Arc<Engine>,
    cfg: EngineConfig,
    quiet: Duration,
    wake: Arc<Notify>,
    counts: Arc<Counts>,
) {
    loop {
        wake.notified().await;
        let first = Instant::now();
        while first.elapsed() < MAX_WAIT {
            tokio::select! {
                _ = wake.notified() => continue,
                _ = tokio::time::sleep(quiet) => break,
            }
        }
        let started = Instant::now();
        match server::rebuild_api(&cfg).await {
            Ok(api) => {
                let generation = engine.replace_api(api);
                counts.reloads.fetch_add(1, Ordering::SeqCst);
                tracing::info!(
                    generation,
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    "schema reloaded"
                );
            }
            Err(e) => {
                counts.failures.fetch_add(1, Ordering::SeqCst);
                tracing::warn!(error = %e, "schema reload failed: the previous schema keeps serving");
            }
        }
    }
}

/// LISTENs on `channels` on a connection of its own; a `reload schema` (or empty) payload on
/// `postgraph`, and anything on `postgraph_watch`, wakes the rebuild. After a lost connection
/// a rebuild is asked for too: a notification may have been missed meanwhile.
async fn listen(
    connection: String,
    channels: Vec<&'static str>,
    wake: Arc<Notify>,
    listening: Arc<Notify>,
) {
    let mut backoff = RECONNECT_MIN;
    let mut lost = false;
    loop {
        let result = async {
            let mut config: tokio_postgres::Config = connection.parse()?;
            if config.get_application_name().is_none() {
                config.application_name(APPLICATION_NAME);
            }
            let (client, mut conn) = config.connect(NoTls).await?;
            // The connection is driven by a task of its own; notifications come through `rx`.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let driver = tokio::spawn(async move {
                let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
                while let Some(m) = messages.next().await {
                    if let AsyncMessage::Notification(n) = m? {
                        let _ = tx.send(n);
                    }
                }
                Ok::<(), tokio_postgres::Error>(())
            });
            let statements: String = channels.iter().map(|c| text::listen(c) + ";").collect();
            client.batch_execute(&statements).await?;
            listening.notify_one();
            backoff = RECONNECT_MIN;
            if lost {
                wake.notify_one();
            }
            while let Some(n) = rx.recv().await {
                let reload = n.channel() == WATCH_CHANNEL
                    || matches!(n.payload().trim(), "" | "reload schema");
                if reload {
                    wake.notify_one();
                }
            }
            if let Ok(ended) = driver.await {
                ended?;
            }
            drop(client);
            Ok::<(), tokio_postgres::Error>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "schema reload LISTEN connection lost");
        }
        lost = true;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RECONNECT_MAX);
    }
}

/// Reads the catalog fingerprint, reconnecting when its connection was lost.
struct Poller {
    connection: String,
    schemas: Vec<String>,
    client: Option<tokio_postgres::Client>,
}

impl Poller {
    async fn fingerprint(&mut self) -> Option<String> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = crate::db::connect(&self.connection).await.ok();
        }
        let client = self.client.as_ref()?;
        match client
            .query_one(text::CATALOG_FINGERPRINT_SQL, &[&self.schemas])
            .await
        {
            Ok(row) => Some(row.get(0)),
            Err(e) => {
                tracing::warn!(error = %e, "--watch: the catalog fingerprint could not be read");
                None
            }
        }
    }
}

/// Compares the catalog fingerprint every `interval`; a change wakes the rebuild.
async fn poll(mut poller: Poller, mut last: Option<String>, interval: Duration, wake: Arc<Notify>) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(now) = poller.fingerprint().await else {
            continue;
        };
        if last.as_ref().is_some_and(|l| *l != now) {
            wake.notify_one();
        }
        last = Some(now);
    }
}
