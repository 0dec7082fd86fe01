//! The one LISTEN connection of an instance: a dedicated connection (not from the pool)
//! LISTENs on every channel some subscriber wants and fans each NOTIFY out to them. Each
//! channel keeps a bounded ring of recent events shared by its subscribers; one that falls
//! further behind than the ring is told so (and its socket dropped), so memory stays bounded.

use crate::sql;
use futures::StreamExt;
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch, Notify};
use tokio_postgres::{AsyncMessage, NoTls};

/// A notification's payload, parsed once for all subscribers (None: not JSON, as v4 ignores).
pub type Event = Arc<Option<Json>>;

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
    /// Starts the connection task (it connects, and reconnects, in the background).
    pub fn start(connection: String, buffer: usize) -> Hub {
        let inner = Arc::new(Inner {
            connection,
            buffer,
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
    fn publish(&self, channel: &str, payload: &str) {
        let channels = self.channels.lock().expect("channels");
        if let Some(c) = channels.get(channel) {
            let event = Arc::new(serde_json::from_str(payload).ok());
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
    // The connection is driven here; notifications go straight to the channels' rings.
    let mut driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            if let AsyncMessage::Notification(n) = m? {
                fanout.publish(n.channel(), n.payload());
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
