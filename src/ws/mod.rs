//! GraphQL over WebSocket on `GET /graphql`: the `graphql-transport-ws` protocol (the
//! graphql-ws library) and the legacy `graphql-ws` one (subscriptions-transport-ws, Apollo's
//! WebSocketLink). The token comes in `connection_init` (or the upgrade's cookie) and is
//! verified as over HTTP; queries, mutations and events all run through the engine.
//!
//! Built on warp's WebSocket rather than juniper_graphql_ws: that crate drives juniper's own
//! subscription resolvers, while this engine never resolves through juniper (it plans SQL).

mod listen;
pub mod protocol;
mod socket;

use crate::engine::Engine;
pub use listen::{Hub, APPLICATION_NAME, DEFAULT_EVENT_BUFFER};
use protocol::Protocol;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Sockets one instance serves at once (`--max-sockets`).
pub const DEFAULT_MAX_SOCKETS: usize = 1000;
/// Operations one socket may have open at once (`--max-subscriptions-per-socket`).
pub const DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET: usize = 100;
/// Messages waiting to be written to one socket.
pub const DEFAULT_SEND_QUEUE: usize = 256;
/// How long an event waits for room in a full send queue before its client, which does not
/// read, is dropped.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct WsOptions {
    /// Where the LISTEN connection connects (the engine's connection string); subscriptions
    /// need it and a schema built with `--simple-subscriptions`.
    pub listen_connection: Option<String>,
    pub max_sockets: usize,
    pub max_subscriptions_per_socket: usize,
    pub send_queue: usize,
    pub send_timeout: Duration,
    /// Events of a topic kept for subscribers still answering earlier ones.
    pub event_buffer: usize,
    /// How long a socket may stay open without `connection_init` (graphql-ws: 3 s).
    pub init_timeout: Duration,
    /// Legacy protocol keep-alive interval (`ka`).
    pub keep_alive: Duration,
    /// Largest message a client may send, in bytes (the HTTP body limit).
    pub max_message_bytes: usize,
    /// How long a new subscription waits for the LISTEN connection.
    pub listen_timeout: Duration,
}

impl Default for WsOptions {
    fn default() -> Self {
        WsOptions {
            listen_connection: None,
            max_sockets: DEFAULT_MAX_SOCKETS,
            max_subscriptions_per_socket: DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET,
            send_queue: DEFAULT_SEND_QUEUE,
            send_timeout: DEFAULT_SEND_TIMEOUT,
            event_buffer: DEFAULT_EVENT_BUFFER,
            init_timeout: Duration::from_secs(3),
            keep_alive: Duration::from_secs(15),
            max_message_bytes: 100 * 1024,
            listen_timeout: Duration::from_secs(5),
        }
    }
}

/// Without the connection string, which may hold a password.
impl std::fmt::Debug for WsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsOptions")
            .field("max_sockets", &self.max_sockets)
            .field(
                "max_subscriptions_per_socket",
                &self.max_subscriptions_per_socket,
            )
            .field("send_queue", &self.send_queue)
            .finish_non_exhaustive()
    }
}

/// Where the upgrade request's cookie token stands.
#[derive(Debug, Clone)]
pub enum CookieToken {
    None,
    Some(String),
    /// A token cookie came with a cross-site upgrade: browsers send cookies with those, so
    /// it may not authenticate (cross-site WebSocket hijacking).
    CrossSite,
}

/// What the upgrade request brought besides the socket.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub protocol: Option<Protocol>,
    pub cookie: CookieToken,
    pub fingerprint: Option<String>,
}

/// The sockets of one instance: the engine, the LISTEN hub and the limits.
pub struct Sockets {
    engine: Arc<Engine>,
    opts: WsOptions,
    /// With `--simple-subscriptions` (a schema with a `Subscription` root).
    hub: Option<Hub>,
    open: AtomicUsize,
}

impl Sockets {
    pub fn new(engine: Arc<Engine>, opts: WsOptions) -> Self {
        let hub = opts
            .listen_connection
            .clone()
            .filter(|_| engine.schema().api.model.subscription_type.is_some())
            .map(|c| Hub::start(c, opts.event_buffer, !engine.exec.replicas.is_empty()));
        Sockets {
            engine,
            opts,
            hub,
            open: AtomicUsize::new(0),
        }
    }

    pub fn max_message_bytes(&self) -> usize {
        self.opts.max_message_bytes
    }

    /// Serves one upgraded socket until it closes.
    pub async fn serve(self: Arc<Self>, ws: warp::ws::WebSocket, upgrade: Upgrade) {
        let open = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        let _count = OpenGuard(&self.open);
        let refuse = match upgrade.protocol {
            None => Some((
                protocol::close::SUBPROTOCOL_NOT_ACCEPTABLE,
                "Subprotocol not acceptable",
            )),
            Some(_) if open > self.opts.max_sockets => {
                Some((protocol::close::TRY_AGAIN_LATER, "too many sockets"))
            }
            Some(_) => None,
        };
        if let Some((code, reason)) = refuse {
            socket::refuse(ws, upgrade.protocol, code, reason).await;
            return;
        }
        socket::serve(self.clone(), ws, upgrade).await;
    }
}

struct OpenGuard<'a>(&'a AtomicUsize);

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
