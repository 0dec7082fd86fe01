//! The `--pre-request` check (PostgREST's `db-pre-request`): a function run in every request's
//! transaction once the role and claims are set, which may refuse the request. A plain one
//! (neither a set nor IMMUTABLE) is prepared like any statement, and in a read it rides inside
//! the first query, one message fewer; any other is sent as a simple query, as written.

use crate::sql;

/// The check, as the transaction sends it.
#[derive(Debug, Clone)]
pub struct PreRequest {
    /// `select "schema"."name"()`: the check as a statement of its own.
    pub(super) call: String,
    /// `"schema"."name"()`: the function, for a read's statement to run first.
    function: String,
    /// Neither a set (one row) nor IMMUTABLE (a prepared plan would fold an IMMUTABLE call
    /// into a constant and never call it again).
    pub(super) plain: bool,
}

impl PreRequest {
    /// The function `schema.name()`; `plain` as the catalog says (`sql::PRE_REQUEST_FUNCTION`).
    pub fn new(schema: &str, name: &str, plain: bool) -> Self {
        let function = sql::pre_request_function(schema, name);
        PreRequest {
            call: sql::pre_request_call(&function),
            function,
            plain,
        }
    }

    /// A read statement with the check run first inside it, when the check may ride there.
    pub(super) fn inside(&self, statement: &str) -> Option<String> {
        self.plain
            .then(|| sql::read_after_pre_request(&self.function, statement))
    }
}
