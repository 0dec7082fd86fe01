//! PostGraphile v4's simple subscriptions on the engine's normal read path: a `listen`
//! subscription is checked once; each event is answered by planning the payload's selection
//! as a query (`relatedNode` as `node(nodeId:)`, `query` as `query`) and running it in its own
//! transaction under the subscriber's session, so RLS decides what each subscriber sees.

use super::*;
use crate::graphql::document::{self, merge, FieldNode, Operation, Value};
use crate::schema::{inflect, FieldKind};
use base64::Engine as _;

/// Longest channel name Postgres keeps (NAMEDATALEN - 1); a longer one would be truncated.
const MAX_CHANNEL_BYTES: usize = 63;

/// A checked `listen(topic:)` subscription, ready to answer events.
#[derive(Debug)]
pub struct Subscription {
    /// The Postgres channel its events come on: `postgraphile:<topic>`.
    pub channel: String,
    /// The root field's response key.
    key: String,
    /// The payload's fields in selection order, merged by response key.
    parts: Vec<(String, Part)>,
    variables: juniper::Variables<S>,
}

#[derive(Debug)]
enum Part {
    Typename,
    RelatedNodeId,
    /// Read as `node(nodeId:)` with the event's node id.
    RelatedNode(FieldNode),
    /// Read as the root `query` field.
    Query(FieldNode),
}

fn invalid(message: String, location: (usize, usize)) -> RequestError {
    RequestError::Graphql(GraphqlError::Validation(vec![(message, vec![location])]))
}

impl Subscription {
    /// Whether answering an event reads the database (else it is built from the event alone).
    pub fn reads(&self) -> bool {
        self.parts
            .iter()
            .any(|(_, p)| matches!(p, Part::RelatedNode(_) | Part::Query(_)))
    }
}

