//! The one LISTEN connection of an instance: a dedicated connection (not from the pool)
//! LISTENs on every channel some subscriber wants and fans each NOTIFY out to them. Each
//! channel keeps a bounded ring of recent events shared by its subscribers; one that falls
//! further behind than the ring is told so (and its socket dropped), so memory stays bounded.
//!
//! With read replicas, each batch of notifications is stamped with the primary's WAL insert
//! position read on the same connection right after they arrived: Postgres delivers a NOTIFY
//! only after its transaction committed, so that position is at or past the commit, and an
//! event's query may run on a replica that has replayed it.

use crate::db::replicas::Lsn;
use crate::sql;
use futures::StreamExt;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};
use tokio_postgres::{AsyncMessage, NoTls};

/// A notification, parsed once for all subscribers.
#[derive(Debug)]
pub struct Notification {
    /// The payload (None: not JSON, which v4 ignores).
    pub payload: Option<Json>,
    /// A WAL position at or past its transaction's commit (None: not read, no replicas).
    pub position: Option<Lsn>,
}

pub type Event = Arc<Notification>;

/// Events of one channel that subscribers still resolving may be behind by.
pub const DEFAULT_EVENT_BUFFER: usize = 16_384;

const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(10);

/// The LISTEN connection's `application_name` (unless the connection string sets one): it
/// tells it apart from the pool's in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "postgraph listen";

struct Channel {
    events: broadcast::Sender<Event>,
    /// True once the connection LISTENs on it (again false while reconnecting).
    listening: watch::Sender<bool>,
}

struct Inner {
    connection: String,
    buffer: usize,
    /// Stamp events with the primary's position (there are read replicas).
    positions: bool,
    channels: Mutex<HashMap<String, Channel>>,
    /// Wakes the connection task when the set of channels changed.
    changed: Notify,
}

/// The LISTEN connection and its subscribers; the task stops when the hub is dropped.
pub struct Hub {
    inner: Arc<Inner>,
    task: tokio::task::AbortHandle,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The LISTEN connection did not confirm the channel in time.
#[derive(Debug, thiserror::Error)]
#[error("subscriptions are unavailable: the database does not answer")]
pub struct Unavailable;

/// One subscriber of a channel; dropping it unsubscribes (the last one UNLISTENs).
pub struct Listener {
    channel: String,
    pub events: broadcast::Receiver<Event>,
    inner: Arc<Inner>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut channels = self.inner.channels.lock().expect("channels");
        // Our own receiver still counts until this returns.
        if channels
            .get(&self.channel)
            .is_some_and(|c| c.events.receiver_count() <= 1)
        {
            channels.remove(&self.channel);
            self.inner.changed.notify_one();
        }
    }
}

impl Hub {
    /// Starts the connection task (it connects, and reconnects, in the background); with
    /// `positions`, events carry the primary's WAL position.
    pub fn start(connection: String, buffer: usize, positions: bool) -> Hub {
        let inner = Arc::new(Inner {
            connection,
            buffer,
            positions,
            channels: Mutex::new(HashMap::new()),
            changed: Notify::new(),
        });
        let task = tokio::spawn(run(inner.clone())).abort_handle();
        Hub { inner, task }
    }

    /// Subscribes to `channel`, waiting up to `wait` until the connection LISTENs on it: an
    /// event published after this returns reaches the listener.
    pub async fn listen(&self, channel: &str, wait: Duration) -> Result<Listener, Unavailable> {
        let (listener, mut ready) = {
            let mut channels = self.inner.channels.lock().expect("channels");
            let c = channels.entry(channel.to_string()).or_insert_with(|| {
                self.inner.changed.notify_one();
                Channel {
                    events: broadcast::channel(self.inner.buffer).0,
                    listening: watch::channel(false).0,
                }
            });
            let listener = Listener {
                channel: channel.to_string(),
                events: c.events.subscribe(),
                inner: self.inner.clone(),
            };
            (listener, c.listening.subscribe())
        };
        let confirmed = matches!(
            tokio::time::timeout(wait, ready.wait_for(|l| *l)).await,
            Ok(Ok(_))
        );
        if confirmed {
            Ok(listener)
        } else {
            Err(Unavailable)
        }
    }
}

