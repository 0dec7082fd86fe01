//! The failure of a request before it executes, and the status and body it gets.

use super::error_json;
use crate::auth::AuthError;
use crate::exec::ExecError;
use crate::graphql::GraphqlError;
use crate::plan::PlanError;
use serde_json::Value as Json;

/// A failure before execution: decides the HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Graphql(#[from] GraphqlError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("{0}")]
    BadRequest(String),
    #[error("mutations are not allowed over GET; use POST")]
    MutationOverGet,
}

impl RequestError {
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Auth(e) => e.code(),
            RequestError::Graphql(e) => e.code(),
            RequestError::Plan(e) => e.code,
            RequestError::Exec(ExecError::PoolTimeout) => "DATABASE_BUSY",
            RequestError::Exec(ExecError::Unavailable(_) | ExecError::Lost(_)) => {
                "DATABASE_UNAVAILABLE"
            }
            RequestError::BadRequest(_) => "BAD_REQUEST",
            RequestError::MutationOverGet => "METHOD_NOT_ALLOWED",
        }
    }

    /// The errors-only body of a request that never executed. In production, server-side
    /// failures say only that they happened, and validation messages carry no suggestions.
    pub fn body(&self, production: bool) -> String {
        let messages = match self {
            RequestError::Auth(a) if production && a.status() >= 500 => {
                tracing::error!(error = %a, "token handling failed");
                vec![(INTERNAL_MESSAGE.to_string(), vec![])]
            }
            RequestError::Graphql(e) if production => e
                .messages()
                .into_iter()
                .map(|(m, locs)| (without_suggestion(&m).to_string(), locs))
                .collect(),
            RequestError::Graphql(e) => e.messages(),
            RequestError::Plan(e) => vec![(e.message.clone(), vec![e.location])],
            RequestError::Exec(ExecError::Unavailable(detail)) => {
                tracing::error!(%detail, "database unavailable");
                vec![(self.to_string(), vec![])]
            }
            RequestError::Exec(ExecError::Lost(detail)) => {
                tracing::warn!(%detail, "database connection lost mid-request");
                vec![(self.to_string(), vec![])]
            }
            other => vec![(other.to_string(), vec![])],
        };
        let errors: Vec<Json> = messages
            .into_iter()
            .map(|(m, locs)| error_json(&m, &locs, &[], self.code(), None))
            .collect();
        serde_json::json!({ "errors": errors }).to_string()
    }
}

/// What a client is told, in production, of a failure that is the server's business.
pub(super) const INTERNAL_MESSAGE: &str = "an internal error occurred";

/// A validation message without its "Did you mean ...?" hint, which tells a stranger about
/// the schema.
fn without_suggestion(message: &str) -> &str {
    match message.find(" Did you mean") {
        Some(i) => &message[..i],
        None => message,
    }
}
