//! One GraphQL request from start to end: token → claims, parse/validate → plan → SQL →
//! execute → response JSON (JWT fields signed). The HTTP layer only translates to and from this.

use crate::auth::{self, Auth, AuthError, Claims, SessionSettings};
use crate::db::replicas::Lsn;
use crate::exec::{DbError, Executor, MutationStatements, ReadFrom};
use crate::graphql::document::OpKind;
use crate::graphql::document::VarPath;
use crate::graphql::schema::S;
use crate::graphql::{self, Api, GraphqlError};
use crate::plan::{self, Fixup, FixupPath, PlanError, RootField};
use crate::sql::{self, Statement};
use lru::LruCache;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

mod finish;
mod plan_cache;
mod request_error;
mod schema_value;
mod subscribe;

pub use request_error::RequestError;
use request_error::INTERNAL_MESSAGE;
pub use schema_value::{IntrospectionAnswer, SchemaValue};
pub use subscribe::Subscription;

/// Sessions of verified tokens, and the anonymous one.
struct Sessions {
    anonymous: Arc<SessionSettings>,
    verified: Mutex<LruCache<String, VerifiedSession>>,
}

/// A verified token's claims (for the expiry check on reuse) and its session.
type VerifiedSession = (Arc<Claims>, Arc<SessionSettings>);

/// The setting holding the hex SHA-256 of the browser's fingerprint cookie (in mutations, with
/// `--jwt-fingerprint`): SQL binds refresh tokens to it.
pub const FINGERPRINT_HASH_SETTING: &str = "request.fingerprint_hash";
/// The setting holding the incoming refresh cookie (in mutations, with `--jwt-refresh-cookie`).
pub const REFRESH_TOKEN_SETTING: &str = "request.refresh_token";

/// How many distinct verified tokens keep their session.
const SESSION_CACHE_SIZE: usize = 4096;

/// Everything a request needs: built at startup, its schema value replaced on reload.
pub struct Engine {
    /// The schema now served; a request clones the `Arc` once and keeps it to its end.
    schema: RwLock<Arc<SchemaValue>>,
    pub auth: Auth,
    pub exec: Executor,
    pub default_role: String,
    /// The page-size cap and whatever else planning needs beyond the model.
    pub plan_options: plan::PlanOptions,
    /// `--production`: errors keep their code but not the server's internal detail.
    pub production: bool,
    /// `--extended-errors`: the fields of Postgres errors added to GraphQL errors, as v4 adds them.
    pub extended_errors: Vec<String>,
    sessions: Sessions,
}

/// An operation compiled to SQL, ready to be bound to a request's variables.
#[derive(Debug)]
pub struct CompiledOperation {
    pub kind: OpKind,
    pub fields: Vec<(String, CompiledField)>,
    /// The variable leaves bound as parameters (the rest of the variables shaped the SQL).
    pub param_paths: HashSet<VarPath>,
}

impl CompiledOperation {
    fn has_introspection(&self) -> bool {
        self.fields
            .iter()
            .any(|(_, f)| matches!(f, CompiledField::Introspection))
    }
}