impl Inner {
    fn publish(&self, channel: &str, payload: &str, position: Option<Lsn>) {
        let channels = self.channels.lock().expect("channels");
        if let Some(c) = channels.get(channel) {
            let event = Arc::new(Notification {
                payload: serde_json::from_str(payload).ok(),
                position,
            });
            // No receiver left is fine: the channel is about to be UNLISTENed.
            let _ = c.events.send(event);
        }
    }

    fn mark(&self, channel: &str, listening: bool) {
        if let Some(c) = self.channels.lock().expect("channels").get(channel) {
            c.listening.send_replace(listening);
        }
    }

    fn wanted(&self) -> HashSet<String> {
        self.channels
            .lock()
            .expect("channels")
            .keys()
            .cloned()
            .collect()
    }
}

/// Connects, LISTENs, and reconnects with backoff when the connection is lost (events
/// published meanwhile are missed, as with v4). The backoff grows only while connecting fails:
/// a connection lost after it was up is retried at once.
async fn run(inner: Arc<Inner>) {
    let mut backoff = RECONNECT_MIN;
    loop {
        let mut connected = false;
        let result = connection(&inner, &mut connected).await;
        if connected {
            backoff = RECONNECT_MIN;
        }
        if let Err(e) = result {
            tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "subscriptions' LISTEN connection lost");
        }
        for c in inner.channels.lock().expect("channels").values() {
            c.listening.send_replace(false);
        }
        tokio::time::sleep(backoff).await;
        if !connected {
            backoff = (backoff * 2).min(RECONNECT_MAX);
        }
    }
}

async fn connection(inner: &Arc<Inner>, connected: &mut bool) -> Result<(), tokio_postgres::Error> {
    let mut config: tokio_postgres::Config = inner.connection.parse()?;
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    let (client, mut connection) = config.connect(NoTls).await?;
    *connected = true;
    let fanout = inner.clone();
    let (stamp_tx, mut to_stamp) = tokio::sync::mpsc::unbounded_channel();
    // The connection is driven here; notifications go straight to the channels' rings, or,
    // to be stamped with a position, to the loop below (which can query this connection).
    let mut driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            if let AsyncMessage::Notification(n) = m? {
                if fanout.positions {
                    let _ = stamp_tx.send(n);
                } else {
                    fanout.publish(n.channel(), n.payload(), None);
                }
            }
        }
        Ok::<(), tokio_postgres::Error>(())
    });
    let mut listening: HashSet<String> = HashSet::new();
    let result = async {
        loop {
            let wanted = inner.wanted();
            for c in wanted.difference(&listening.clone()) {
                client.batch_execute(&sql::listen(c)).await?;
                listening.insert(c.clone());
            }
            for c in listening.clone().difference(&wanted) {
                client.batch_execute(&sql::unlisten(c)).await?;
                listening.remove(c);
            }
            // A channel dropped and wanted again between two rounds is still listened on.
            for c in &listening {
                inner.mark(c, true);
            }
            tokio::select! {
                _ = inner.changed.notified() => {}
                Some(first) = to_stamp.recv() => {
                    // Those that arrived together share one position, read after all of them.
                    let mut batch = vec![first];
                    while let Ok(n) = to_stamp.try_recv() {
                        batch.push(n);
                    }
                    let position = insert_position(&client).await?;
                    for n in batch {
                        inner.publish(n.channel(), n.payload(), position);
                    }
                }
                done = &mut driver => {
                    return match done {
                        Ok(r) => r,
                        Err(_) => Ok(()),
                    };
                }
            }
        }
    }
    .await;
    driver.abort();
    result
}

/// The primary's WAL insert position now (None from a server that is not a primary).
async fn insert_position(
    client: &tokio_postgres::Client,
) -> Result<Option<Lsn>, tokio_postgres::Error> {
    let messages = client.simple_query(sql::INSERT_POSITION).await?;
    Ok(messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => {
            row.get(0)?.parse::<Lsn>().ok().map(Lsn::reachable)
        }
        _ => None,
    }))
}
