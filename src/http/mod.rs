//! HTTP edge (warp): the routes `/graphql` (POST/GET in `graphql`, WebSocket upgrades),
//! `/graphiql`, `/health`, `/ready`, `/metrics`, `/.well-known/jwks.json`; panics caught as
//! 500, CORS, one log line per request; the accept loop in `listen`.

mod batch;
mod cookies;
mod graphql;
mod listen;

use crate::engine::{Engine, Outcome};
use crate::exec::ExecError;
use crate::ws::{self, protocol::Protocol, CookieToken, Sockets};
use bytes::Buf;
use futures::FutureExt;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use metrics::Metrics;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;
use warp::{Filter, Reply as _};

#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub body_limit: u64,
    /// Longest wait for a request's headers; None: no limit (`--header-timeout`).
    pub header_timeout: Option<Duration>,
    /// Longest wait for a request's body once its headers are in; then 408 (`--body-timeout`).
    pub body_timeout: Option<Duration>,
    /// Most connections served at once (`--max-connections`); None: no cap.
    pub max_connections: Option<usize>,
    pub graphiql: bool,
    /// Where GraphQL is served, over HTTP and WebSocket (`--graphql`, v4's `-q`).
    pub graphql_route: String,
    /// `--enable-query-batching`: a JSON array of requests is answered with an array of
    /// results, of at most this many operations. None: an array is refused.
    pub batch_limit: Option<usize>,
    /// Where GraphiQL is served (`--graphiql`, v4's `-i`).
    pub graphiql_route: String,
    /// One log line per request (off with `--disable-query-log`).
    pub request_log: bool,
    /// Allow cross-origin requests from any origin (`Access-Control-Allow-Origin: *`, never
    /// with credentials).
    pub cors: bool,
    /// Allow cross-origin requests from these origins only (`scheme://host[:port]`).
    pub cors_origins: Vec<String>,
    /// Serve Prometheus metrics at `/metrics`.
    pub metrics: bool,
    /// `--jwt-cookie`: the cookie a mutation's token is also set in, and read from requests
    /// without an `Authorization` header.
    pub jwt_cookie: Option<String>,
    /// `--insecure-cookies`: cookies without `Secure`, for local http only.
    pub insecure_cookies: bool,
    /// GraphQL over WebSocket on `/graphql`: limits, and the LISTEN connection.
    pub ws: ws::WsOptions,
    /// For tests only (no flag sets it): a GET of this path panics inside the handler, which
    /// proves that a panic anywhere in a request is answered 500 and the server keeps serving.
    #[doc(hidden)]
    pub panic_path: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            body_limit: crate::config::DEFAULT_BODY_SIZE_LIMIT,
            header_timeout: Some(Duration::from_millis(
                crate::config::DEFAULT_HEADER_TIMEOUT_MS,
            )),
            body_timeout: Some(Duration::from_millis(
                crate::config::DEFAULT_BODY_TIMEOUT_MS,
            )),
            max_connections: Some(crate::config::DEFAULT_MAX_CONNECTIONS),
            graphiql: false,
            graphql_route: "/graphql".into(),
            batch_limit: None,
            graphiql_route: "/graphiql".into(),
            request_log: true,
            cors: false,
            cors_origins: vec![],
            metrics: false,
            jwt_cookie: None,
            insecure_cookies: false,
            ws: ws::WsOptions::default(),
            panic_path: None,
        }
    }
}

impl HttpOptions {
    /// Refuses combinations that would weaken the cookie rules (checked at startup).
    pub fn check(&self) -> Result<(), String> {
        let fixed = ["/health", "/ready", "/metrics", "/.well-known/jwks.json"];
        let route = self.graphql_route.as_str();
        if fixed.contains(&route)
            || route.starts_with(graphiql::ASSETS)
            || route == self.graphiql_route
        {
            return Err(format!(
                "--graphql {route}: that route is taken (by {}); choose another",
                if route == self.graphiql_route {
                    "GraphiQL"
                } else {
                    "postgraph itself"
                }
            ));
        }
        for origin in &self.cors_origins {
            cookies::check_origin(origin)?;
        }
        if self.cors && !self.cors_origins.is_empty() {
            return Err("--cors (any origin) and --cors-origin exclude each other".into());
        }
        if let Some(name) = &self.jwt_cookie {
            cookies::check_cookie_name(name)?;
            if self.cors {
                return Err("--jwt-cookie cannot be combined with --cors (any origin): \
                     name the origins allowed to send the cookie with --cors-origin"
                    .into());
            }
        }
        Ok(())
    }
}