#[derive(Debug)]
pub enum CompiledField {
    Constant(&'static str),
    Introspection,
    Select {
        statement: Statement,
        fixups: Vec<FixupPath>,
    },
    Mutation {
        write: Statement,
        payload: Statement,
        not_found: Option<String>,
        fixups: Vec<FixupPath>,
    },
    /// A field error known when planning (a filter the plugin refuses): null, with it.
    Error(PlanError),
}

#[tracing::instrument(level = "debug", skip_all)]
fn compile(plan: &plan::Plan) -> CompiledOperation {
    let fields: Vec<(String, CompiledField)> = plan
        .fields
        .iter()
        .map(|(key, f)| {
            let compiled = match f {
                RootField::Constant(t) => CompiledField::Constant(t),
                RootField::Introspection => CompiledField::Introspection,
                RootField::Error(e) => CompiledField::Error(e.clone()),
                RootField::Select { select, fixups } => CompiledField::Select {
                    statement: sql::select(select),
                    fixups: fixups.clone(),
                },
                RootField::Mutation {
                    mutation: m,
                    fixups,
                } => CompiledField::Mutation {
                    write: sql::write(&m.write),
                    payload: sql::payload(m),
                    not_found: m.not_found.clone(),
                    fixups: fixups.clone(),
                },
            };
            (key.clone(), compiled)
        })
        .collect();
    let mut param_paths = HashSet::new();
    for (_, f) in &fields {
        let statements: Vec<&Statement> = match f {
            CompiledField::Select { statement, .. } => vec![statement],
            CompiledField::Mutation { write, payload, .. } => vec![write, payload],
            _ => vec![],
        };
        for s in statements {
            param_paths.extend(s.sources.iter().flatten().map(|src| src.var.clone()));
        }
    }
    CompiledOperation {
        kind: plan.kind,
        fields,
        param_paths,
    }
}

impl Engine {
    pub fn new(
        api: Api,
        auth: Auth,
        exec: Executor,
        default_role: String,
    ) -> Result<Self, AuthError> {
        let anonymous = Arc::new(auth.session_settings(None, &default_role, &api.model.roles)?);
        let verified = Mutex::new(LruCache::new(
            NonZeroUsize::new(SESSION_CACHE_SIZE).expect("non-zero"),
        ));
        Ok(Engine {
            schema: RwLock::new(Arc::new(SchemaValue::new(api, 1))),
            auth,
            exec,
            default_role,
            plan_options: plan::PlanOptions::default(),
            production: false,
            extended_errors: vec![],
            sessions: Sessions {
                anonymous,
                verified,
            },
        })
    }
}

impl Engine {
    /// The schema value serving new requests.
    pub fn schema(&self) -> Arc<SchemaValue> {
        self.schema.read().expect("schema").clone()
    }

    /// Serves `api` from now on: requests that started before finish on the old value, which
    /// is freed with the last of them (and with it its plans and introspection answers). The
    /// pool's prepared statements are dropped, and verified tokens are checked again against
    /// the new schema's roles. Returns the new value's generation.
    pub fn replace_api(&self, mut api: Api) -> u64 {
        let mut current = self.schema.write().expect("schema");
        api.limits = current.api.limits.clone();
        let generation = current.generation + 1;
        *current = Arc::new(SchemaValue::new(api, generation));
        drop(current);
        self.exec.forget_statements();
        self.sessions
            .verified
            .lock()
            .expect("session cache")
            .clear();
        generation
    }
}

/// What the request's log line tells besides its HTTP status (filled in by `execute`).
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The settings the request ran with (its role); None when it stopped before.
    pub session: Option<Arc<SessionSettings>>,
    /// The first error's code: the SQLSTATE of a database error, or the engine's own code.
    pub code: Option<String>,
    /// Time spent parsing and validating (a cache lookup once seen), planning (the same), and
    /// in the database (from asking for a connection to the last answer): `Server-Timing`.
    pub parse: Option<Duration>,
    pub plan: Option<Duration>,
    pub database: Option<Duration>,
}

/// A GraphQL request as received (POST body or GET query string).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Request {
    pub query: Option<String>,
    #[serde(default)]
    pub variables: Option<Json>,
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
    /// The WAL position of the client's last write (the HTTP layer reads it from a header):
    /// a query then runs where that write is visible.
    #[serde(skip)]
    pub read_after: Option<Lsn>,
}

/// A 200 response: the body, and whether it holds a freshly signed token (then no cache
/// may keep it).
#[derive(Debug)]
pub struct Response {
    pub body: String,
    pub carries_token: bool,
    /// What a mutation's result says about the token cookie (queries leave it alone).
    pub issued: Issued,
    /// A committed mutation's WAL position on the primary (with read replicas only).
    pub position: Option<Lsn>,
}

