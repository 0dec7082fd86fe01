//! A browser's whole session against the example app (docs/browser-session.md), through HTTP
//! with a cookie jar per browser: one fingerprint per browser shared by its tabs, refresh tokens
//! in an HttpOnly cookie and bound to the browser, cookies that follow a mutation's result,
//! revocation answered 401 by the pre-request check, and server-side rendering.

mod common;

use common::{app_with, Options, Reply, TestApp, SECRET};
use postgraph::auth::JwtConfig;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const ME: &str = "{ me { username } }";
const SIGNUP: &str = "mutation($u: String!) { signupWithRefresh(input: {username: $u, email: \"x@example.com\", password: \"correct horse battery\"}) { authToken { accessToken refreshToken } } }";
const SIGNIN: &str = "mutation { signinWithRefresh(input: {email: \"x@example.com\", password: \"correct horse battery\"}) { authToken { accessToken refreshToken } } }";
const REFRESH: &str = "mutation { refresh(input: {}) { authToken { accessToken refreshToken } } }";

/// The browser-session configuration: fingerprint, refresh cookie, the session check.
fn session_opts() -> Options {
    Options {
        jwt: JwtConfig {
            secret: Some(SECRET.into()),
            fingerprint: true,
            refresh_cookie: true,
            ..JwtConfig::default()
        },
        pre_request: Some("app_private.check_session"),
        ..Options::default()
    }
}

/// One browser: its cookie jar (what `Set-Cookie` left in it) and the last `Set-Cookie` lines.
#[derive(Default, Clone)]
struct Browser {
    jar: BTreeMap<String, String>,
    set: Vec<String>,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends a GraphQL request with the jar's cookies (and a bearer token), keeping what the
    /// answer sets.
    async fn gql(&mut self, app: &TestApp, query: &str, vars: Value, token: Option<&str>) -> Reply {
        let cookie = self.cookie_header();
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = vec![];
        if !cookie.is_empty() {
            headers.push(("cookie", cookie.as_str()));
        }
        if let Some(b) = &bearer {
            headers.push(("authorization", b.as_str()));
        }
        let body = json!({"query": query, "variables": vars}).to_string();
        let r = app.post_raw(body, &headers).await;
        self.keep(&r);
        r
    }

