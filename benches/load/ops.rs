//! The GraphQL operations under load, how to check one response, and signing in for tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use postgraph::auth::{Claims, SessionSettings};
use postgraph::graphql::Api;
use serde_json::{json, Value};

use crate::cluster::{PASSWORD, SIGNIN_USER};
use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Has a pgbench ceiling: its SQL is a plain read.
    Read,
    /// Appends the writer's posts: measured by wrk only; rows counted after the run.
    Write,
    /// Signs in (one bcrypt verification): measured by wrk only.
    Signin,
}

pub struct Op {
    /// Short name, used by BENCH_ONLY and for file names.
    pub name: &'static str,
    /// What the report's table shows.
    pub label: &'static str,
    pub query: &'static str,
    pub variables: Option<Value>,
    /// Bearer token sent with every request.
    pub token: Option<String>,
    pub kind: Kind,
    /// JSON pointer that must hold a non-null value in a good response: proves the response
    /// carries real rows (e.g. the 20th post), not just an empty `data`.
    pub expect: &'static str,
}

/// A published post among the first 10,000 (all published, see `cluster::SEED`).
pub const POST_ID: i32 = 4242;

/// Reads first, writes last: the writes add rows only the reads never look at, and signin
/// changes nothing, but this order keeps even table statistics and caches out of it.
pub fn all(reader_token: &str, writer_token: &str) -> Vec<Op> {
    let list = "{ allPosts(first: 20) { nodes { id title body createdAt } } }";
    vec![
        Op {
            name: "list",
            label: "list `allPosts(first: 20)`",
            query: list,
            variables: None,
            token: None,
            kind: Kind::Read,
            expect: "/data/allPosts/nodes/19/title",
        },
        Op {
            name: "list-auth",
            label: "list, with a Bearer token",
            query: list,
            variables: None,
            token: Some(reader_token.into()),
            kind: Kind::Read,
            expect: "/data/allPosts/nodes/19/title",
        },
        Op {
            name: "nested",
            label: "nested users(10) → posts(5) → author",
            query: "{ allUsers(first: 10) { nodes { username postsByAuthorId(first: 5) { nodes { title userByAuthorId { username } } } } } }",
            variables: None,
            token: None,
            kind: Kind::Read,
            expect: "/data/allUsers/nodes/9/postsByAuthorId/nodes/4/userByAuthorId/username",
        },
        Op {
            name: "aggregates",
            label: "users(20) by posts count → distinct count of their posts",
            query: "{ allUsers(first: 20, orderBy: POSTS_BY_AUTHOR_ID_COUNT_DESC) { nodes { postsByAuthorId { aggregates { distinctCount { id } } } } } }",
            variables: None,
            token: None,
            kind: Kind::Read,
            expect: "/data/allUsers/nodes/19/postsByAuthorId/aggregates/distinctCount/id",
        },
        Op {
            name: "filter",
            label: "`allPosts(filter:)` on a title and the author (relation filter)",
            query: "{ allPosts(first: 20, filter: {title: {includesInsensitive: \"NUMBER 1\"}, userByAuthorId: {username: {startsWith: \"user1\"}}}) { nodes { id title } } }",
            variables: None,
            token: None,
            kind: Kind::Read,
            expect: "/data/allPosts/nodes/19/title",
        },
        Op {
            name: "by-pk",
            label: "by primary key `postById`",
            query: "query($id: Int!) { postById(id: $id) { id title body } }",
            variables: Some(json!({ "id": POST_ID })),
            token: None,
            kind: Kind::Read,
            expect: "/data/postById/title",
        },
        Op {
            name: "me",
            label: "`me`, with a Bearer token",
            query: "{ me { id username name createdAt } }",
            variables: None,
            token: Some(reader_token.into()),
            kind: Kind::Read,
            expect: "/data/me/username",
        },
        Op {
            name: "create-post",
            label: "`createPost`, with a Bearer token",
            query: "mutation { createPost(input: {post: {title: \"Benchmark post\", body: \"Written under load.\", published: true}}) { post { id title createdAt } } }",
            variables: None,
            token: Some(writer_token.into()),
            kind: Kind::Write,
            expect: "/data/createPost/post/id",
        },
        Op {
            name: "signin",
            label: "`signin` (bcrypt)",
            query: SIGNIN,
            variables: Some(json!({ "email": crate::cluster::user_email(SIGNIN_USER), "password": PASSWORD })),
            token: None,
            kind: Kind::Signin,
            expect: "/data/signin/jwtToken",
        },
    ]
}

const SIGNIN: &str = "mutation($email: String!, $password: String!) { signin(input: {email: $email, password: $password}) { jwtToken } }";

impl Op {
    /// The POST body.
    pub fn body(&self) -> Value {
        match &self.variables {
            Some(v) => json!({ "query": self.query, "variables": v }),
            None => json!({ "query": self.query }),
        }
    }

    /// Sends the operation once and checks the response: 200, no `errors`, data present.
    pub async fn sample(&self, http: &reqwest::Client, url: &str) -> Result<Value> {
        post(http, url, &self.body(), self.token.as_deref(), self.expect).await
    }

    /// The transaction settings postgraph derives for this operation's token.
    pub fn session(&self, api: &Api) -> Result<SessionSettings> {
        let claims = self.token.as_deref().map(claims_of).transpose()?;
        crate::session_for(api, claims.as_ref())
    }
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    token: Option<&str>,
    expect: &str,
) -> Result<Value> {
    let mut request = http.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    let shorten = |t: &str| t.chars().take(300).collect::<String>();
    if !status.is_success() {
        return Err(format!("HTTP {status}: {}", shorten(&text)).into());
    }
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("response is not JSON ({e}): {}", shorten(&text)))?;
    if value.get("errors").is_some() {
        return Err(format!("GraphQL errors: {}", shorten(&text)).into());
    }
    match value.pointer(expect) {
        Some(v) if !v.is_null() => Ok(value),
        _ => Err(format!("no value at {expect}: {}", shorten(&text)).into()),
    }
}

/// Signs in through postgraph (so the token is one it issued) and returns the JWT.
pub async fn sign_in(http: &reqwest::Client, url: &str, email: &str) -> Result<String> {
    let body = json!({ "query": SIGNIN, "variables": { "email": email, "password": PASSWORD } });
    let value = post(http, url, &body, None, "/data/signin/jwtToken")
        .await
        .map_err(|e| format!("signin as {email}: {e}"))?;
    Ok(value["data"]["signin"]["jwtToken"]
        .as_str()
        .ok_or("jwtToken is not a string")?
        .to_string())
}

/// The claims of a JWT (its payload; the signature was checked by postgraph, who issued it).
fn claims_of(token: &str) -> Result<Claims> {
    let payload = token.split('.').nth(1).ok_or("malformed JWT")?;
    let bytes = URL_SAFE_NO_PAD.decode(payload)?;
    match serde_json::from_slice(&bytes)? {
        Value::Object(map) => Ok(Claims(map)),
        _ => Err("JWT payload is not an object".into()),
    }
}