/// The tokens a response carries, for the HTTP layer's cookies. A mutation's result decides
/// them, whatever the client selected of it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Issued {
    /// The last token signed into a mutation's result, with its `exp`.
    pub token: Option<(String, f64)>,
    /// A mutation's token, or the row holding it, came back null (a sign-out, a failed
    /// sign-in, a refused refresh): the token cookie is cleared, unless a token was signed too.
    pub cleared: bool,
    /// A mutation's token itself came back null (a sign-out): the whole browser session ends,
    /// its fingerprint and refresh cookies too. A null row holding a token (a refused refresh,
    /// a failed sign-in) does not end it: other tabs may still be signed in.
    pub signed_out: bool,
    /// With `--jwt-fingerprint`: the request's fingerprint (the browser's valid cookie, or a new
    /// one), whose hash went into the tokens signed, and the latest `exp` among them. Set only
    /// when a token or a refresh token was issued: then its cookie is (re)set.
    pub fingerprint: Option<(auth::Fingerprint, f64)>,
    /// A `@refreshToken` value of the result: the refresh cookie's new value.
    pub refresh: Option<String>,
    /// The `@refreshToken` value, or the row holding it, came back null: the refresh cookie
    /// is cleared (and nothing else).
    pub refresh_cleared: bool,
    /// Tokens signed for this response, by their claims: a token selected and the same token
    /// read for the cookie are signed once.
    pub(crate) signed: Vec<(String, String, f64)>,
}

/// Where the request's token may come from, as the HTTP layer found it.
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    /// The `Authorization` header value; it wins over the cookie.
    pub authorization: Option<&'a str>,
    /// The token from the `--jwt-cookie` cookie.
    pub cookie: Option<&'a str>,
    /// The fingerprint cookie's value (checked with `--jwt-fingerprint`).
    pub fingerprint: Option<&'a str>,
    /// The refresh cookie's value (`--jwt-refresh-cookie`): SQL reads it as the setting
    /// `request.refresh_token` in mutations.
    pub refresh: Option<&'a str>,
}

/// A GraphQL error; `path` is the response path (empty: none).
fn error_json(
    message: &str,
    locations: &[(usize, usize)],
    path: &[Json],
    code: &str,
    constraint: Option<&str>,
) -> Json {
    let mut e = serde_json::Map::new();
    e.insert("message".into(), message.into());
    if !locations.is_empty() {
        e.insert(
            "locations".into(),
            locations
                .iter()
                .map(|(l, c)| serde_json::json!({"line": l, "column": c}))
                .collect(),
        );
    }
    if !path.is_empty() {
        e.insert("path".into(), Json::Array(path.to_vec()));
    }
    let mut ext = serde_json::Map::new();
    ext.insert("code".into(), code.into());
    if let Some(c) = constraint {
        ext.insert("constraint".into(), c.into());
    }
    e.insert("extensions".into(), Json::Object(ext));
    Json::Object(e)
}

