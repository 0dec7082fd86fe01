//! The two JSON message protocols clients speak over the socket: `graphql-transport-ws` (the
//! graphql-ws library) and the legacy `graphql-ws` (subscriptions-transport-ws, Apollo's
//! WebSocketLink). Both carry the same requests; they differ in message names and close codes.

use crate::db::replicas::{latest_position, Lsn, POSITION_NAME};
use crate::engine::Request;
use serde_json::Value as Json;

/// The subprotocol a socket speaks, picked from `Sec-WebSocket-Protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`
    TransportWs,
    /// `graphql-ws` (subscriptions-transport-ws)
    Legacy,
}

pub const TRANSPORT_WS: &str = "graphql-transport-ws";
pub const LEGACY: &str = "graphql-ws";

impl Protocol {
    /// The first protocol of the client's list that this server speaks (the modern one wins).
    pub fn pick(offered: &str) -> Option<Protocol> {
        let offered: Vec<&str> = offered.split(',').map(str::trim).collect();
        if offered.contains(&TRANSPORT_WS) {
            Some(Protocol::TransportWs)
        } else if offered.contains(&LEGACY) {
            Some(Protocol::Legacy)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::TransportWs => TRANSPORT_WS,
            Protocol::Legacy => LEGACY,
        }
    }
}

/// Close codes (graphql-ws' own, used for both protocols).
pub mod close {
    pub const BAD_REQUEST: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
    /// Too many sockets on this instance (RFC 6455 "Try Again Later").
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// What a client sent.
#[derive(Debug)]
pub enum ClientMessage {
    Init(Option<Json>),
    /// `subscribe` (legacy: `start`): any operation, subscriptions included.
    Subscribe {
        id: String,
        request: Request,
    },
    /// `complete` (legacy: `stop`).
    Complete {
        id: String,
    },
    Ping(Option<Json>),
    Pong,
    /// Legacy `connection_terminate`.
    Terminate,
}

#[derive(serde::Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    payload: Option<Json>,
}

/// Reads one text message; the error says why it is not a message of `protocol`.
pub fn parse(protocol: Protocol, text: &str) -> Result<ClientMessage, String> {
    let e: Envelope =
        serde_json::from_str(text).map_err(|e| format!("Invalid message received: {e}"))?;
    let id = || {
        e.id.clone()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| format!("Invalid message received: `{}` needs an id", e.kind))
    };
    let request = |payload: &Option<Json>| -> Result<Request, String> {
        let p = payload.clone().unwrap_or(Json::Null);
        serde_json::from_value(p).map_err(|e| format!("Invalid message received: {e}"))
    };
    use ClientMessage as M;
    Ok(match (protocol, e.kind.as_str()) {
        (_, "connection_init") => M::Init(e.payload.clone().filter(|p| !p.is_null())),
        (Protocol::TransportWs, "subscribe") | (Protocol::Legacy, "start") => M::Subscribe {
            id: id()?,
            request: request(&e.payload)?,
        },
        (Protocol::TransportWs, "complete") | (Protocol::Legacy, "stop") => {
            M::Complete { id: id()? }
        }
        (Protocol::TransportWs, "ping") => M::Ping(e.payload.clone()),
        (Protocol::TransportWs, "pong") => M::Pong,
        (Protocol::Legacy, "connection_terminate") => M::Terminate,
        (_, other) => return Err(format!("Invalid message received: unknown type `{other}`")),
    })
}

/// The `Authorization` value a `connection_init` payload carries: `headers.Authorization`
/// (Apollo's `connectionParams: {headers: {...}}`), `Authorization` or `authorization`.
pub fn authorization(payload: Option<&Json>) -> Option<&str> {
    let p = payload?;
    let headers = p.get("headers");
    [
        headers.and_then(|h| h.get("Authorization")),
        headers.and_then(|h| h.get("authorization")),
        p.get("Authorization"),
        p.get("authorization"),
    ]
    .into_iter()
    .flatten()
    .find_map(Json::as_str)
}

