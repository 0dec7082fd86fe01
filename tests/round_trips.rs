//! What one request costs Postgres: network round trips, protocol messages and statements for
//! a read, a read of several root fields and mutations, counted so that a change cannot add
//! one silently (docs/round-trips.md says why each is there).
//!
//! postgraph talks to Postgres through a small loopback proxy that counts the client's
//! protocol messages by type and holds every answer until postgraph has been quiet for a
//! while: a client that pipelines has sent everything by then, so each release of answers
//! that postgraph waited on is one round trip, however busy the machine. Statements come from
//! pg_stat_statements.

mod common;

use common::{app_with, serve, Options, TestApp};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How long the client must be silent before the proxy hands it the answers it holds. Only a
/// pipelined client stalled this long mid-burst would be counted one round trip too many.
const QUIET: Duration = Duration::from_millis(150);

#[derive(Default, Clone, Debug, PartialEq)]
struct Counts {
    /// Times the client sent again after it had been handed answers.
    round_trips: u64,
    /// Client messages by type: `Q` simple query, `P` parse, `B` bind, `E` execute, `S` sync,
    /// `D` describe, ...
    messages: BTreeMap<char, u64>,
}

impl Counts {
    fn since(&self, before: &Counts) -> Counts {
        let messages = self
            .messages
            .iter()
            .map(|(k, v)| (*k, v - before.messages.get(k).copied().unwrap_or(0)))
            .filter(|(_, v)| *v > 0)
            .collect();
        Counts {
            round_trips: self.round_trips - before.round_trips,
            messages,
        }
    }
}

/// The proxy's counts, shared by all its connections (the test sends one request at a time).
type Shared = Arc<Mutex<Counts>>;

/// Where Postgres listens, from a "host=H port=N ..." connection string.
fn host_port(url: &str) -> (String, u16) {
    let value = |key: &str| {
        url.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key))
            .map(|v| v.trim_matches('\'').to_string())
            .unwrap_or_else(|| panic!("no {key} in {url}"))
    };
    (value("host="), value("port=").parse().expect("port"))
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

async fn upstream(host: &str, port: u16) -> Box<dyn Stream> {
    if host.starts_with('/') {
        let path = format!("{host}/.s.PGSQL.{port}");
        Box::new(tokio::net::UnixStream::connect(path).await.expect("unix"))
    } else {
        Box::new(
            tokio::net::TcpStream::connect((host, port))
                .await
                .expect("tcp"),
        )
    }
}

/// Starts the proxy in front of the Postgres that `url` names; returns its port and counts.
async fn proxy(url: &str) -> (u16, Shared) {
    let (host, port) = host_port(url);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let local = listener.local_addr().unwrap().port();
    let counts = Shared::default();
    let shared = counts.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = upstream(&host, port).await;
            tokio::spawn(relay(client, server, shared.clone()));
        }
    });
    (local, counts)
}

/// What one proxied connection knows: when the client last sent, whether it has been handed
/// answers since, and the answers held back.
struct Link {
    last_sent: Instant,
    answered: bool,
    held: Vec<u8>,
    closed: bool,
}

async fn relay(client: tokio::net::TcpStream, server: Box<dyn Stream>, counts: Shared) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = tokio::io::split(server);
    let link = Arc::new(Mutex::new(Link {
        last_sent: Instant::now(),
        answered: true,
        held: vec![],
        closed: false,
    }));
    // Client → server: forwarded at once, counted message by message.
    let up = {
        let link = link.clone();
        async move {
            let mut parser = Parser::default();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match client_read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                {
                    let mut l = link.lock().unwrap();
                    let mut c = counts.lock().unwrap();
                    if l.answered {
                        c.round_trips += 1;
                        l.answered = false;
                    }
                    l.last_sent = Instant::now();
                    for kind in parser.feed(&buf[..n]) {
                        *c.messages.entry(kind).or_default() += 1;
                    }
                }
                if server_write.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            link.lock().unwrap().closed = true;
        }
    };
    // Server → proxy: held until the client is quiet.
    let down = {
        let link = link.clone();
        async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match server_read.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => link.lock().unwrap().held.extend_from_slice(&buf[..n]),
                }
            }
            link.lock().unwrap().closed = true;
        }
    };
    // Proxy → client: the held answers, once the client has been quiet for QUIET.
    let release = async move {
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let out = {
                let mut l = link.lock().unwrap();
                if l.closed && l.held.is_empty() {
                    break;
                }
                if l.held.is_empty() || l.last_sent.elapsed() < QUIET {
                    continue;
                }
                l.answered = true;
                std::mem::take(&mut l.held)
            };
            if client_write.write_all(&out).await.is_err() {
                break;
            }
        }
    };
    tokio::join!(up, down, release);
}

