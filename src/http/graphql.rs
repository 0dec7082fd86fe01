//! `POST/GET /graphql`: media types, body limit and timeout, the token from the header or
//! the cookie (CSRF rules), the request handed to the engine, and its answer: status,
//! cookies, `Server-Timing`, what the log line reports.

use super::{
    cookies, json_reply, json_reply_pieces, refuse, HttpOptions, Logged, Reply, GRAPHQL_RESPONSE,
};
use crate::auth::{self, AuthError};
use crate::engine::{Credentials, Engine, Method, Outcome, Request, RequestError};
use crate::exec::ExecError;
use crate::graphql::GraphqlError;
use bytes::{Buf, Bytes};
use futures::StreamExt;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use std::sync::Arc;

const SERVER_TIMING: header::HeaderName = header::HeaderName::from_static("server-timing");

/// `Server-Timing` of a GraphQL request: parse (and validate), plan, database, in ms.
fn server_timing(o: &Outcome) -> Option<HeaderValue> {
    let parts: Vec<String> = [("parse", o.parse), ("plan", o.plan), ("db", o.database)]
        .into_iter()
        .filter_map(|(name, d)| Some(format!("{name};dur={:.3}", d?.as_secs_f64() * 1000.0)))
        .collect();
    if parts.is_empty() {
        return None;
    }
    HeaderValue::from_str(&parts.join(", ")).ok()
}

