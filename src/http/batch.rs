//! `--enable-query-batching`: a JSON array of requests in one POST, answered (as v4 does) with
//! an array holding each request's result in order. Each runs as a request of its own (its
//! own transaction, the limits checked per operation); the batch shares the credentials, so
//! a refused token refuses the whole batch (401), never a 200 with errors inside.

use super::graphql::{
    read_after, request_error, set_cookies, set_fingerprint_cookie, set_refresh_cookie,
};
use super::{cookies, json_reply, refuse, HttpOptions, Logged, Reply};
use crate::engine::{Credentials, Engine, Method, Outcome, Request, RequestError};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use std::sync::Arc;

pub(super) async fn handle(
    engine: Arc<Engine>,
    opts: Arc<HttpOptions>,
    headers: &HeaderMap,
    requests: Vec<Request>,
    content_type: &'static str,
) -> Reply {
    let read_after = match read_after(headers) {
        Ok(after) => after,
        Err(message) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                content_type,
                &message,
                "BAD_REQUEST",
            )
        }
    };
    let creds = Credentials {
        authorization: headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or("\u{0}")),
        cookie: opts
            .jwt_cookie
            .as_deref()
            .and_then(|name| cookies::cookie(headers, name)),
        fingerprint: cookies::cookie(headers, cookies::fingerprint_cookie(&opts)),
        refresh: cookies::cookie(headers, cookies::refresh_cookie(&opts)),
    };
    let mut bodies = Vec::with_capacity(requests.len());
    let mut names = vec![];
    let mut outcome = Outcome::default();
    let mut reply = json_reply(StatusCode::OK, content_type, String::new());
    let mut no_store = false;
    let mut position = None;
    for mut request in requests {
        request.read_after = read_after.max(position);
        names.extend(request.operation_name.clone());
        let mut one = Outcome::default();
        match engine.execute(request, creds, Method::Post, &mut one).await {
            Ok(response) => {
                let issued = &response.issued;
                no_store |= response.carries_token
                    || issued.cleared
                    || issued.refresh_cleared
                    || issued.signed_out;
                position = position.max(response.position);
                set_cookies(&opts, issued, reply.headers_mut());
                set_fingerprint_cookie(&engine, &opts, issued, reply.headers_mut());
                set_refresh_cookie(&engine, &opts, issued, reply.headers_mut());
                bodies.push(response.body.text());
            }
            // The token is the batch's: refused for one, refused for all.
            Err(e @ RequestError::Auth(_)) => {
                return request_error(e, false, content_type, engine.production)
            }
            Err(e) => {
                one.code = Some(e.code().to_string());
                bodies.push(e.body(engine.production));
            }
        }
        if outcome.code.is_none() {
            outcome.code = one.code.take();
        }
        if outcome.session.is_none() {
            outcome.session = one.session.take();
        }
    }
    *reply.body_mut() = format!("[{}]", bodies.join(",")).into();
    let h = reply.headers_mut();
    if no_store {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(v) = position.and_then(|p| HeaderValue::from_str(&p.to_string()).ok()) {
        h.insert(super::POSITION_HEADER, v);
    }
    reply.extensions_mut().insert(Logged {
        operation: (!names.is_empty()).then(|| names.join(",")),
        outcome,
    });
    reply
}