/// A read-your-writes position under `x-postgraph-lsn` in `value`, or in its `headers` (as
/// for the token): in a `connection_init` payload, or in an operation's `extensions`.
pub fn position(value: Option<&Json>) -> Result<Option<Lsn>, String> {
    let Some(v) = value else {
        return Ok(None);
    };
    let found = [
        v.get(POSITION_NAME),
        v.get("headers").and_then(|h| h.get(POSITION_NAME)),
    ]
    .into_iter()
    .flatten()
    .next();
    match found {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => latest_position(s),
        Some(other) => Err(format!(
            "{POSITION_NAME}: `{other}` is not a WAL position like 0/16B3748"
        )),
    }
}

fn with_id(id: &str, kind: &str, payload: Option<&str>) -> String {
    let id = Json::String(id.to_string());
    match payload {
        Some(p) => format!(r#"{{"id":{id},"type":"{kind}","payload":{p}}}"#),
        None => format!(r#"{{"id":{id},"type":"{kind}"}}"#),
    }
}

/// One result of an operation (`next`; legacy `data`); `body` is the response JSON.
pub fn next(protocol: Protocol, id: &str, body: &str) -> String {
    let kind = match protocol {
        Protocol::TransportWs => "next",
        Protocol::Legacy => "data",
    };
    with_id(id, kind, Some(body))
}

/// An operation refused before it ran: `errors` is a JSON array of GraphQL errors.
pub fn error(id: &str, errors: &str) -> String {
    with_id(id, "error", Some(errors))
}

pub fn complete(id: &str) -> String {
    with_id(id, "complete", None)
}

pub const CONNECTION_ACK: &str = r#"{"type":"connection_ack"}"#;
pub const PONG: &str = r#"{"type":"pong"}"#;
/// Legacy keep-alive: Apollo's client expects one soon after the ack, and then regularly.
pub const KEEP_ALIVE: &str = r#"{"type":"ka"}"#;

/// Legacy: why `connection_init` was refused (the socket closes after it).
pub fn connection_error(error: &Json) -> String {
    format!(r#"{{"type":"connection_error","payload":{error}}}"#)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_position_is_read_from_the_payload_or_its_headers() {
        let at = |v: Json| position(Some(&v));
        assert_eq!(at(json!({})), Ok(None));
        assert_eq!(at(json!({"x-postgraph-lsn": "0/10"})), Ok(Some(Lsn(0x10))));
        assert_eq!(
            at(json!({"headers": {"x-postgraph-lsn": "0/10, 1/0"}})),
            Ok(Some(Lsn(1 << 32)))
        );
        assert_eq!(position(None), Ok(None));
        assert!(at(json!({"x-postgraph-lsn": "yesterday"})).is_err());
        assert!(at(json!({"x-postgraph-lsn": 16})).is_err());
    }

    #[test]
    fn picks_the_modern_protocol_first() {
        assert_eq!(
            Protocol::pick("graphql-ws, graphql-transport-ws"),
            Some(Protocol::TransportWs)
        );
        assert_eq!(Protocol::pick("graphql-ws"), Some(Protocol::Legacy));
        assert_eq!(Protocol::pick("mqtt"), None);
    }

    #[test]
    fn reads_messages_of_each_protocol() {
        let m = parse(
            Protocol::Legacy,
            r#"{"type":"start","id":"1","payload":{"query":"{ __typename }"}}"#,
        )
        .unwrap();
        assert!(matches!(m, ClientMessage::Subscribe { id, .. } if id == "1"));
        assert!(parse(Protocol::TransportWs, r#"{"type":"start","id":"1"}"#).is_err());
        assert!(parse(Protocol::TransportWs, r#"{"type":"subscribe"}"#).is_err());
        assert!(parse(Protocol::TransportWs, "not json").is_err());
    }

    #[test]
    fn finds_the_token_where_clients_put_it() {
        for p in [
            json!({"headers": {"Authorization": "Bearer a"}}),
            json!({"Authorization": "Bearer a"}),
            json!({"authorization": "Bearer a"}),
        ] {
            assert_eq!(authorization(Some(&p)), Some("Bearer a"));
        }
        assert_eq!(authorization(Some(&json!({"other": 1}))), None);
    }

    #[test]
    fn writes_messages() {
        assert_eq!(
            next(Protocol::Legacy, "a\"b", r#"{"data":{}}"#),
            r#"{"id":"a\"b","type":"data","payload":{"data":{}}}"#
        );
        assert_eq!(complete("1"), r#"{"id":"1","type":"complete"}"#);
    }
}