/// Reads the body up to `limit` bytes; `None` when it is larger.
async fn read_body<B, T>(mut body: B, limit: u64) -> Result<Option<Bytes>, warp::Error>
where
    B: futures::Stream<Item = Result<T, warp::Error>> + Unpin,
    T: Buf,
{
    let mut buf = Vec::new();
    while let Some(chunk) = body.next().await {
        let mut chunk = chunk?;
        if buf.len() as u64 + chunk.remaining() as u64 > limit {
            return Ok(None);
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            buf.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(Some(Bytes::from(buf)))
}

pub(super) async fn handle<B, T>(
    engine: Arc<Engine>,
    opts: Arc<HttpOptions>,
    method: http::Method,
    headers: HeaderMap,
    query: String,
    body: B,
) -> Reply
where
    B: futures::Stream<Item = Result<T, warp::Error>> + Unpin + Send,
    T: Buf,
{
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // GraphQL-over-HTTP: legacy `application/json` clients get 200 for document errors.
    let legacy = accept.contains("application/json") && !accept.contains(GRAPHQL_RESPONSE);
    let content_type: &'static str = if legacy || !accept.contains(GRAPHQL_RESPONSE) {
        "application/json"
    } else {
        GRAPHQL_RESPONSE
    };

    // An oversized Authorization header is refused before anything is read or decoded.
    if headers
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.len() > auth::MAX_AUTHORIZATION_BYTES)
    {
        return request_error(
            RequestError::Auth(AuthError::HeaderTooLarge),
            legacy,
            content_type,
            engine.production,
        );
    }

    // The token cookie authenticates only when there is no Authorization header, and then
    // only a JSON POST: a form or a GET can be sent cross-site by any page, with the cookie.
    let cookie_token = opts
        .jwt_cookie
        .as_deref()
        .and_then(|name| cookies::cookie(&headers, name));
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("\u{0}"));
    if cookie_token.is_some()
        && authorization.is_none()
        && (method != http::Method::POST || !cookies::is_json(&headers))
    {
        return refuse(
            StatusCode::FORBIDDEN,
            content_type,
            cookies::CSRF_MESSAGE,
            cookies::CSRF_CODE,
        );
    }

    let (request, http_method) = if method == http::Method::GET {
        match parse_query_string(&query) {
            Ok(r) => (r, Method::Get),
            Err(e) => return request_error(e, legacy, content_type, engine.production),
        }
    } else {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > opts.body_limit) {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                content_type,
                &format!(
                    "request body exceeds the limit of {} bytes",
                    opts.body_limit
                ),
                "PAYLOAD_TOO_LARGE",
            );
        }
        let media = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let media = media
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != "application/json" && media != "application/graphql" {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                content_type,
                "send the request as application/json",
                "UNSUPPORTED_MEDIA_TYPE",
            );
        }
        let read = read_body(body, opts.body_limit);
        let read = match opts.body_timeout {
            Some(limit) => match tokio::time::timeout(limit, read).await {
                Ok(read) => read,
                Err(_) => {
                    // The rest of the body is never read: the connection closes after this.
                    let mut r = refuse(
                        StatusCode::REQUEST_TIMEOUT,
                        content_type,
                        &format!(
                            "the request body did not arrive within {} ms",
                            limit.as_millis()
                        ),
                        "REQUEST_TIMEOUT",
                    );
                    r.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    return r;
                }
            },
            None => read.await,
        };
        let bytes = match read {
            Ok(Some(b)) => b,
            Ok(None) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    content_type,
                    &format!(
                        "request body exceeds the limit of {} bytes",
                        opts.body_limit
                    ),
                    "PAYLOAD_TOO_LARGE",
                )
            }
            Err(_) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    content_type,
                    "could not read the request body",
                    "BAD_REQUEST",
                )
            }
        };
        let request = if media == "application/graphql" {
            match std::str::from_utf8(&bytes) {
                Ok(q) => Request {
                    query: Some(q.to_string()),
                    ..Default::default()
                },
                Err(_) => {
                    return refuse(
                        StatusCode::BAD_REQUEST,
                        content_type,
                        "the body is not UTF-8",
                        "BAD_REQUEST",
                    )
                }
            }
        } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            let Some(limit) = opts.batch_limit else {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    content_type,
                    "a JSON array of requests (a batch) is answered only with --enable-query-batching; send one request object",
                    "BATCHING_DISABLED",
                );
            };
            let requests = match serde_json::from_slice::<Vec<Request>>(&bytes) {
                Ok(r) if (1..=limit).contains(&r.len()) => r,
                Ok(r) => {
                    return refuse(
                        StatusCode::BAD_REQUEST,
                        content_type,
                        &format!(
                            "a batch holds 1 to {limit} requests (--max-batch-size), not {}",
                            r.len()
                        ),
                        "BATCH_TOO_LARGE",
                    )
                }
                Err(e) => {
                    return refuse(
                        StatusCode::BAD_REQUEST,
                        content_type,
                        &format!("the body is not a valid batch of GraphQL requests: {e}"),
                        "BAD_REQUEST",
                    )
                }
            };
            return super::batch::handle(engine, opts, &headers, requests, content_type).await;
        } else {
            match serde_json::from_slice::<Request>(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    return refuse(
                        StatusCode::BAD_REQUEST,
                        content_type,
                        &format!("the body is not a valid GraphQL request: {e}"),
                        "BAD_REQUEST",
                    )
                }
            }
        };
        (request, Method::Post)
    };

    let mut request = request;
    match read_after(&headers) {
        Ok(after) => request.read_after = after,
        Err(message) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                content_type,
                &message,
                "BAD_REQUEST",
            )
        }
    }
    let mut logged = Logged {
        operation: request.operation_name.clone(),
        outcome: Outcome::default(),
    };
    let creds = Credentials {
        authorization,
        cookie: cookie_token,
        fingerprint: cookies::cookie(&headers, cookies::fingerprint_cookie(&opts)),
        refresh: cookies::cookie(&headers, cookies::refresh_cookie(&opts)),
    };
    let mut reply = match engine
        .execute(request, creds, http_method, &mut logged.outcome)
        .await
    {
        Ok(response) => {
            let mut r =
                json_reply_pieces(StatusCode::OK, content_type, response.body.into_pieces());
            let issued = &response.issued;
            if response.carries_token
                || issued.cleared
                || issued.refresh_cleared
                || issued.signed_out
            {
                r.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
            if let Some(position) = response.position {
                if let Ok(v) = HeaderValue::from_str(&position.to_string()) {
                    r.headers_mut().insert(super::POSITION_HEADER, v);
                }
            }
            set_cookies(&opts, &response.issued, r.headers_mut());
            set_fingerprint_cookie(&engine, &opts, &response.issued, r.headers_mut());
            set_refresh_cookie(&engine, &opts, &response.issued, r.headers_mut());
            r
        }
        Err(e) => {
            logged.outcome.code = Some(e.code().to_string());
            request_error(e, legacy, content_type, engine.production)
        }
    };
    if let Some(timing) = server_timing(&logged.outcome) {
        reply.headers_mut().insert(SERVER_TIMING, timing);
    }
    reply.extensions_mut().insert(logged);
    reply
}

/// The position header a client sent back: the WAL position of its last write.
pub(super) fn read_after(headers: &HeaderMap) -> Result<Option<crate::db::replicas::Lsn>, String> {
    let Some(v) = headers.get(super::POSITION_HEADER) else {
        return Ok(None);
    };
    crate::db::replicas::latest_position(v.to_str().unwrap_or(""))
}

/// The token cookie a mutation's result asks for: set to its token, or cleared.
pub(super) fn set_cookies(
    opts: &HttpOptions,
    issued: &crate::engine::Issued,
    headers: &mut HeaderMap,
) {
    let Some(name) = &opts.jwt_cookie else {
        return;
    };
    let attrs = cookies::CookieAttrs {
        secure: !opts.insecure_cookies,
        same_site: "Lax",
    };
    if let Some((token, exp)) = &issued.token {
        let age = cookies::max_age_until(*exp);
        cookies::append(
            headers,
            &cookies::set_cookie(name, token, Some(age), &attrs),
        );
    } else if issued.cleared {
        cookies::append(headers, &cookies::set_cookie(name, "", Some(0), &attrs));
    }
}