    fn keep(&mut self, r: &Reply) {
        self.set = r
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for line in &self.set {
            let (pair, attrs) = line.split_once(';').unwrap_or((line, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The `Set-Cookie` line of the last answer for cookie `name`.
    fn set_line(&self, name: &str) -> Option<&str> {
        self.set
            .iter()
            .find(|l| l.starts_with(&format!("{name}=")))
            .map(String::as_str)
    }

    fn fgp(&self) -> Option<&str> {
        self.jar.get("__Host-fgp").map(String::as_str)
    }

    fn refresh(&self) -> Option<&str> {
        self.jar.get("__Host-refresh").map(String::as_str)
    }
}

fn max_age(line: &str) -> i64 {
    line.split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn access(r: &Reply, field: &str) -> String {
    r.data()[field]["authToken"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {}", r.body))
        .to_owned()
}

/// `{ me }` as this browser with `token`: the username, or the refusal's status and code.
async fn me(app: &TestApp, b: &mut Browser, token: &str) -> Result<String, (u16, String)> {
    let r = b.gql(app, ME, json!({}), Some(token)).await;
    if r.status == 200 {
        return Ok(r.data()["me"]["username"].as_str().unwrap_or("").to_owned());
    }
    Err((r.status, r.first_error_code().unwrap_or("").to_owned()))
}

/// A user signed up in a fresh browser: the browser and its access token.
async fn signed_up(app: &TestApp, username: &str) -> (Browser, String) {
    let mut b = Browser::default();
    let r = b.gql(app, SIGNUP, json!({ "u": username }), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = access(&r, "signupWithRefresh");
    (b, token)
}

#[tokio::test]
async fn the_refresh_token_lives_only_in_an_httponly_cookie() {
    let app = app_with(session_opts()).await;
    let (b, token) = signed_up(&app, "alice").await;
    // Not in the body (the field is there, null), only in the cookie.
    let refresh = b.refresh().expect("refresh cookie").to_owned();
    assert_eq!(refresh.len(), 64);
    let line = b.set_line("__Host-refresh").unwrap();
    assert!(
        line.ends_with("; Path=/; HttpOnly; Secure; SameSite=Strict"),
        "{line}"
    );
    assert_eq!(max_age(line), 30 * 86_400);
    let stored = app
        .sql(&format!(
            "select count(*) as n from app_private.refresh_tokens \
             where token_hash = public.digest('{refresh}', 'sha256') and revoked_at is null"
        ))
        .await;
    assert_eq!(stored, [json!({"n": 1})]);
    // The access token is short (--jwt-expires-in) and bound to the fingerprint cookie.
    let c = common::claims(&token);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    assert!(c["fgp"].is_string());
}

#[tokio::test]
async fn refresh_reads_the_cookie_and_rotates_it() {
    let app = app_with(session_opts()).await;
    let (mut b, _) = signed_up(&app, "alice").await;
    let first = b.refresh().unwrap().to_owned();
    let r = b.gql(&app, REFRESH, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.errors().is_none(), "{}", r.body);
    assert!(r.data()["refresh"]["authToken"]["refreshToken"].is_null());
    let fresh = access(&r, "refresh");
    let second = b.refresh().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(me(&app, &mut b, &fresh).await, Ok("alice".into()));
    assert_eq!(r.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn tabs_share_one_fingerprint_and_keep_their_tokens() {
    let app = app_with(session_opts()).await;
    let (mut browser, tab1) = signed_up(&app, "alice").await;
    let fgp = browser.fgp().unwrap().to_owned();
    // Its lifetime is the session's, not the 15-minute token's.
    assert_eq!(
        max_age(browser.set_line("__Host-fgp").unwrap()),
        30 * 86_400
    );
    // Tab 2 signs in, then refreshes: the browser keeps its one fingerprint cookie...
    let r = browser.gql(&app, SIGNIN, json!({}), None).await;
    let tab2 = access(&r, "signinWithRefresh");
    assert_eq!(browser.fgp(), Some(fgp.as_str()));
    let r = browser.gql(&app, REFRESH, json!({}), None).await;
    let tab2_refreshed = access(&r, "refresh");
    assert_eq!(browser.fgp(), Some(fgp.as_str()));
    // ...so every tab's token is still accepted.
    for t in [&tab1, &tab2, &tab2_refreshed] {
        assert_eq!(common::claims(t)["fgp"], common::claims(&tab1)["fgp"]);
        assert_eq!(me(&app, &mut browser, t).await, Ok("alice".into()));
    }
    // A cookie that is not one of ours is replaced, not reused.
    let mut odd = Browser::default();
    odd.jar
        .insert("__Host-fgp".into(), "not-a-fingerprint".into());
    odd.gql(&app, SIGNIN, json!({}), None).await;
    assert_ne!(odd.fgp(), Some("not-a-fingerprint"));
    assert_eq!(odd.fgp().unwrap().len(), 64);
}

#[tokio::test]
async fn copied_tokens_are_refused_in_another_browser_and_a_copied_refresh_token_revokes_its_family(
) {
    let app = app_with(session_opts()).await;
    let (mut victim, token) = signed_up(&app, "alice").await;
    let mut thief = Browser::default();
    // A copied access token: 401 without the victim's fingerprint cookie.
    assert_eq!(
        me(&app, &mut thief, &token).await,
        Err((401, "JWT_FINGERPRINT".into()))
    );
    // A copied refresh token, in the thief's own cookie jar (with or without a fingerprint).
    thief
        .jar
        .insert("__Host-refresh".into(), victim.refresh().unwrap().into());
    let r = thief.gql(&app, REFRESH, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.data()["refresh"].is_null(), "{}", r.body);
    assert_eq!(r.first_error_code(), Some("SESSION_REFUSED"), "{}", r.body);
    // Refused: the thief's refresh cookie is cleared, and nothing else is set.
    assert_eq!(
        thief.set,
        ["__Host-refresh=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict"]
    );
    // Treated as theft: the whole family is revoked, the victim's own refresh fails too.
    let live = app
        .sql("select count(*) as n from app_private.refresh_tokens where revoked_at is null")
        .await;
    assert_eq!(live, [json!({"n": 0})]);
    let r = victim.gql(&app, REFRESH, json!({}), None).await;
    assert_eq!(r.first_error_code(), Some("SESSION_REFUSED"), "{}", r.body);
    // A refused refresh ends only the refresh cookie: the fingerprint stays, and the victim's
    // access token keeps working until it expires.
    assert!(victim.fgp().is_some());
    assert_eq!(me(&app, &mut victim, &token).await, Ok("alice".into()));
}

#[tokio::test]
async fn reusing_a_rotated_refresh_cookie_revokes_the_family() {
    let app = app_with(session_opts()).await;
    let (mut b, _) = signed_up(&app, "alice").await;
    let spent = b.refresh().unwrap().to_owned();
    let r = b.gql(&app, REFRESH, json!({}), None).await;
    assert!(r.errors().is_none(), "{}", r.body);
    let current = b.refresh().unwrap().to_owned();
    // The spent one again, from the same browser: reuse.
    b.jar.insert("__Host-refresh".into(), spent);
    let r = b.gql(&app, REFRESH, json!({}), None).await;
    assert_eq!(r.first_error_code(), Some("SESSION_REFUSED"), "{}", r.body);
    b.jar.insert("__Host-refresh".into(), current);
    let r = b.gql(&app, REFRESH, json!({}), None).await;
    assert_eq!(r.first_error_code(), Some("SESSION_REFUSED"), "{}", r.body);
}

#[tokio::test]
async fn signout_everywhere_is_a_401_on_the_other_devices() {
    let app = app_with(session_opts()).await;
    let (mut laptop, laptop_token) = signed_up(&app, "alice").await;
    let mut phone = Browser::default();
    let r = phone.gql(&app, SIGNIN, json!({}), None).await;
    let phone_token = access(&r, "signinWithRefresh");
    let r = laptop
        .gql(
            &app,
            "mutation { signoutEverywhere(input: {}) { clientMutationId } }",
            json!({}),
            Some(&laptop_token),
        )
        .await;
    assert!(r.errors().is_none(), "{}", r.body);
    // The phone's next request: 401 JWT_REVOKED, and nothing it asked for ran.
    let r = phone
        .gql(
            &app,
            "mutation { createPost(input: {post: {title: \"late\", body: \"x\"}}) { clientMutationId } }",
            json!({}),
            Some(&phone_token),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.first_error_code(), Some("JWT_REVOKED"));
    assert!(r.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer error=\"invalid_token\""));
    assert_eq!(
        app.sql("select count(*) as n from app_public.posts where title = 'late'")
            .await,
        [json!({"n": 0})]
    );
    // Its refresh is refused: the client signs in again.
    let r = phone.gql(&app, REFRESH, json!({}), None).await;
    assert_eq!(r.first_error_code(), Some("SESSION_REFUSED"), "{}", r.body);
}

#[tokio::test]
async fn signout_clears_every_session_cookie_whatever_the_selection() {
    let app = app_with(Options {
        jwt_cookie: Some("jwt"),
        cors_origins: vec!["https://app.example"],
        ..session_opts()
    })
    .await;
    let (mut b, _) = signed_up(&app, "alice").await;
    assert!(b.jar.contains_key("jwt") && b.fgp().is_some() && b.refresh().is_some());
    let refresh = b.refresh().unwrap().to_owned();
    let r = b
        .gql(
            &app,
            "mutation { signout(input: {}) { clientMutationId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut cleared = b.set.clone();
    cleared.sort();
    assert_eq!(
        cleared,
        [
            "__Host-fgp=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict",
            "__Host-refresh=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict",
            "jwt=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax",
        ]
    );
    // The refresh token the cookie held is revoked in the database.
    let revoked = app
        .sql(&format!(
            "select revoked_at is not null as revoked from app_private.refresh_tokens \
             where token_hash = public.digest('{refresh}', 'sha256')"
        ))
        .await;
    assert_eq!(revoked, [json!({"revoked": true})]);
}

#[tokio::test]
async fn cookies_follow_the_result_not_the_selection() {
    let app = app_with(Options {
        jwt_cookie: Some("jwt"),
        cors_origins: vec!["https://app.example"],
        ..Options::default()
    })
    .await;
    let mut b = Browser::default();
    let r = b
        .gql(
            &app,
            "mutation { signup(input: {username: \"alice\", email: \"a@example.com\", password: \"correct horse battery\"}) { clientMutationId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"data": {"signup": {"clientMutationId": null}}})
    );
    let token = b.jar.get("jwt").expect("token cookie").clone();
    assert_eq!(common::claims(&token)["role"], "app_user");
    assert_eq!(r.headers["cache-control"], "no-store");
    // Selected too: the same token in the body and in the cookie, signed once.
    let r = b
        .gql(
            &app,
            "mutation { signin(input: {email: \"a@example.com\", password: \"correct horse battery\"}) { jwtToken } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        r.data()["signin"]["jwtToken"].as_str(),
        b.jar.get("jwt").map(String::as_str)
    );
    let r = b
        .gql(
            &app,
            "mutation { signout(input: {}) { clientMutationId } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        b.set,
        ["jwt=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"]
    );
}

#[tokio::test]
async fn server_side_rendering_refreshes_with_the_forwarded_cookies() {
    let app = app_with(session_opts()).await;
    let (mut browser, _) = signed_up(&app, "alice").await;
    // The renderer receives the browser's page request with its cookies (the HttpOnly ones
    // included: they are sent to the page's origin) and forwards them to the API.
    let mut renderer = Browser {
        jar: browser.jar.clone(),
        ..Browser::default()
    };
    let r = renderer.gql(&app, REFRESH, json!({}), None).await;
    assert!(r.errors().is_none(), "{}", r.body);
    let rotated: Vec<String> = renderer.set.clone();
    let token = access(&r, "refresh");
    assert_eq!(me(&app, &mut renderer, &token).await, Ok("alice".into()));
    // It passes the rotated cookies back with the page: the browser's session goes on with
    // them (the fingerprint unchanged, the refresh token rotated).
    assert!(rotated.iter().any(|l| l.starts_with("__Host-refresh=")));
    browser.set = vec![];
    for line in &rotated {
        let (pair, _) = line.split_once(';').unwrap();
        let (name, value) = pair.split_once('=').unwrap();
        browser.jar.insert(name.into(), value.into());
    }
    assert_eq!(browser.fgp(), renderer.fgp());
    let r = browser.gql(&app, REFRESH, json!({}), None).await;
    assert!(r.errors().is_none(), "{}", r.body);
    let fresh = access(&r, "refresh");
    assert_eq!(me(&app, &mut browser, &fresh).await, Ok("alice".into()));
}

#[tokio::test]
async fn the_pre_request_function_refuses_with_401_or_403_before_anything_runs() {
    let app = app_with(Options {
        setup_sql: Some(
            "create function app_private.gate() returns void language plpgsql stable as $$ \
             begin \
               if current_setting('jwt.claims.user_id', true) = '1' then \
                 raise exception 'revoked' using errcode = 'PT401'; \
               elsif current_setting('jwt.claims.user_id', true) = '2' then \
                 raise exception 'not today' using errcode = 'PT403'; \
               end if; \
             end $$; \
             grant execute on function app_private.gate() to app_anonymous, app_user;",
        ),
        pre_request: Some("app_private.gate"),
        ..Options::default()
    })
    .await;
    let one = app.signup("one").await;
    let two = app.signup("two").await;
    let three = app.signup("three").await;
    let r = app.gql(ME, json!({}), Some(&one)).await;
    assert_eq!((r.status, r.first_error_code()), (401, Some("JWT_REVOKED")));
    assert_eq!(r.errors().unwrap()[0]["message"], "revoked");
    assert!(r.headers.contains_key("www-authenticate"));
    let r = app.gql(ME, json!({}), Some(&two)).await;
    assert_eq!((r.status, r.first_error_code()), (403, Some("FORBIDDEN")));
    assert!(!r.headers.contains_key("www-authenticate"));
    let r = app.gql(ME, json!({}), Some(&three)).await;
    assert_eq!(r.data()["me"]["username"], "three", "{}", r.body);
    // Anonymous requests pass through it too.
    let r = app.gql(ME, json!({}), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // In a read the check rides inside the first root field's statement: a refusal there
    // refuses the whole request, whatever the other fields.
    let several = "{ allPosts { totalCount } me { username } }";
    let r = app.gql(several, json!({}), Some(&one)).await;
    assert_eq!((r.status, r.first_error_code()), (401, Some("JWT_REVOKED")));
    assert!(r.body.get("data").is_none(), "{}", r.body);
    let r = app.gql(several, json!({}), Some(&three)).await;
    assert_eq!(r.data()["me"]["username"], "three", "{}", r.body);
    // And in a mutation it runs before the write: a refused one writes nothing.
    let create = "mutation { createPost(input: {post: {title: \"refused\"}}) { post { id } } }";
    let r = app.gql(create, json!({}), Some(&one)).await;
    assert_eq!((r.status, r.first_error_code()), (401, Some("JWT_REVOKED")));
    let rows = app
        .sql("select count(*) as n from app_public.posts where title = 'refused'")
        .await;
    assert_eq!(rows[0]["n"], 0);
}

#[tokio::test]
async fn a_pre_request_function_returning_a_set_or_marked_immutable_runs_on_every_request() {
    // Neither can be prepared (a set is not one row; a prepared plan would fold an IMMUTABLE
    // call into a constant): they go as a simple query of their own, every time.
    for (returns, volatility) in [("setof int", "stable"), ("void", "immutable")] {
        let setup = format!(
            "create function app_private.gate() returns {returns} language plpgsql {volatility} \
               as $$ begin \
                 if current_setting('jwt.claims.user_id', true) = '1' then \
                   raise exception 'revoked' using errcode = 'PT401'; \
                 end if; \
               end $$; \
             grant execute on function app_private.gate() to app_anonymous, app_user;"
        );
        let app = app_with(Options {
            setup_sql: Some(Box::leak(setup.into_boxed_str())),
            pre_request: Some("app_private.gate"),
            max_pool_size: 1,
            ..Options::default()
        })
        .await;
        let one = app.signup("one").await;
        let two = app.signup("two").await;
        for _ in 0..3 {
            let r = app.gql(ME, json!({}), Some(&two)).await;
            assert_eq!(r.data()["me"]["username"], "two", "{returns}: {}", r.body);
            let r = app.gql(ME, json!({}), Some(&one)).await;
            assert_eq!(r.status, 401, "{returns} {volatility}: {}", r.body);
        }
    }
}

#[tokio::test]
async fn a_missing_pre_request_function_stops_the_start() {
    for (name, why) in [
        ("app_private.nope", "no such function"),
        ("nope", "must be `schema.function`"),
    ] {
        let err = common::try_app_with(Options {
            pre_request: Some(name),
            ..Options::default()
        })
        .await
        .err()
        .expect("started")
        .to_string();
        assert!(err.contains(why), "{err}");
    }
}

#[tokio::test]
async fn a_wrong_password_in_one_tab_takes_no_session_away() {
    let app = app_with(session_opts()).await;
    let (mut b, token) = signed_up(&app, "alice").await;
    let r = b
        .gql(
            &app,
            "mutation { signinWithRefresh(input: {email: \"x@example.com\", password: \"wrong password\"}) { authToken { accessToken } } }",
            json!({}),
            None,
        )
        .await;
    assert!(r.data()["signinWithRefresh"].is_null(), "{}", r.body);
    assert_eq!(r.first_error_code(), Some("SESSION_REFUSED"), "{}", r.body);
    assert!(b.set.is_empty(), "{:?}", b.set);
    assert_eq!(me(&app, &mut b, &token).await, Ok("alice".into()));
    let r = b.gql(&app, REFRESH, json!({}), None).await;
    assert!(r.errors().is_none(), "{}", r.body);
}