mod graphiql;
mod metrics;

type Reply = warp::reply::Response;

/// What the GraphQL handler leaves in the reply's extensions for the request's log line
/// (never a token, a password or variables).
#[derive(Debug, Clone, Default)]
struct Logged {
    operation: Option<String>,
    outcome: Outcome,
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// A mutation's response carries the primary's WAL position after its commit in this header;
/// a request sending it back reads from where that write is visible (docs/deploying.md).
pub const POSITION_HEADER: &str = crate::db::replicas::POSITION_NAME;

/// The routes over a shared engine.
pub fn routes(
    engine: Arc<Engine>,
    opts: Arc<HttpOptions>,
) -> impl Filter<Extract = (Reply,), Error = warp::Rejection> + Clone {
    let raw_query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let metrics = Arc::new(Metrics::default());
    let sockets = Arc::new(Sockets::new(engine.clone(), opts.ws.clone()));
    let ws_opts = opts.clone();
    let ws_route = opts.graphql_route.clone();
    // WebSocket upgrades on the GraphQL route, as v4 serves its subscriptions.
    let on_route = warp::path::full()
        .and_then(move |p: warp::path::FullPath| {
            let here = p.as_str() == ws_route;
            async move {
                if here {
                    Ok(())
                } else {
                    Err(warp::reject::not_found())
                }
            }
        })
        .untuple_one();
    let websocket = on_route
        .and(warp::ws())
        .and(warp::header::headers_cloned())
        .map(move |socket: warp::ws::Ws, headers: HeaderMap| {
            let upgrade = ws_upgrade(&ws_opts, &headers);
            let protocol = upgrade.protocol;
            tracing::info!(
                path = ws_opts.graphql_route.as_str(),
                protocol = protocol.map(Protocol::name),
                "websocket"
            );
            let sockets = sockets.clone();
            let limit = sockets.max_message_bytes();
            let mut reply = warp::Reply::into_response(
                socket
                    .max_message_size(limit)
                    .max_frame_size(limit)
                    .on_upgrade(move |s| sockets.serve(s, upgrade)),
            );
            if let Some(p) = protocol {
                reply.headers_mut().insert(
                    header::SEC_WEBSOCKET_PROTOCOL,
                    HeaderValue::from_static(p.name()),
                );
            }
            reply
        });
    let http = warp::any()
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and(raw_query)
        .and(warp::body::stream())
        .then(
            move |method: http::Method,
                  path: warp::path::FullPath,
                  headers: HeaderMap,
                  query: String,
                  body| {
                let engine = engine.clone();
                let opts = opts.clone();
                let metrics = metrics.clone();
                // One log line per request, at its end; what happened inside the span is its context.
                let span = tracing::info_span!("request");
                async move {
                    let started = Instant::now();
                    let count = opts.metrics;
                    let graphql_route = opts.graphql_route.clone();
                    let request_log = opts.request_log;
                    let allow_origin = allowed_origin(&opts, &headers);
                    let by_origin = !opts.cors_origins.is_empty();
                    // Credentials (the token cookie) only ever for an origin named exactly.
                    let credentials = by_origin && opts.jwt_cookie.is_some();
                    let work = AssertUnwindSafe(dispatch(
                        engine,
                        opts,
                        &metrics,
                        method.clone(),
                        path.as_str().to_string(),
                        headers,
                        query,
                        body,
                    ))
                    .catch_unwind();
                    let mut reply = match work.await {
                        Ok(reply) => reply,
                        Err(_) => {
                            tracing::error!(path = path.as_str(), "handler panicked");
                            refuse(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "application/json",
                                "internal server error",
                                "INTERNAL_SERVER_ERROR",
                            )
                        }
                    };
                    if let Some(origin) = allow_origin {
                        let h = reply.headers_mut();
                        if credentials {
                            h.insert(
                                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                                HeaderValue::from_static("true"),
                            );
                        }
                        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                        // Browser clients read the position header and send it back.
                        h.insert(
                            header::ACCESS_CONTROL_EXPOSE_HEADERS,
                            HeaderValue::from_static(POSITION_HEADER),
                        );
                    }
                    if by_origin {
                        // The answer depends on the Origin header: caches must keep them apart.
                        reply
                            .headers_mut()
                            .append(header::VARY, HeaderValue::from_static("Origin"));
                    }
                    let outcome = reply
                        .extensions_mut()
                        .remove::<Logged>()
                        .unwrap_or_default();
                    let elapsed = started.elapsed();
                    if count && path.as_str() == graphql_route {
                        metrics.observe(
                            outcome.operation.as_deref(),
                            reply.status().as_u16(),
                            elapsed,
                            outcome.outcome.code.as_deref(),
                        );
                    }
                    if request_log {
                        tracing::info!(
                            method = %method,
                            path = path.as_str(),
                            status = reply.status().as_u16(),
                            ms = elapsed.as_secs_f64() * 1000.0,
                            operation = outcome.operation.as_deref(),
                            role = outcome.outcome.session.as_ref().map(|s| s.role.as_str()),
                            code = outcome.outcome.code.as_deref(),
                            "request"
                        );
                    }
                    reply
                }
                .instrument(span)
            },
        );
    websocket.or(http).unify()
}

/// What a WebSocket upgrade brings: the subprotocol, and the token cookie when it may
/// authenticate. Browsers send cookies with cross-site upgrades and WebSocket has no CORS,
/// so the cookie counts only from the server's own origin, a `--cors-origin`, or a client
/// that sends no Origin (not a browser).
fn ws_upgrade(opts: &HttpOptions, headers: &HeaderMap) -> ws::Upgrade {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(Protocol::pick);
    let same_site = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let own = host.is_some_and(|h| {
                origin.eq_ignore_ascii_case(&format!("http://{h}"))
                    || origin.eq_ignore_ascii_case(&format!("https://{h}"))
            });
            own || (!opts.cors && allowed_origin(opts, headers).is_some())
        }
    };
    let cookie = match opts
        .jwt_cookie
        .as_deref()
        .and_then(|name| cookies::cookie(headers, name))
    {
        None => CookieToken::None,
        Some(token) if same_site => CookieToken::Some(token.to_string()),
        Some(_) => CookieToken::CrossSite,
    };
    ws::Upgrade {
        protocol,
        cookie,
        fingerprint: cookies::cookie(headers, cookies::fingerprint_cookie(opts))
            .map(str::to_string),
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    engine: Arc<Engine>,
    opts: HttpOptions,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let limits = listen::ConnectionLimits {
        header_timeout: opts.header_timeout,
        max_connections: opts.max_connections,
    };
    listen::run(routes(engine, Arc::new(opts)), limits, listener, shutdown).await;
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

/// An error answered by the HTTP layer itself (before or instead of the engine), with the
/// code its log line reports.
fn refuse(status: StatusCode, content_type: &'static str, message: &str, code: &str) -> Reply {
    let mut r = json_reply(status, content_type, error_body(message, code));
    r.extensions_mut().insert(Logged {
        operation: None,
        outcome: Outcome {
            code: Some(code.to_string()),
            ..Outcome::default()
        },
    });
    r
}

fn error_body(message: &str, code: &str) -> String {
    serde_json::json!({"errors": [{"message": message, "extensions": {"code": code}}]}).to_string()
}

fn json_reply(status: StatusCode, content_type: &'static str, body: String) -> Reply {
    let mut r = Reply::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A JSON reply of several pieces, sent one after another without being joined: a cached
/// introspection answer is not copied into each response.
fn json_reply_pieces(
    status: StatusCode,
    content_type: &'static str,
    pieces: Vec<bytes::Bytes>,
) -> Reply {
    let mut r = match <[_; 1]>::try_from(pieces) {
        Ok([one]) => Reply::new(one.into()),
        Err(pieces) => {
            let length: usize = pieces.iter().map(bytes::Bytes::len).sum();
            let stream = futures::stream::iter(pieces.into_iter().map(Ok::<_, Infallible>));
            let mut r = warp::reply::stream(stream).into_response();
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            r
        }
    };
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

#[allow(clippy::too_many_arguments)]
async fn dispatch<B, T>(
    engine: Arc<Engine>,
    opts: Arc<HttpOptions>,
    metrics: &Metrics,
    method: http::Method,
    path: String,
    headers: HeaderMap,
    query: String,
    body: B,
) -> Reply
where
    B: futures::Stream<Item = Result<T, warp::Error>> + Unpin + Send,
    T: Buf,
{
    match (path.as_str(), &method) {
        (p, &http::Method::GET) if opts.panic_path.as_deref() == Some(p) => {
            panic!("the test route {p} panics on purpose")
        }
        (p, &http::Method::POST | &http::Method::GET) if p == opts.graphql_route => {
            graphql::handle(engine, opts, method, headers, query, body).await
        }
        (p, &http::Method::OPTIONS)
            if p == opts.graphql_route
                && !opts.cors
                && !opts.cors_origins.is_empty()
                && allowed_origin(&opts, &headers).is_none() =>
        {
            refuse(
                StatusCode::FORBIDDEN,
                "application/json",
                "this origin may not make cross-origin requests",
                "CORS_ORIGIN_NOT_ALLOWED",
            )
        }
        (p, &http::Method::OPTIONS)
            if p == opts.graphql_route && (opts.cors || !opts.cors_origins.is_empty()) =>
        {
            // CORS preflight: an allowed origin may send GraphQL with a bearer token.
            let mut r = Reply::new(String::new().into());
            *r.status_mut() = StatusCode::NO_CONTENT;
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Authorization, Content-Type, Accept, X-Postgraph-Lsn"),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
            r
        }
        (p, _) if p == opts.graphql_route => {
            let mut r = refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "application/json",
                &format!("use GET or POST on {p}"),
                "METHOD_NOT_ALLOWED",
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
            r
        }
        ("/.well-known/jwks.json", &http::Method::GET) => match engine.auth.jwks() {
            Some(jwks) => {
                let mut r = json_reply(StatusCode::OK, "application/json", jwks.to_owned());
                // Keys change only with a restart; peers may cache them a little while.
                r.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                );
                r
            }
            None => refuse(
                StatusCode::NOT_FOUND,
                "application/json",
                "no asymmetric JWT keys are configured",
                "NOT_FOUND",
            ),
        },
        // Liveness: the process serves HTTP; the database is not asked.
        ("/health", &http::Method::GET) => json_reply(
            StatusCode::OK,
            "application/json",
            "{\"status\":\"ok\"}".into(),
        ),
        ("/ready", &http::Method::GET) => ready(&engine).await,
        ("/metrics", &http::Method::GET) if opts.metrics => {
            let mut text = metrics.render(engine.exec.pool_status());
            metrics::render_replicas(&mut text, &engine.exec.replicas.status());
            let mut r = Reply::new(text.into());
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        (p, &http::Method::GET) if opts.graphiql && p == opts.graphiql_route => graphiql::page(),
        (p, &http::Method::GET) if opts.graphiql && p.starts_with(graphiql::ASSETS) => {
            graphiql::file(p, &opts.graphql_route).unwrap_or_else(|| {
                refuse(
                    StatusCode::NOT_FOUND,
                    "application/json",
                    "not found",
                    "NOT_FOUND",
                )
            })
        }
        _ => refuse(
            StatusCode::NOT_FOUND,
            "application/json",
            "not found",
            "NOT_FOUND",
        ),
    }
}

/// The `Access-Control-Allow-Origin` for this request: `*` with `--cors`, the request's own
/// origin when it is one of `--cors-origin`, else none (the browser then refuses).
fn allowed_origin(opts: &HttpOptions, headers: &HeaderMap) -> Option<HeaderValue> {
    if opts.cors {
        return Some(HeaderValue::from_static("*"));
    }
    let origin = headers.get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    opts.cors_origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(text))
        .then(|| origin.clone())
}

/// How long `/ready` waits for a connection and for the database's answer.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness: 200 when the database answers (or every pooled connection is busy serving
/// requests), 503 with `Retry-After` when it cannot be reached.
async fn ready(engine: &Engine) -> Reply {
    // Replicas are reported, not required: without them queries run on the primary.
    let replicas = engine.exec.replicas.status();
    let with_replicas = |mut body: serde_json::Value| {
        if !replicas.is_empty() {
            body["replicas"] = serde_json::json!(replicas);
        }
        body.to_string()
    };
    match engine.exec.ping(READY_TIMEOUT).await {
        Ok(idle) => json_reply(
            StatusCode::OK,
            "application/json",
            with_replicas(
                serde_json::json!({"status": "ready", "database": if idle { "ok" } else { "busy" }}),
            ),
        ),
        Err(e) => {
            if let ExecError::Unavailable(detail) = &e {
                tracing::warn!(%detail, "not ready: the database does not answer");
            }
            let mut r = json_reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                with_replicas(
                    serde_json::json!({"status": "unavailable", "database": "unreachable"}),
                ),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            r
        }
    }
}