/// The fingerprint cookie of the tokens signed (or, on sign-out, its clearing). It is the
/// browser session's, not one token's: it lives as long as the session
/// (`--jwt-session-lifetime`), and at least until the last token signed is refused (its `exp`
/// plus the leeway), so tabs and sockets of the browser keep using it across refreshes.
pub(super) fn set_fingerprint_cookie(
    engine: &Engine,
    opts: &HttpOptions,
    issued: &crate::engine::Issued,
    headers: &mut HeaderMap,
) {
    let attrs = cookies::CookieAttrs {
        secure: !opts.insecure_cookies,
        same_site: "Strict",
    };
    let name = cookies::fingerprint_cookie(opts);
    if let Some((fingerprint, exp)) = &issued.fingerprint {
        let until_refused = engine.auth.accepted_after(*exp);
        let age = cookies::max_age_until(until_refused).max(engine.auth.session_lifetime_secs());
        let c = cookies::set_cookie(name, &fingerprint.value, Some(age), &attrs);
        cookies::append(headers, &c);
    } else if issued.signed_out && engine.auth.fingerprint_enabled() {
        cookies::append(headers, &cookies::set_cookie(name, "", Some(0), &attrs));
    }
}

/// With `--jwt-refresh-cookie`: the refresh token a mutation's result carries, or the cookie's
/// clearing when its value (or the row holding it) came back null, or on sign-out.
pub(super) fn set_refresh_cookie(
    engine: &Engine,
    opts: &HttpOptions,
    issued: &crate::engine::Issued,
    headers: &mut HeaderMap,
) {
    if !engine.auth.refresh_cookie_enabled() {
        return;
    }
    let attrs = cookies::CookieAttrs {
        secure: !opts.insecure_cookies,
        same_site: "Strict",
    };
    let name = cookies::refresh_cookie(opts);
    if let Some(token) = &issued.refresh {
        let age = engine.auth.session_lifetime_secs();
        cookies::append(
            headers,
            &cookies::set_cookie(name, token, Some(age), &attrs),
        );
    } else if issued.refresh_cleared || issued.signed_out {
        cookies::append(headers, &cookies::set_cookie(name, "", Some(0), &attrs));
    }
}

fn parse_query_string(q: &str) -> Result<Request, RequestError> {
    let mut req = Request::default();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_decode(v).ok_or_else(|| {
            RequestError::BadRequest("the query string is not valid UTF-8".into())
        })?;
        match k {
            "query" => req.query = Some(v),
            "operationName" => req.operation_name = Some(v).filter(|s| !s.is_empty()),
            "variables" if !v.is_empty() => {
                req.variables = Some(serde_json::from_str(&v).map_err(|e| {
                    RequestError::BadRequest(format!("`variables` is not valid JSON: {e}"))
                })?);
            }
            _ => {}
        }
    }
    Ok(req)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

pub(super) fn request_error(
    e: RequestError,
    legacy: bool,
    content_type: &'static str,
    production: bool,
) -> Reply {
    let status = match &e {
        RequestError::Auth(a) => {
            StatusCode::from_u16(a.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
        RequestError::Graphql(
            GraphqlError::Parse { .. }
            | GraphqlError::Validation(_)
            | GraphqlError::Variables(_)
            | GraphqlError::Limit(_),
        )
        | RequestError::Plan(_)
            if legacy =>
        {
            StatusCode::OK
        }
        RequestError::Graphql(_) | RequestError::Plan(_) | RequestError::BadRequest(_) => {
            StatusCode::BAD_REQUEST
        }
        RequestError::MutationOverGet => StatusCode::METHOD_NOT_ALLOWED,
        RequestError::Exec(ExecError::PoolTimeout) => StatusCode::GATEWAY_TIMEOUT,
        RequestError::Exec(ExecError::Unavailable(_) | ExecError::Lost(_)) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    let mut r = json_reply(status, content_type, e.body(production));
    r.extensions_mut().insert(Logged {
        operation: None,
        outcome: Outcome {
            code: Some(e.code().to_string()),
            ..Outcome::default()
        },
    });
    match &e {
        RequestError::Auth(a) => {
            if let Some(v) = a
                .www_authenticate()
                .and_then(|v| HeaderValue::from_str(&v).ok())
            {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        RequestError::MutationOverGet => {
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        RequestError::Exec(ExecError::Unavailable(_) | ExecError::Lost(_)) => {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        _ => {}
    }
    r
}
