//! One socket: `connection_init` and its token, operations (subscriptions through the LISTEN
//! hub, queries and mutations through the engine), the token's expiry, and a bounded send
//! queue in front of the writer: a client that stops reading is dropped, not buffered.
//!
//! Read-your-writes: a socket keeps the latest WAL position it was given (`x-postgraph-lsn` in
//! `connection_init`'s payload or an operation's `extensions`) or got from a mutation it ran;
//! its queries read where that position is visible, and so do its events, when theirs is known.

use super::protocol::{self, close, ClientMessage, Protocol};
use super::{CookieToken, Sockets, Upgrade};
use crate::db::replicas::Lsn;
use crate::engine::{Credentials, Engine, Method, Outcome, RequestError, Subscription};
use futures::stream::SplitStream;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use warp::ws::{Message, WebSocket};

/// How long a server that closed a socket waits for the client's Close frame before it drops
/// the connection (RFC 6455 §7.1.1). Dropping it at once, with frames of the client still
/// unread, makes the kernel reset the connection, and a reset may lose the Close frame: the
/// client then sees 1006 (a dropped network) instead of the close code.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Reads (and ignores) what the client still sends until its Close frame, for a while.
async fn await_client_close(stream: &mut SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(m)) = stream.next().await {
            if m.is_close() {
                break;
            }
        }
    })
    .await;
}

/// The log line of a socket the server closed with an error code (as an HTTP refusal has one).
fn log_refusal(protocol: Option<Protocol>, code: u16, reason: &str) {
    tracing::info!(
        path = "/graphql",
        protocol = protocol.map(Protocol::name),
        close = code,
        reason,
        "websocket refused"
    );
}

/// Closes a socket that is not served (no protocol in common, too many sockets).
pub(super) async fn refuse(
    ws: WebSocket,
    protocol: Option<Protocol>,
    code: u16,
    reason: &'static str,
) {
    log_refusal(protocol, code, reason);
    let (mut sink, mut stream) = ws.split();
    let _ = sink.send(Message::close_with(code, reason)).await;
    await_client_close(&mut stream).await;
    let _ = sink.close().await;
}

/// How a socket's service ended.
enum Ended {
    /// The client does not read: dropped without ceremony.
    Dropped,
    /// The client closed it, or the connection is gone.
    ByClient,
    /// The server closed it with this code and reason.
    ByServer(u16, String),
}

/// The credentials a socket authenticated with: every operation and event checks them again
/// (expiry, the session cache), as a new HTTP request would.
#[derive(Debug, Clone, Default)]
struct Creds {
    authorization: Option<String>,
    cookie: Option<String>,
    fingerprint: Option<String>,
}

impl Creds {
    fn borrow(&self) -> Credentials<'_> {
        Credentials {
            authorization: self.authorization.as_deref(),
            cookie: self.cookie.as_deref(),
            fingerprint: self.fingerprint.as_deref(),
            refresh: None,
        }
    }
}

/// The current credentials, shared with the socket's operations (the legacy protocol may
/// replace them with a new `connection_init`).
type SharedCreds = Arc<Mutex<Arc<Creds>>>;

/// The latest WAL position a socket's client wrote at or asked for (0: none).
#[derive(Clone, Default)]
struct Position(Arc<AtomicU64>);

impl Position {
    fn raise(&self, to: Option<Lsn>) {
        if let Some(lsn) = to {
            self.0.fetch_max(lsn.0, Ordering::Relaxed);
        }
    }
    fn get(&self) -> Option<Lsn> {
        Some(self.0.load(Ordering::Relaxed))
            .filter(|p| *p > 0)
            .map(Lsn)
    }
}

/// The sending half: a bounded queue in front of the socket's writer.
#[derive(Clone)]
struct Outbox {
    tx: mpsc::Sender<Message>,
    /// Signalled when the queue overflowed: the socket is dropped.
    slow: Arc<Notify>,
}

impl Outbox {
    /// Queues a message; false when the client is too far behind (it is then dropped) or gone.
    fn send(&self, text: impl Into<String>) -> bool {
        match self.tx.try_send(Message::text(text.into())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.slow.notify_one();
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Queues an event's message, waiting up to `wait` for room: a client whose queue stays
    /// full that long does not read, and is dropped.
    async fn send_waiting(&self, text: String, wait: Duration) -> bool {
        match tokio::time::timeout(wait, self.tx.send(Message::text(text))).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                self.slow.notify_one();
                false
            }
        }
    }
}