impl Engine {
    /// The request's operation as a subscription; None when it is a query or a mutation.
    pub fn subscription(&self, req: &Request) -> Result<Option<Subscription>, RequestError> {
        let query = req
            .query
            .as_deref()
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| RequestError::BadRequest("the request has no `query`".into()))?;
        let variables = graphql::variables_from_json(req.variables.clone())?;
        let schema = self.schema();
        let doc = schema.api.document(query)?;
        let Some(roots) = document::subscription(
            &schema.api.root,
            &doc,
            req.operation_name.as_deref(),
            &variables,
        )?
        else {
            return Ok(None);
        };
        let [root] = roots.as_slice() else {
            let location = roots.get(1).map_or((1, 1), |f| f.location);
            return Err(invalid(
                "a subscription must select exactly one top level field".into(),
                location,
            ));
        };
        let model = &schema.api.model;
        let is_listen = model
            .subscription_type
            .as_deref()
            .and_then(|t| model.object(t))
            .and_then(|o| o.field(&root.name))
            .is_some_and(|f| f.kind == FieldKind::Listen);
        if !is_listen {
            return Err(invalid(
                format!("`{}` cannot be subscribed to", root.name),
                root.location,
            ));
        }
        let Some(Value::String(topic)) = root.arg("topic").map(Value::resolved) else {
            return Err(invalid("topic must be a string".into(), root.location));
        };
        let channel = inflect::listen_channel(topic);
        if channel.len() > MAX_CHANNEL_BYTES || channel.contains('\0') {
            return Err(invalid(
                format!(
                    "the topic is too long: `{channel}` must be at most {MAX_CHANNEL_BYTES} bytes"
                ),
                root.location,
            ));
        }
        let payload_type = inflect::listen_payload();
        let mut merged: Vec<FieldNode> = vec![];
        for child in &root.selection {
            if child
                .on_type
                .as_deref()
                .is_some_and(|t| !model.applies(t, &payload_type))
            {
                continue;
            }
            let mut child = child.clone();
            child.on_type = None;
            merge(&mut merged, child);
        }
        let parts = merged
            .into_iter()
            .map(|f| {
                let part = match f.name.as_str() {
                    "__typename" => Part::Typename,
                    "relatedNodeId" => Part::RelatedNodeId,
                    "relatedNode" => Part::RelatedNode(f.clone()),
                    _ => Part::Query(f.clone()),
                };
                (f.key, part)
            })
            .collect();
        let sub = Subscription {
            channel,
            key: root.key.clone(),
            parts,
            variables,
        };
        // What can be planned without an event is planned now: its errors come at once.
        if let Some(op) = self.event_operation(&sub, None) {
            plan::plan_with(model, &op, &self.plan_options)?;
        }
        Ok(Some(sub))
    }

    /// The query an event is answered with; None when nothing needs the database.
    fn event_operation(&self, sub: &Subscription, node_id: Option<&str>) -> Option<Operation> {
        let fields: Vec<FieldNode> = sub
            .parts
            .iter()
            .filter_map(|(key, part)| match (part, node_id) {
                (Part::RelatedNode(f), Some(id)) => Some(FieldNode {
                    key: key.clone(),
                    name: "node".into(),
                    args: vec![("nodeId".into(), Value::String(id.to_string()))],
                    selection: f.selection.clone(),
                    location: f.location,
                    on_type: None,
                }),
                (Part::Query(f), _) => Some(FieldNode {
                    key: key.clone(),
                    name: "query".into(),
                    ..f.clone()
                }),
                _ => None,
            })
            .collect();
        (!fields.is_empty()).then_some(Operation {
            kind: OpKind::Query,
            name: None,
            fields,
        })
    }

    /// The response to one event (`{"data": {"listen": {...}}}`), read under `session`.
    /// `payload` is the notification's JSON; its `__node__` (`["posts", 1]`) names the node.
    pub async fn event(
        &self,
        sub: &Subscription,
        session: &Arc<SessionSettings>,
        payload: Option<&Json>,
        position: Option<Lsn>,
    ) -> Result<String, RequestError> {
        // v4: the node id is base64 of the `__node__` array as JSON.
        let related_id = payload
            .and_then(|p| p.get("__node__"))
            .filter(|n| !n.is_null())
            .map(|n| base64::engine::general_purpose::STANDARD.encode(n.to_string()));
        // Each event is planned on the schema now served: a subscription outlives reloads.
        let schema = self.schema();
        // A node id naming no table (or of the wrong shape) has no node: `relatedNode` null.
        let readable = related_id
            .as_deref()
            .filter(|id| plan::decode_node_id(&schema.api.model, id).is_ok());
        let mut data = serde_json::Map::new();
        let mut errors = vec![];
        if let Some(op) = self.event_operation(sub, readable) {
            let plan = plan::plan_with(&schema.api.model, &op, &self.plan_options)?;
            let compiled = compile(&plan);
            let mut outcome = Outcome::default();
            let response = self
                // Where the event's commit is visible: a replica that replayed its position,
                // or the primary when that is not known.
                .run(
                    &compiled,
                    &sub.variables,
                    session,
                    None,
                    None,
                    &mut outcome,
                    position.map_or(ReadFrom::Primary, |p| ReadFrom::Replica { after: Some(p) }),
                )
                .await?;
            let mut body: Json = serde_json::from_str(&response.body.text())
                .map_err(|e| RequestError::BadRequest(format!("internal: {e}")))?;
            if let Some(Json::Object(d)) = body.get_mut("data").map(Json::take) {
                data = d;
            }
            if let Some(Json::Array(es)) = body.get_mut("errors").map(Json::take) {
                for mut e in es {
                    if let Some(Json::Array(path)) = e.get_mut("path") {
                        path.insert(0, Json::String(sub.key.clone()));
                    }
                    errors.push(e);
                }
            }
        }
        let mut listen = serde_json::Map::new();
        for (key, part) in &sub.parts {
            let value = match part {
                Part::Typename => Json::String(inflect::listen_payload()),
                Part::RelatedNodeId => related_id.clone().map_or(Json::Null, Json::String),
                Part::RelatedNode(_) | Part::Query(_) => data.remove(key).unwrap_or(Json::Null),
            };
            listen.insert(key.clone(), value);
        }
        let mut out = serde_json::Map::new();
        out.insert(
            "data".into(),
            serde_json::json!({ sub.key.clone(): listen }),
        );
        if !errors.is_empty() {
            out.insert("errors".into(), Json::Array(errors));
        }
        Ok(Json::Object(out).to_string())
    }
}