/// Splits the client's byte stream into protocol messages: the first (startup, or an
/// SSLRequest and then the startup) has no type byte, every later one does.
#[derive(Default)]
struct Parser {
    buf: Vec<u8>,
    started: bool,
}

impl Parser {
    fn feed(&mut self, bytes: &[u8]) -> Vec<char> {
        self.buf.extend_from_slice(bytes);
        let mut kinds = vec![];
        loop {
            let header = if self.started { 5 } else { 4 };
            if self.buf.len() < header {
                break;
            }
            let at = header - 4;
            let len = u32::from_be_bytes(self.buf[at..at + 4].try_into().unwrap()) as usize;
            if self.buf.len() < at + len {
                break;
            }
            if self.started {
                kinds.push(self.buf[0] as char);
            } else {
                // 80877103: SSLRequest, answered with one byte; the startup follows untyped.
                let code = u32::from_be_bytes(self.buf[4..8].try_into().unwrap());
                self.started = code != 80877103;
            }
            self.buf.drain(..at + len);
        }
        kinds
    }
}

/// A postgraph on one pooled connection that reaches Postgres through the counting proxy.
struct Counted {
    app: TestApp,
    proxied: postgraph::server::Running,
    counts: Shared,
}

async fn counted() -> Counted {
    counted_with(None).await
}

/// [`counted`], with `setup` run as superuser first.
async fn counted_with(setup: Option<&'static str>) -> Counted {
    counted_opts(setup, None).await
}

/// [`counted_with`], with a `--pre-request` function.
async fn counted_opts(setup: Option<&'static str>, pre_request: Option<&'static str>) -> Counted {
    let app = app_with(Options {
        setup_sql: setup,
        ..Options::default()
    })
    .await;
    let (port, counts) = proxy(&app.authenticator_url).await;
    let (host, pg_port) = host_port(&app.authenticator_url);
    let url = app
        .authenticator_url
        .replace(&format!("host={host}"), "host=127.0.0.1")
        .replace(&format!("port={pg_port}"), &format!("port={port}"));
    let opts = Options {
        max_pool_size: 1,
        pre_request,
        ..Options::default()
    };
    let proxied = serve(&url, &opts).await.expect("proxied server");
    Counted {
        app,
        proxied,
        counts,
    }
}

/// What a request cost: round trips and messages (proxy) and statements (pg_stat_statements).
#[derive(Debug)]
struct Cost {
    counts: Counts,
    statements: i64,
}

impl Counted {
    async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> common::Reply {
        let mut req = self
            .app
            .http
            .post(self.proxied.url())
            .header("content-type", "application/json")
            .body(json!({"query": query, "variables": variables}).to_string());
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().await.expect("json");
        common::Reply {
            status,
            headers,
            body,
        }
    }