enum Flow {
    Continue,
    Close(u16, String),
}

struct Conn {
    sockets: Arc<Sockets>,
    protocol: Protocol,
    upgrade: Upgrade,
    out: Outbox,
    /// Set by an accepted `connection_init`.
    creds: Option<SharedCreds>,
    /// When the token stops being accepted: the socket closes then.
    expires: Option<Instant>,
    ops: HashMap<String, JoinHandle<()>>,
    position: Position,
}

pub(super) async fn serve(sockets: Arc<Sockets>, ws: WebSocket, upgrade: Upgrade) {
    let Some(protocol) = upgrade.protocol else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Message>(sockets.opts.send_queue);
    let slow = Arc::new(Notify::new());
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let last = m.is_close();
            if sink.send(m).await.is_err() || last {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let mut conn = Conn {
        sockets,
        protocol,
        upgrade,
        out: Outbox {
            tx,
            slow: slow.clone(),
        },
        creds: None,
        expires: None,
        ops: HashMap::new(),
        position: Position::default(),
    };
    let ended = conn.run(&mut stream, &slow).await;
    for (_, op) in conn.ops.drain() {
        op.abort();
    }
    drop(conn);
    match ended {
        Ended::Dropped => {
            // Whatever the writer is stuck on goes with it: the connection is closed.
            writer.abort();
            tracing::info!("socket dropped: the client does not read its messages");
        }
        Ended::ByClient => {
            let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
        }
        Ended::ByServer(code, reason) => {
            if code >= 4000 || code == close::TRY_AGAIN_LATER {
                log_refusal(Some(protocol), code, &reason);
            }
            // The writer sends the Close frame; the client's frames are read until its own.
            let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
            await_client_close(&mut stream).await;
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// A Unix time as an instant of the tokio clock (capped at a year from now).
fn instant_at(unix_secs: f64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let left = (unix_secs - now).clamp(0.0, 365.0 * 86_400.0);
    Instant::now() + Duration::try_from_secs_f64(left).unwrap_or_default()
}

/// The errors array of a request refused before it ran.
fn errors_of(e: &RequestError, production: bool) -> String {
    let body: Json = serde_json::from_str(&e.body(production)).unwrap_or(Json::Null);
    body["errors"].to_string()
}

fn error_list(message: &str, code: &str) -> String {
    json!([{"message": message, "extensions": {"code": code}}]).to_string()
}

impl Conn {
    fn engine(&self) -> &Arc<Engine> {
        &self.sockets.engine
    }

    /// Serves the socket until it ends.
    async fn run(&mut self, stream: &mut SplitStream<WebSocket>, slow: &Notify) -> Ended {
        let init_deadline = tokio::time::sleep(self.sockets.opts.init_timeout);
        tokio::pin!(init_deadline);
        let period = self.sockets.opts.keep_alive;
        let mut keep_alive = tokio::time::interval_at(Instant::now() + period, period);
        loop {
            let legacy_acked = self.protocol == Protocol::Legacy && self.creds.is_some();
            let flow = tokio::select! {
                _ = slow.notified() => return Ended::Dropped,
                m = stream.next() => match m {
                    Some(Ok(m)) if m.is_text() => {
                        let text = m.to_str().unwrap_or_default().to_string();
                        self.on_text(&text).await
                    }
                    Some(Ok(m)) if m.is_binary() => Flow::Close(
                        close::BAD_REQUEST,
                        "Invalid message received: binary".into(),
                    ),
                    Some(Ok(m)) if m.is_close() => return Ended::ByClient,
                    // Ping and pong frames (warp answers pings itself).
                    Some(Ok(_)) => Flow::Continue,
                    Some(Err(_)) | None => return Ended::ByClient,
                },
                _ = &mut init_deadline, if self.creds.is_none() => Flow::Close(
                    close::INIT_TIMEOUT,
                    "Connection initialisation timeout".into(),
                ),
                _ = sleep_until(self.expires) => {
                    Flow::Close(close::UNAUTHORIZED, "Unauthorized: JWT_EXPIRED".into())
                }
                _ = keep_alive.tick(), if legacy_acked => {
                    self.out.send(protocol::KEEP_ALIVE);
                    Flow::Continue
                }
            };
            if let Flow::Close(code, reason) = flow {
                let _ = self
                    .out
                    .tx
                    .try_send(Message::close_with(code, reason.clone()));
                return Ended::ByServer(code, reason);
            }
        }
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        let message = match protocol::parse(self.protocol, text) {
            Ok(m) => m,
            Err(reason) => return Flow::Close(close::BAD_REQUEST, reason),
        };
        match message {
            ClientMessage::Init(payload) => self.init(payload.as_ref()).await,
            ClientMessage::Ping(_) => {
                self.out.send(protocol::PONG);
                Flow::Continue
            }
            ClientMessage::Pong => Flow::Continue,
            ClientMessage::Terminate => Flow::Close(1000, String::new()),
            ClientMessage::Complete { id } => {
                if let Some(op) = self.ops.remove(&id) {
                    op.abort();
                }
                Flow::Continue
            }
            ClientMessage::Subscribe { id, request } => self.subscribe(id, request).await,
        }
    }

    /// `connection_init`: the token is verified exactly as over HTTP; a bad one closes the
    /// socket (4403) before any database work.
    async fn init(&mut self, payload: Option<&Json>) -> Flow {
        if self.creds.is_some() && self.protocol == Protocol::TransportWs {
            return Flow::Close(
                close::TOO_MANY_INITS,
                "Too many initialisation requests".into(),
            );
        }
        match protocol::position(payload) {
            Ok(p) => self.position.raise(p),
            Err(e) => {
                return Flow::Close(close::BAD_REQUEST, format!("Invalid message received: {e}"))
            }
        }
        let authorization = protocol::authorization(payload).map(str::to_string);
        let cookie = match (&authorization, &self.upgrade.cookie) {
            (Some(_), _) | (None, CookieToken::None) => None,
            (None, CookieToken::Some(token)) => Some(token.clone()),
            (None, CookieToken::CrossSite) => {
                return self.forbidden(
                    "a cross-site WebSocket may not authenticate with the token cookie; \
                     send the token in connection_init",
                    "CSRF_REJECTED",
                )
            }
        };
        let creds = Creds {
            authorization,
            cookie,
            fingerprint: self.upgrade.fingerprint.clone(),
        };
        let claims = match self.engine().session_claims(creds.borrow()).await {
            Ok((claims, _)) => claims,
            Err(e) => return self.forbidden(&e.to_string(), e.code()),
        };
        self.expires = claims
            .and_then(|c| self.engine().auth.accepted_until(&c))
            .map(instant_at);
        let creds = Arc::new(creds);
        match &self.creds {
            // Legacy re-authentication: open subscriptions go on under the new token.
            Some(shared) => *shared.lock().expect("creds") = creds,
            None => self.creds = Some(Arc::new(Mutex::new(creds))),
        }
        self.out.send(protocol::CONNECTION_ACK);
        if self.protocol == Protocol::Legacy {
            self.out.send(protocol::KEEP_ALIVE);
        }
        Flow::Continue
    }

    fn forbidden(&self, message: &str, code: &str) -> Flow {
        if self.protocol == Protocol::Legacy {
            let error = json!({"message": message, "extensions": {"code": code}});
            self.out.send(protocol::connection_error(&error));
        }
        Flow::Close(close::FORBIDDEN, format!("Forbidden: {code}"))
    }

    /// An operation refused before it ran (the legacy protocol completes it too).
    fn refuse(&self, id: &str, errors: &str) {
        self.out.send(protocol::error(id, errors));
        if self.protocol == Protocol::Legacy {
            self.out.send(protocol::complete(id));
        }
    }

    async fn subscribe(&mut self, id: String, request: crate::engine::Request) -> Flow {
        let Some(shared) = self.creds.clone() else {
            return Flow::Close(close::UNAUTHORIZED, "Unauthorized".into());
        };
        self.ops.retain(|_, op| !op.is_finished());
        if self.ops.contains_key(&id) {
            if self.protocol == Protocol::TransportWs {
                return Flow::Close(
                    close::SUBSCRIBER_EXISTS,
                    format!("Subscriber for {id} already exists"),
                );
            }
            let message = format!("an operation with id {id} is already open");
            self.refuse(&id, &error_list(&message, "BAD_REQUEST"));
            return Flow::Continue;
        }
        if self.ops.len() >= self.sockets.opts.max_subscriptions_per_socket {
            let message = format!(
                "this socket already has {} operations open (--max-subscriptions-per-socket)",
                self.ops.len()
            );
            self.refuse(&id, &error_list(&message, "TOO_MANY_SUBSCRIPTIONS"));
            return Flow::Continue;
        }
        match protocol::position(request.extensions.as_ref()) {
            Ok(p) => self.position.raise(p),
            Err(e) => {
                self.refuse(&id, &error_list(&e, "BAD_REQUEST"));
                return Flow::Continue;
            }
        }
        let engine = self.engine().clone();
        let production = engine.production;
        let op = match engine.subscription(&request) {
            Err(e) => {
                self.refuse(&id, &errors_of(&e, production));
                return Flow::Continue;
            }
            Ok(None) => self.spawn_operation(id.clone(), request, shared),
            Ok(Some(sub)) => {
                let creds = shared.lock().expect("creds").clone();
                if let Err(e) = engine.session(creds.borrow()).await {
                    self.refuse(&id, &errors_of(&RequestError::Auth(e), production));
                    return Flow::Continue;
                }
                let Some(hub) = &self.sockets.hub else {
                    let message = "subscriptions are not served by this instance";
                    self.refuse(&id, &error_list(message, "BAD_REQUEST"));
                    return Flow::Continue;
                };
                let listener = match hub
                    .listen(&sub.channel, self.sockets.opts.listen_timeout)
                    .await
                {
                    Ok(l) => l,
                    Err(e) => {
                        self.refuse(&id, &error_list(&e.to_string(), "DATABASE_UNAVAILABLE"));
                        return Flow::Continue;
                    }
                };
                self.spawn_subscription(id.clone(), sub, listener, shared)
            }
        };
        self.ops.insert(id, op);
        Flow::Continue
    }

    /// A query or mutation: one result, then `complete`.
    fn spawn_operation(
        &self,
        id: String,
        mut request: crate::engine::Request,
        shared: SharedCreds,
    ) -> JoinHandle<()> {
        let engine = self.engine().clone();
        let out = self.out.clone();
        let protocol = self.protocol;
        let position = self.position.clone();
        request.read_after = position.get();
        tokio::spawn(async move {
            let creds = shared.lock().expect("creds").clone();
            let mut outcome = Outcome::default();
            match engine
                .execute(request, creds.borrow(), Method::Post, &mut outcome)
                .await
            {
                Ok(response) => {
                    position.raise(response.position);
                    out.send(protocol::next(protocol, &id, &response.body.text()));
                    out.send(protocol::complete(&id));
                }
                Err(e) => {
                    out.send(protocol::error(&id, &errors_of(&e, engine.production)));
                    if protocol == Protocol::Legacy {
                        out.send(protocol::complete(&id));
                    }
                }
            }
        })
    }

    /// A `listen` subscription: each event answered in its own transaction, as the current
    /// token's role and claims.
    fn spawn_subscription(
        &self,
        id: String,
        sub: Subscription,
        mut listener: super::listen::Listener,
        shared: SharedCreds,
    ) -> JoinHandle<()> {
        let engine = self.engine().clone();
        let out = self.out.clone();
        let protocol = self.protocol;
        let wait = self.sockets.opts.send_timeout;
        let position = self.position.clone();
        tokio::spawn(async move {
            loop {
                let event = match listener.events.recv().await {
                    Ok(e) => e,
                    // Further behind than the topic's buffer: dropped like a slow client.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        out.slow.notify_one();
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let creds = shared.lock().expect("creds").clone();
                // A token no longer accepted gets no events; the socket's timer closes it.
                let Ok(session) = engine.session(creds.borrow()).await else {
                    continue;
                };
                // Known, the event's position, or the socket's own when that is later.
                let after = event
                    .position
                    .map(|p| position.get().map_or(p, |mine| mine.max(p)));
                let body = match engine
                    .event(&sub, &session, event.payload.as_ref(), after)
                    .await
                {
                    Ok(body) => body,
                    // The pre-request check refused the token (revoked): the socket closes
                    // as it does at expiry, so the client refreshes or signs in again.
                    Err(RequestError::Auth(e)) if e.status() == 401 || e.status() == 403 => {
                        let (code, label) = if e.status() == 401 {
                            (close::UNAUTHORIZED, "Unauthorized")
                        } else {
                            (close::FORBIDDEN, "Forbidden")
                        };
                        let reason = format!("{label}: {}", e.code());
                        log_refusal(Some(protocol), code, &reason);
                        let _ = out.tx.try_send(Message::close_with(code, reason));
                        return;
                    }
                    Err(e) => e.body(engine.production),
                };
                if !out
                    .send_waiting(protocol::next(protocol, &id, &body), wait)
                    .await
                {
                    return;
                }
            }
        })
    }
}
