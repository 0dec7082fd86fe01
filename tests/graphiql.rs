//! GraphiQL is served from the binary: the page, its scripts and styles come from postgraph
//! itself (nothing from a CDN, so it works offline), under a content security policy that
//! allows this origin only; the header editor is where a Bearer token goes.

mod common;

use common::{app, app_with, Options};

async fn get(app: &common::TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = app
        .http
        .get(format!("http://{}{path}", app.running.addr))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

#[tokio::test]
async fn graphiql_and_its_files_come_from_the_binary_under_a_strict_csp() {
    let app = app().await;
    let (status, headers, page) = get(&app, "/graphiql").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = headers["content-security-policy"].to_str().unwrap();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(rule), "{csp}");
    }
    assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'self' 'unsafe-inline'"));
    // Nothing from elsewhere, and no inline script (the policy would block it).
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    let files: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/_postgraph/graphiql/"))
        .collect();
    assert_eq!(files.len(), 6, "{files:?}");
    for file in files {
        let (status, headers, body) = get(&app, file).await;
        assert_eq!(status, 200, "{file}");
        let ct = headers["content-type"].to_str().unwrap();
        let want = if file.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(ct.starts_with(want), "{file}: {ct}");
        assert!(!body.is_empty(), "{file}");
    }
    let (_, _, graphiql) = get(&app, "/_postgraph/graphiql/graphiql.min.js").await;
    let vendored = include_str!("../assets/graphiql/graphiql.min.js");
    assert_eq!(graphiql.len(), vendored.len());
    // The start script opens the header editor and says how to paste a token.
    let (_, _, start) = get(&app, "/_postgraph/graphiql/start.js").await;
    assert!(start.contains("isHeadersEditorEnabled: true"), "{start}");
    assert!(
        start.contains("\"Authorization\": \"Bearer <your token>\""),
        "{start}"
    );
    let (status, _, _) = get(&app, "/_postgraph/graphiql/nope.js").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn production_serves_neither_graphiql_nor_its_files() {
    let app = app_with(Options {
        production: true,
        ..Options::default()
    })
    .await;
    assert_eq!(get(&app, "/graphiql").await.0, 404);
    assert_eq!(
        get(&app, "/_postgraph/graphiql/graphiql.min.js").await.0,
        404
    );
}