/// v4's `--extended-errors`: each wanted field of a Postgres error the error has, at the top
/// level of the GraphQL error and in `extensions.exception`.
fn extend_error(error: &mut Json, fields: Option<&[(&'static str, String)]>, wanted: &[String]) {
    let (Some(fields), Json::Object(e)) = (fields, error) else {
        return;
    };
    if wanted.is_empty() {
        return;
    }
    let mut exception = serde_json::Map::new();
    for name in wanted {
        if let Some((k, v)) = fields.iter().find(|(k, _)| k == name) {
            e.insert((*k).to_string(), v.as_str().into());
            exception.insert((*k).to_string(), v.as_str().into());
        }
    }
    if let Some(Json::Object(ext)) = e.get_mut("extensions") {
        ext.insert("exception".into(), Json::Object(exception));
    }
}

/// The results of a transaction, unless the `--pre-request` function refused it: then every
/// result carries that refusal, and the request is answered 401 (`JWT_REVOKED`) or 403.
fn refusal(
    rows: Vec<Result<String, DbError>>,
) -> Result<Vec<Result<String, DbError>>, RequestError> {
    match rows.first() {
        Some(Err(e)) if e.refused == Some(401) => Err(AuthError::Revoked(e.message.clone()).into()),
        Some(Err(e)) if e.refused.is_some() => Err(AuthError::Refused(e.message.clone()).into()),
        _ => Ok(rows),
    }
}

/// Where a request came from; GET may not mutate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Engine {
    /// Verifies the bearer token (if any) into the settings of the request's transaction.
    ///
    /// A token's signature is verified once: the verified claims and their settings are kept
    /// (by token text) and only `exp`/`nbf` are checked again on later requests. With a
    /// JWKS URL, a token with an unknown `kid` may wait for one re-fetch of the keys.
    pub async fn session(&self, creds: Credentials<'_>) -> Result<Arc<SessionSettings>, AuthError> {
        self.session_claims(creds).await.map(|(_, session)| session)
    }

    /// [`Engine::session`], with the verified claims (None: no token, the default role).
    pub async fn session_claims(
        &self,
        creds: Credentials<'_>,
    ) -> Result<(Option<Arc<Claims>>, Arc<SessionSettings>), AuthError> {
        let token = match (creds.authorization, creds.cookie) {
            (Some(header), _) => {
                if header.len() > auth::MAX_AUTHORIZATION_BYTES {
                    return Err(AuthError::HeaderTooLarge);
                }
                auth::bearer_token(header)?
            }
            (None, Some(cookie)) => cookie,
            (None, None) => return Ok((None, self.sessions.anonymous.clone())),
        };
        if let Some((claims, session)) = self
            .sessions
            .verified
            .lock()
            .expect("session cache")
            .get(token)
            .cloned()
        {
            self.auth.check_times(&claims)?;
            self.auth.check_fingerprint(&claims, creds.fingerprint)?;
            return Ok((Some(claims), session));
        }
        let claims = self.auth.verify_fetching(token).await?;
        self.auth.check_fingerprint(&claims, creds.fingerprint)?;
        let session = Arc::new(self.auth.session_settings(
            Some(&claims),
            &self.default_role,
            &self.schema().api.model.roles,
        )?);
        let claims = Arc::new(claims);
        self.sessions
            .verified
            .lock()
            .expect("session cache")
            .put(token.to_string(), (claims.clone(), session.clone()));
        Ok((Some(claims), session))
    }

    /// Runs a request; `Ok` is a 200 response (whose body may still carry field errors).
    pub async fn execute(
        &self,
        req: Request,
        creds: Credentials<'_>,
        method: Method,
        outcome: &mut Outcome,
    ) -> Result<Response, RequestError> {
        // The token is checked first: a bad token never reaches the database.
        let session = self.session(creds).await?;
        outcome.session = Some(session.clone());
        let from = ReadFrom::Replica {
            after: req.read_after,
        };
        let query = req
            .query
            .as_deref()
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| RequestError::BadRequest("the request has no `query`".into()))?;
        let operation_name = req.operation_name.as_deref();
        let variables = graphql::variables_from_json(req.variables)?;
        let schema = self.schema();
        let compiled = self.compiled(&schema, query, operation_name, &variables, outcome)?;
        if method == Method::Get && compiled.kind == OpKind::Mutation {
            return Err(RequestError::MutationOverGet);
        }
        // A mutation may start or renew a browser session: SQL sees the browser's fingerprint
        // (its hash) and the refresh cookie as settings, and the tokens signed reuse that
        // fingerprint, so every tab of the browser shares one cookie.
        let mut fingerprint = None;
        let session = if compiled.kind == OpKind::Mutation {
            let mut extra = vec![];
            if self.auth.fingerprint_enabled() {
                let f = auth::Fingerprint::reuse_or_generate(creds.fingerprint)?;
                extra.push((FINGERPRINT_HASH_SETTING.to_string(), f.hash.clone()));
                fingerprint = Some(f);
            }
            if let Some(refresh) = creds.refresh.filter(|_| self.auth.refresh_cookie_enabled()) {
                extra.push((REFRESH_TOKEN_SETTING.to_string(), refresh.to_string()));
            }
            if extra.is_empty() {
                session
            } else {
                let mut with = (*session).clone();
                with.settings.extend(extra);
                Arc::new(with)
            }
        } else {
            session
        };
        let introspection = if compiled.has_introspection() {
            Some(
                schema
                    .introspection(query, operation_name, &variables)
                    .await?,
            )
        } else {
            None
        };
        self.run(
            &compiled,
            &variables,
            &session,
            introspection,
            fingerprint,
            outcome,
            from,
        )
        .await
    }

    /// Runs a compiled operation in one transaction under `session` and assembles its body.
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        compiled: &CompiledOperation,
        variables: &juniper::Variables<S>,
        session: &Arc<SessionSettings>,
        introspection: Option<Arc<IntrospectionAnswer>>,
        fingerprint: Option<auth::Fingerprint>,
        outcome: &mut Outcome,
        from: ReadFrom,
    ) -> Result<Response, RequestError> {
        // This request's values for the parameters that came from variables.
        let lookup = |src: &plan::ParamSource| -> Result<Option<String>, RequestError> {
            let value = plan_cache::variable_leaf(variables, &src.var);
            plan::bind(src, &value).map_err(|message| match src.cursor {
                // A cursor variable a cached plan cannot use fails its field only, as at
                // plan time.
                Some(_) => RequestError::Plan(PlanError {
                    message,
                    location: (0, 0),
                    code: plan::INVALID_CURSOR,
                }),
                None => RequestError::BadRequest(message),
            })
        };
        let mut refused: Vec<Option<PlanError>> = vec![None; compiled.fields.len()];
        let mut results: Vec<Option<Result<String, DbError>>> = vec![None; compiled.fields.len()];
        let mut position = None;
        let mut slots = vec![];
        // A field that would return a token cannot run on an instance that cannot sign one
        // (verify-only): it is not run at all, so no sign-up happens without its token.
        let unsignable = |f: &CompiledField| match f {
            CompiledField::Select { fixups, .. } | CompiledField::Mutation { fixups, .. } => {
                !self.auth.can_sign() && fixups.iter().any(|(_, f)| *f == Fixup::Jwt)
            }
            _ => false,
        };
        match compiled.kind {
            OpKind::Query => {
                let mut statements = vec![];
                for (i, (_, f)) in compiled.fields.iter().enumerate() {
                    if unsignable(f) {
                        continue;
                    }
                    if let CompiledField::Select { statement, .. } = f {
                        match statement.rebind(lookup) {
                            Ok(bound) => {
                                statements.push(bound);
                                slots.push(i);
                            }
                            Err(RequestError::Plan(e)) if e.code == plan::INVALID_CURSOR => {
                                refused[i] = Some(e);
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
                if !statements.is_empty() {
                    let started = Instant::now();
                    let rows = self.exec.read_from(from, session, &statements).await;
                    outcome.database = Some(started.elapsed());
                    for (slot, r) in slots.into_iter().zip(refusal(rows?)?) {
                        results[slot] = Some(r);
                    }
                }
            }
            OpKind::Mutation => {
                let mut statements = vec![];
                for (i, (_, f)) in compiled.fields.iter().enumerate() {
                    if unsignable(f) {
                        continue;
                    }
                    if let CompiledField::Mutation {
                        write,
                        payload,
                        not_found,
                        ..
                    } = f
                    {
                        statements.push(MutationStatements {
                            write: write.rebind(lookup)?,
                            payload: payload.rebind(lookup)?,
                            not_found: not_found.as_deref(),
                        });
                        slots.push(i);
                    }
                }
                if !statements.is_empty() {
                    let started = Instant::now();
                    let (rows, at) = self.exec.write_at(session, &statements).await?;
                    outcome.database = Some(started.elapsed());
                    position = at;
                    for (slot, r) in slots.into_iter().zip(refusal(rows)?) {
                        results[slot] = Some(r);
                    }
                }
            }
        }

        // Assemble `{"data": {...}, "errors": [...]}` around the JSON Postgres built.
        let mut data = String::from("{");
        let mut errors: Vec<Json> = vec![];
        let mut carries_token = false;
        let mut issued = Issued {
            fingerprint: fingerprint.map(|f| (f, 0.0)),
            ..Issued::default()
        };
        for (i, (key, f)) in compiled.fields.iter().enumerate() {
            if i > 0 {
                data.push(',');
            }
            let _ = write!(data, "{}:", Json::String(key.clone()));
            if let Some(e) = refused[i].take() {
                data.push_str("null");
                errors.push(error_json(
                    &e.message,
                    &[],
                    &[key.as_str().into()],
                    e.code,
                    None,
                ));
                continue;
            }
            match f {
                CompiledField::Constant(t) => {
                    data.push_str(&Json::String((*t).into()).to_string());
                }
                CompiledField::Introspection => {
                    let value = introspection
                        .as_ref()
                        .and_then(|a| a.iter().find(|(k, _)| k == key))
                        .map_or("null", |(_, v)| v.as_str());
                    data.push_str(value);
                }
                CompiledField::Error(e) => {
                    data.push_str("null");
                    errors.push(error_json(
                        &e.message,
                        &[e.location],
                        &[key.as_str().into()],
                        e.code,
                        None,
                    ));
                }
                f if unsignable(f) => {
                    data.push_str("null");
                    let e = AuthError::NoSigningKey;
                    errors.push(error_json(
                        &e.to_string(),
                        &[],
                        &[key.as_str().into()],
                        e.code(),
                        None,
                    ));
                }
                CompiledField::Select { fixups, .. } | CompiledField::Mutation { fixups, .. } => {
                    match results[i].take() {
                        Some(Ok(json)) => {
                            match self.finish(key, json, fixups, &mut errors, &mut issued) {
                                Ok(json) => {
                                    data.push_str(&json);
                                }
                                Err(e) => {
                                    data.push_str("null");
                                    let message = if self.production && e.status() >= 500 {
                                        tracing::error!(error = %e, "signing a token failed");
                                        INTERNAL_MESSAGE.to_string()
                                    } else {
                                        e.to_string()
                                    };
                                    errors.push(error_json(
                                        &message,
                                        &[],
                                        &[key.as_str().into()],
                                        e.code(),
                                        None,
                                    ));
                                }
                            }
                        }
                        Some(Err(e)) => {
                            data.push_str("null");
                            let message = if self.production && !e.client_facing() {
                                tracing::warn!(code = %e.code, message = %e.message, "database error hidden from the client");
                                INTERNAL_MESSAGE
                            } else {
                                e.message.as_str()
                            };
                            let mut error = error_json(
                                message,
                                &[],
                                &[key.as_str().into()],
                                &e.code,
                                e.constraint.as_deref(),
                            );
                            // Production hides what it hides of the message in the fields too.
                            if !self.production || e.client_facing() {
                                extend_error(
                                    &mut error,
                                    e.fields.as_deref(),
                                    &self.extended_errors,
                                );
                            }
                            errors.push(error);
                        }
                        None => data.push_str("null"),
                    }
                }
            }
        }
        data.push('}');
        outcome.code = errors
            .first()
            .and_then(|e| e["extensions"]["code"].as_str())
            .map(str::to_string);
        let mut body = format!("{{\"data\":{data}");
        if !errors.is_empty() {
            let _ = write!(body, ",\"errors\":{}", Json::Array(errors));
        }
        body.push('}');
        // A refused session (the row holding the refresh token came back null) is no sign-out:
        // other tabs keep their access tokens, so only the refresh cookie goes.
        if issued.refresh_cleared && !issued.signed_out {
            issued.cleared = false;
        }
        carries_token |= issued.token.is_some() || issued.refresh.is_some();
        if issued.token.is_none() && issued.refresh.is_none() {
            issued.fingerprint = None;
        }
        issued.signed.clear();
        if compiled.kind != OpKind::Mutation {
            issued = Issued {
                fingerprint: issued.fingerprint,
                ..Issued::default()
            };
        }
        Ok(Response {
            body,
            carries_token,
            issued,
            position,
        })
    }

    /// The compiled plan for this query, operation and shape of variables: from the cache
    /// (only the variables are checked again), or parsed, validated, planned and cached.
    fn compiled(
        &self,
        schema: &SchemaValue,
        query: &str,
        operation_name: Option<&str>,
        variables: &juniper::Variables<S>,
        outcome: &mut Outcome,
    ) -> Result<Arc<CompiledOperation>, RequestError> {
        let started = Instant::now();
        let api = &schema.api;
        let document = api.document(query);
        outcome.parse = Some(started.elapsed());
        let document = document?;
        let started = Instant::now();
        if let Some(compiled) = schema.plans.get(query, operation_name, variables) {
            graphql::document::check(&api.root, &document, operation_name, variables)?;
            outcome.plan = Some(started.elapsed());
            return Ok(compiled);
        }
        let op = graphql::document::operation(&api.root, &document, operation_name, variables)?;
        let plan = plan::plan_with(&api.model, &op, &self.plan_options)?;
        let compiled = Arc::new(compile(&plan));
        schema
            .plans
            .put(query, operation_name, variables, compiled.clone());
        outcome.plan = Some(started.elapsed());
        Ok(compiled)
    }
}