    /// Runs the request once more than asked (the first prepares its statements on the pooled
    /// connection) and returns the last reply and what it cost.
    async fn measure(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> (common::Reply, Cost) {
        self.gql(query, variables.clone(), token).await;
        let statements = self.app.statement_count("%").await;
        let before = self.counts.lock().unwrap().clone();
        let reply = self.gql(query, variables, token).await;
        let counts = self.counts.lock().unwrap().since(&before);
        let statements = self.app.statement_count("%").await - statements;
        (reply, Cost { counts, statements })
    }
}

fn messages(pairs: &[(char, u64)]) -> BTreeMap<char, u64> {
    pairs.iter().copied().collect()
}

#[tokio::test]
async fn a_read_is_one_round_trip_of_four_messages() {
    let c = counted().await;
    let (r, cost) = c
        .measure("{ allUsers(first: 1) { totalCount } }", json!({}), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["allUsers"]["totalCount"], 0, "{}", r.body);
    assert_eq!(cost.counts.round_trips, 1, "{cost:?}");
    // begin read only; reset all | settings | query | commit
    assert_eq!(
        cost.counts.messages,
        messages(&[('Q', 2), ('B', 2), ('E', 2), ('S', 2)]),
        "{cost:?}"
    );
    // begin, reset all, set_config, the query, commit
    assert_eq!(cost.statements, 5, "{cost:?}");
}

#[tokio::test]
async fn a_read_of_several_root_fields_is_one_round_trip() {
    let c = counted().await;
    let (r, cost) = c
        .measure(
            "{ a: allUsers { totalCount } b: allPosts { totalCount } c: userById(id: 1) { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({"a": {"totalCount": 0}, "b": {"totalCount": 0}, "c": null})
    );
    assert_eq!(cost.counts.round_trips, 1, "{cost:?}");
    // begin read only; reset all | settings | query | query | query | commit
    assert_eq!(
        cost.counts.messages,
        messages(&[('Q', 2), ('B', 4), ('E', 4), ('S', 4)]),
        "{cost:?}"
    );
    assert_eq!(cost.statements, 7, "{cost:?}");
}

#[tokio::test]
async fn a_failing_root_field_costs_the_others_one_round_trip_more_not_their_data() {
    let c = counted_with(Some(
        "create function app_public.boom() returns int stable language plpgsql \
           as $$ begin raise exception 'boom'; end $$; \
         grant execute on function app_public.boom() to public;",
    ))
    .await;
    let (r, cost) = c
        .measure(
            "{ a: allUsers { totalCount } b: boom c: allPosts { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({"a": {"totalCount": 0}, "b": null, "c": {"totalCount": 0}})
    );
    let errors = r.errors().expect("errors");
    assert_eq!(errors.len(), 1, "{}", r.body);
    assert_eq!(errors[0]["message"], "boom");
    assert_eq!(errors[0]["path"], json!(["b"]));
    // The third field runs again in a transaction of its own.
    assert_eq!(cost.counts.round_trips, 2, "{cost:?}");
}

const CREATE: &str =
    "mutation($t: String!) { createPost(input: {post: {title: $t, published: true}}) { post { id title } } }";

#[tokio::test]
async fn a_mutation_is_one_round_trip_and_commits() {
    let c = counted().await;
    let token = c.app.signup("counter").await;
    let (r, cost) = c
        .measure(CREATE, json!({"t": "counted"}), Some(&token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["createPost"]["post"]["title"], "counted");
    let titles = c
        .app
        .sql("select count(*) as n from app_public.posts where title = 'counted'")
        .await;
    assert_eq!(titles[0]["n"], 2, "both runs committed");
    assert_eq!(cost.counts.round_trips, 1, "{cost:?}");
    // begin; reset all | settings | write | payload | commit
    assert_eq!(
        cost.counts.messages,
        messages(&[('Q', 2), ('B', 3), ('E', 3), ('S', 3)]),
        "{cost:?}"
    );
    // begin, reset all, set_config, write, payload, commit
    assert_eq!(cost.statements, 6, "{cost:?}");
}

/// A statement-level trigger: it runs even for an update that matches no row, so its row tells
/// whether such an update's transaction was kept.
const STATEMENT_LOG: &str = "
create table app_private.statement_log (at timestamptz default now());
create function app_private.log_statement() returns trigger language plpgsql security definer
  as $$ begin insert into app_private.statement_log default values; return null; end $$;
create trigger log_updates after update on app_public.posts
  for each statement execute function app_private.log_statement();";

#[tokio::test]
async fn an_update_that_finds_no_row_is_refused_and_rolled_back_in_one_round_trip() {
    let c = counted_with(Some(STATEMENT_LOG)).await;
    let token = c.app.signup("finder").await;
    let logged = || async {
        c.app
            .sql("select count(*) as n from app_private.statement_log")
            .await[0]["n"]
            .as_i64()
            .unwrap()
    };
    let (r, cost) = c
        .measure(
            "mutation { updatePostById(input: {id: 424242, postPatch: {title: \"x\"}}) { post { id } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["updatePostById"].is_null(), "{}", r.body);
    assert_eq!(r.first_error_code(), Some("NOT_FOUND"), "{}", r.body);
    assert_eq!(
        r.errors().unwrap()[0]["message"],
        "No values were updated in collection 'posts' because no values you can update were found matching these criteria."
    );
    assert_eq!(logged().await, 0, "the trigger's row was rolled back");
    assert_eq!(cost.counts.round_trips, 1, "{cost:?}");
    // An update that finds its row keeps what its trigger wrote.
    let created = c.gql(CREATE, json!({"t": "mine"}), Some(&token)).await;
    let id = created.data()["createPost"]["post"]["id"].clone();
    let r = c
        .gql(
            "mutation($id: Int!) { updatePostById(input: {id: $id, postPatch: {title: \"y\"}}) { post { title } } }",
            json!({"id": id}),
            Some(&token),
        )
        .await;
    assert_eq!(
        r.data()["updatePostById"]["post"]["title"],
        "y",
        "{}",
        r.body
    );
    assert_eq!(logged().await, 1);
}

#[tokio::test]
async fn several_mutations_are_two_round_trips() {
    let c = counted().await;
    let token = c.app.signup("pair").await;
    let (r, cost) = c
        .measure(
            "mutation { \
               a: createPost(input: {post: {title: \"first\", published: true}}) { post { title } } \
               b: createPost(input: {post: {title: \"second\", published: true}}) { post { title } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    assert_eq!(r.data()["b"]["post"]["title"], "second", "{}", r.body);
    let rows = c
        .app
        .sql("select title, count(*) as n from app_public.posts group by title order by title")
        .await;
    assert_eq!(
        rows,
        vec![
            json!({"title": "first", "n": 2}),
            json!({"title": "second", "n": 2})
        ]
    );
    assert_eq!(cost.counts.round_trips, 2, "{cost:?}");
    // begin; reset all | settings | (savepoint | write | payload) x 2 || commit
    assert_eq!(
        cost.counts.messages,
        messages(&[('Q', 4), ('B', 5), ('E', 5), ('S', 5)]),
        "{cost:?}"
    );
}

#[tokio::test]
async fn several_mutations_keep_each_others_results_when_one_fails() {
    let c = counted().await;
    let token = c.app.signup("several").await;
    // The second is refused by RLS (someone else's author id); the others are kept.
    let (r, cost) = c
        .measure(
            "mutation { \
               a: createPost(input: {post: {title: \"kept\", published: true}}) { post { title } } \
               b: createPost(input: {post: {title: \"refused\", authorId: 999999}}) { post { title } } \
               c: createPost(input: {post: {title: \"kept\", published: true}}) { post { title } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["a"]["post"]["title"], "kept", "{}", r.body);
    assert!(r.data()["b"].is_null(), "{}", r.body);
    assert_eq!(r.data()["c"]["post"]["title"], "kept", "{}", r.body);
    assert_eq!(r.first_error_code(), Some("42501"), "{}", r.body);
    let rows = c
        .app
        .sql("select title, count(*) as n from app_public.posts group by title order by title")
        .await;
    assert_eq!(rows, vec![json!({"title": "kept", "n": 4})]);
    // The failure costs one round trip more: back to its savepoint, and the third resent.
    assert_eq!(cost.counts.round_trips, 3, "{cost:?}");
}

#[tokio::test]
async fn the_pre_request_check_rides_in_the_same_round_trip() {
    let c = counted_opts(None, Some("app_private.check_session")).await;
    let token = c.app.signup("checked").await;
    let (r, cost) = c
        .measure(CREATE, json!({"t": "checked"}), Some(&token))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.data()["createPost"]["post"]["title"], "checked");
    assert_eq!(cost.counts.round_trips, 1, "{cost:?}");
    // begin; reset all | settings | the check | write | payload | commit (the check is
    // prepared: one Bind/Execute/Sync)
    assert_eq!(
        cost.counts.messages,
        messages(&[('Q', 2), ('B', 4), ('E', 4), ('S', 4)]),
        "{cost:?}"
    );
    // begin, reset all, set_config, the check, write, payload, commit
    assert_eq!(cost.statements, 7, "{cost:?}");
    let (r, cost) = c
        .measure(
            "{ allUsers(first: 1) { totalCount } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(cost.counts.round_trips, 1, "{cost:?}");
    // In a read the check rides inside the query: no message more than without it.
    // begin read only; reset all | settings | the check and the query | commit
    assert_eq!(
        cost.counts.messages,
        messages(&[('Q', 2), ('B', 2), ('E', 2), ('S', 2)]),
        "{cost:?}"
    );
    assert_eq!(cost.statements, 5, "{cost:?}");
}
