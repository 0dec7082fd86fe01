//! GraphiQL from the binary: the page and its scripts (graphiql, react, react-dom, vendored
//! from npm in `assets/graphiql/` by its `refresh.sh`) are embedded at build time, so the IDE
//! works with no network and under a content security policy that allows this origin only.

use warp::http::{header, HeaderValue};

/// Where the embedded files are served; the page itself is at `--graphiql` (`/graphiql`).
pub const ASSETS: &str = "/_postgraph/graphiql/";

/// Scripts and styles only from this origin, no inline script, no framing, requests only to
/// this origin (the GraphQL endpoint and its WebSocket). Styles may be inline: GraphiQL sets
/// some at run time.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>postgraph GraphiQL</title>
  <link rel="icon" href="data:," />
  <link rel="stylesheet" href="/_postgraph/graphiql/graphiql.min.css" />
  <link rel="stylesheet" href="/_postgraph/graphiql/page.css" />
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/_postgraph/graphiql/react.production.min.js"></script>
  <script src="/_postgraph/graphiql/react-dom.production.min.js"></script>
  <script src="/_postgraph/graphiql/graphiql.min.js"></script>
  <script src="/_postgraph/graphiql/start.js"></script>
</body>
</html>
"#;

const PAGE_CSS: &str = "body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }\n";

/// Starts GraphiQL against the GraphQL route (`ROUTE`, replaced by `--graphql`'s as a JSON
/// string; subscriptions over the same origin's WebSocket), with the header editor open to
/// paste a token into.
const START_JS: &str = r#"(function () {
  var route = ROUTE;
  var ws = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + route;
  var fetcher = GraphiQL.createFetcher({ url: route, subscriptionUrl: ws });
  var hint = '# Welcome to postgraph\'s GraphiQL.\n#\n' +
    '# To run as a signed-in user, open "Headers" below and paste\n' +
    '#   {"Authorization": "Bearer <your token>"}\n' +
    '# (a mutation returning a JWT, such as signin, gives one).\n\n{\n  __typename\n}\n';
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: hint,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultEditorToolsVisibility: 'headers'
    })
  );
})();
"#;

/// The embedded files by name, with their media types.
fn asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    let js = "text/javascript; charset=utf-8";
    let css = "text/css; charset=utf-8";
    Some(match name {
        "graphiql.min.js" => (include_bytes!("../../assets/graphiql/graphiql.min.js"), js),
        "graphiql.min.css" => (
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
            css,
        ),
        "react.production.min.js" => (
            include_bytes!("../../assets/graphiql/react.production.min.js"),
            js,
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
            js,
        ),
        "page.css" => (PAGE_CSS.as_bytes(), css),
        _ => return None,
    })
}

fn reply(body: impl Into<bytes::Bytes>, content_type: &'static str) -> super::Reply {
    let mut r = super::Reply::new(body.into().into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// The GraphiQL page.
pub fn page() -> super::Reply {
    reply(PAGE, "text/html; charset=utf-8")
}

/// One of the page's files (`path` under [`ASSETS`]), or None; `start.js` points GraphiQL
/// at `graphql_route`.
pub fn file(path: &str, graphql_route: &str) -> Option<super::Reply> {
    let name = path.strip_prefix(ASSETS)?;
    let mut r = if name == "start.js" {
        let route = serde_json::Value::from(graphql_route).to_string();
        reply(
            START_JS.replace("ROUTE", &route),
            "text/javascript; charset=utf-8",
        )
    } else {
        let (body, content_type) = asset(name)?;
        reply(body, content_type)
    };
    // The files change only with the binary.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Some(r)
}
