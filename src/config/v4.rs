//! PostGraphile v4's command line: the v4 options postgraph takes with v4's meaning (those with
//! a postgraph name of their own are aliases on that option), and for the ones that cannot apply
//! a message saying what postgraph does instead, given before any other parsing.

use clap::Args;
use std::path::PathBuf;

/// v4 options without a postgraph option of another name.
#[derive(Debug, Clone, Default, Args)]
pub struct V4Options {
    /// v4's subscriptions switch: postgraph always serves GraphQL over WebSocket on /graphql
    /// (`--simple-subscriptions` adds v4's `listen` subscription)
    #[arg(short = 'S', long = "subscriptions")]
    pub subscriptions: bool,
    /// v4's WebSocket transports (v0 = subscriptions-transport-ws, v1 = graphql-ws): postgraph
    /// speaks both
    #[arg(long = "websockets", value_delimiter = ',', value_parser = ["v0", "v1", "[]"])]
    pub websockets: Vec<String>,
    /// v4's WebSocket operations: postgraph runs queries and mutations over a socket as well
    /// as subscriptions (v4's `all`)
    #[arg(long = "websocket-operations", value_parser = ["subscriptions", "all"])]
    pub websocket_operations: Option<String>,
    /// On a failed first connection or schema build, retry with backoff instead of exiting
    #[arg(long = "retry-on-init-fail", env = "POSTGRAPH_RETRY_ON_INIT_FAIL")]
    pub retry_on_init_fail: bool,
    /// v4's development stack traces: postgraph has no JavaScript stacks
    /// (`--extended-errors hint,detail,errcode` shows Postgres' detail)
    #[arg(long = "show-error-stack", num_args = 0..=1, default_missing_value = "string", value_parser = ["json", "string"])]
    pub show_error_stack: Option<String>,
    /// Write the schema (SDL) to this file at startup
    #[arg(long = "export-schema-graphql", value_name = "PATH")]
    pub export_schema_graphql: Option<PathBuf>,
    /// Write the schema's introspection result (JSON, as v4 does) to this file at startup
    #[arg(long = "export-schema-json", value_name = "PATH")]
    pub export_schema_json: Option<PathBuf>,
    /// v4's sorted export: postgraph's exported schema is always in a stable order
    #[arg(long = "sort-export")]
    pub sort_export: bool,
    /// Export the schema (--export-schema-*) and exit without serving
    #[arg(short = 'X', long = "no-server")]
    pub no_server: bool,
    /// The route of the GraphQL endpoint, over HTTP and WebSocket (v4's -q); GraphiQL uses it
    #[arg(short = 'q', long = "graphql", value_name = "PATH", default_value = "/graphql", value_parser = route)]
    pub graphql_route: String,
    /// The route of GraphiQL (v4's -i)
    #[arg(short = 'i', long = "graphiql", value_name = "PATH", default_value = "/graphiql", value_parser = route)]
    pub graphiql_route: String,
    /// v4's GraphiQL extras: postgraph's GraphiQL always has the header editor (paste
    /// `{"Authorization": "Bearer <token>"}`)
    #[arg(long = "enhance-graphiql")]
    pub enhance_graphiql: bool,
    /// v4's Explain button in GraphiQL: not in postgraph (log statements with
    /// RUST_LOG=postgraph=debug)
    #[arg(long = "allow-explain")]
    pub allow_explain: bool,
    /// Socket timeout in ms (v4's --timeout): sets --header-timeout and --body-timeout
    #[arg(long = "timeout", value_name = "MS")]
    pub timeout: Option<u64>,
    /// No log line per request
    #[arg(long = "disable-query-log", env = "POSTGRAPH_DISABLE_QUERY_LOG")]
    pub disable_query_log: bool,
    /// v4's path to the role claim, comma-separated keys (`https://example.com/claims,role`);
    /// the same as --jwt-role-claim-key `."https://example.com/claims".role`
    #[arg(
        long = "jwt-role",
        value_name = "KEYS",
        conflicts_with = "jwt_role_claim_key"
    )]
    pub jwt_role: Option<String>,
    #[command(flatten)]
    pub jwt_verify: JwtVerifyOptions,
    /// Accept a JSON array of requests in one POST and answer an array of results (v4's
    /// batching); each operation is checked against the limits, and at most --max-batch-size
    #[arg(
        long = "enable-query-batching",
        env = "POSTGRAPH_ENABLE_QUERY_BATCHING"
    )]
    pub enable_query_batching: bool,
    /// Most operations in one batched request (with --enable-query-batching)
    #[arg(long = "max-batch-size", env = "POSTGRAPH_MAX_BATCH_SIZE", default_value_t = DEFAULT_MAX_BATCH_SIZE, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_batch_size: usize,
}

/// `--max-batch-size`.
pub const DEFAULT_MAX_BATCH_SIZE: usize = 20;

/// v4's `--jwt-verify-*` options: narrowing ones, and relaxing ones that must be asked for.
#[derive(Debug, Clone, Default, Args)]
pub struct JwtVerifyOptions {
    /// Comma-separated algorithms accepted (of those the key's kind accepts; never `none`)
    #[arg(long = "jwt-verify-algorithms", value_delimiter = ',', value_parser = super::parse_algorithm)]
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    /// The `jti` claim an incoming token must carry
    #[arg(long = "jwt-verify-id", value_name = "JTI")]
    pub id: Option<String>,
    /// The `sub` claim an incoming token must carry
    #[arg(long = "jwt-verify-subject", value_name = "SUB")]
    pub subject: Option<String>,
    /// Accept expired tokens and tokens without exp (not recommended; warned at start)
    #[arg(long = "jwt-verify-ignore-expiration")]
    pub ignore_expiration: bool,
    /// Accept tokens before their nbf (warned at start)
    #[arg(long = "jwt-verify-ignore-not-before")]
    pub ignore_not_before: bool,
}

impl JwtVerifyOptions {
    /// As the auth layer takes them; `ignore_audience` comes from `-A ''`.
    pub fn verify(&self, ignore_audience: bool) -> crate::auth::VerifyOptions {
        crate::auth::VerifyOptions {
            algorithms: (!self.algorithms.is_empty()).then(|| self.algorithms.clone()),
            jwt_id: self.id.clone(),
            subject: self.subject.clone(),
            ignore_expiration: self.ignore_expiration,
            ignore_not_before: self.ignore_not_before,
            ignore_audience,
        }
    }
}

impl V4Options {
    /// What postgraph says about v4 options it takes but that change nothing here.
    pub fn notes(&self) -> Vec<&'static str> {
        let mut notes = vec![];
        if self.show_error_stack.is_some() {
            notes.push("--show-error-stack: postgraph has no JavaScript stacks; --extended-errors hint,detail,errcode shows Postgres' detail");
        }
        if self.allow_explain {
            notes.push("--allow-explain: postgraph's GraphiQL has no Explain button; RUST_LOG=postgraph=debug logs each statement");
        }
        if self.websockets.iter().any(|w| w == "[]") || self.websockets.len() == 1 {
            notes.push("--websockets: postgraph speaks both WebSocket protocols (v0 and v1) on the GraphQL route, chosen by the client");
        }
        if self.websocket_operations.as_deref() == Some("subscriptions") {
            notes.push("--websocket-operations subscriptions: postgraph also runs queries and mutations sent over a WebSocket (v4's `all`)");
        }
        notes
    }
}

/// `200kB`, `5MB`, `1.5mb`, `102400` → bytes, as v4's `--body-size-limit` reads them (units of
/// 1024, case-insensitive).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim() {
        "" | "b" => 1,
        "kb" => 1 << 10,
        "mb" => 1 << 20,
        "gb" => 1 << 30,
        _ => {
            return Err(format!(
                "`{s}`: a size is bytes or a number with kB, MB or GB"
            ))
        }
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 102400, 200kB, 5MB)"))?;
    let bytes = (n * scale as f64).floor();
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(format!("`{s}`: the size must be at least one byte"));
    }
    Ok(bytes as u64)
}

/// v4's `--jwt-role a,b` as postgraph's role claim path `.a.b` (keys quoted when needed).
pub fn role_claim_path(keys: &str) -> String {
    keys.split(',')
        .map(|k| {
            let plain = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if plain {
                format!(".{k}")
            } else {
                format!(".\"{}\"", k.replace('"', "\\\""))
            }
        })
        .collect()
}

/// A route: a path starting with `/`.
fn route(s: &str) -> Result<String, String> {
    if s.starts_with('/') && !s.contains(char::is_whitespace) {
        Ok(s.trim_end_matches('/').to_string()).map(|r| if r.is_empty() { "/".into() } else { r })
    } else {
        Err(format!("`{s}` is not a route like /graphiql"))
    }
}

/// The v4 options that cannot apply, each with what postgraph does instead.
const REFUSED: &[(&[&str], &str)] = &[
    (
        &[
            "--plugins",
            "--append-plugins",
            "--prepend-plugins",
            "--skip-plugins",
        ],
        "postgraph has no plugins. What v4 users add by plugin is built in: connection filters \
         (postgraphile-plugin-connection-filter), aggregates (@graphile/pg-aggregates), simple \
         subscriptions (@graphile/pg-pubsub: --simple-subscriptions); names follow v4's default \
         inflection and smart comments (@name, @omit, ...) rename or hide things",
    ),
    (
        &["--read-cache", "--write-cache"],
        "postgraph needs no introspection cache: it reads the catalog with one query at startup \
         (well under a second even for a thousand tables)",
    ),
    (
        &["--cluster-workers"],
        "postgraph is multi-threaded: one process uses every core. Run more instances behind a \
         load balancer to scale out; they share nothing but the database",
    ),
    (
        &["-L", "--live"],
        "postgraph has no live queries; --simple-subscriptions gives v4's \
         `listen(topic:)` subscription fed by NOTIFY",
    ),
];

/// The message for the first v4 option in `args` that cannot apply, if any.
pub fn refusal<I: IntoIterator<Item = String>>(args: I) -> Option<String> {
    args.into_iter().skip(1).find_map(|arg| {
        let name = arg.split('=').next().unwrap_or("");
        REFUSED
            .iter()
            .find(|(names, _)| names.contains(&name))
            .map(|(_, why)| {
                format!("{name} is a PostGraphile v4 option that postgraph does not take: {why}.")
            })
    })
}

/// The message for an option clap does not know (instead of its bare "unexpected argument"
/// and a suggestion by spelling alone).
pub fn unknown_option(arg: &str) -> String {
    format!(
        "unknown option `{arg}`: neither a postgraph option nor one of PostGraphile v4's. \
         `postgraph serve --help` lists the options; docs/cli.md maps v4's."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_v4() {
        assert_eq!(parse_size("102400"), Ok(102_400));
        assert_eq!(parse_size("200kB"), Ok(200 * 1024));
        assert_eq!(parse_size("200kb"), Ok(200 * 1024));
        assert_eq!(parse_size("5MB"), Ok(5 * 1024 * 1024));
        assert_eq!(parse_size("1.5mb"), Ok(1_572_864));
        assert_eq!(parse_size("10 kB"), Ok(10 * 1024));
        assert_eq!(parse_size("1GB"), Ok(1 << 30));
        for bad in ["", "kB", "0", "-1kB", "5XB", "1..5mb", "0.1b"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn role_paths() {
        assert_eq!(role_claim_path("role"), ".role");
        assert_eq!(role_claim_path("app,role"), ".app.role");
        assert_eq!(
            role_claim_path("https://example.com/claims,role"),
            ".\"https://example.com/claims\".role"
        );
    }

    #[test]
    fn refused_options_say_what_postgraph_does_instead() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let m = refusal(args(&["postgraph", "serve", "--append-plugins", "x"])).unwrap();
        assert!(
            m.contains("--append-plugins") && m.contains("filters"),
            "{m}"
        );
        let m = refusal(args(&["postgraph", "serve", "--read-cache=/tmp/c"])).unwrap();
        assert!(
            m.starts_with("--read-cache") && m.contains("one query"),
            "{m}"
        );
        let m = refusal(args(&["postgraph", "serve", "--cluster-workers", "4"])).unwrap();
        assert!(m.contains("multi-threaded"), "{m}");
        assert!(refusal(args(&["postgraph", "serve", "-c", "db", "-j"])).is_none());
    }

    fn serve(args: &[&str]) -> crate::config::ServeOptions {
        use clap::Parser;
        let argv = ["postgraph", "serve"].iter().chain(args).copied();
        match crate::config::Cli::try_parse_from(argv) {
            Ok(crate::config::Cli {
                command: crate::config::Command::Serve(o),
                ..
            }) => o,
            Ok(_) => panic!("not serve"),
            Err(e) => panic!("{args:?}: {e}"),
        }
    }

    #[test]
    fn v4_short_options_mean_what_they_mean_in_v4() {
        let o = serve(&[
            "-c",
            "mydb",
            "-s",
            "app_public,app_private",
            "-S",
            "-n",
            "0.0.0.0",
            "-p",
            "8080",
            "-m",
            "7",
            "-r",
            "app_anonymous",
            "-j",
            "-N",
            "-a",
            "-M",
            "-q",
            "/graphql",
            "-i",
            "/ide",
            "-b",
            "-o",
            "-l",
            "200kB",
            "-e",
            "0123456789abcdef0123456789abcdef",
            "-A",
            "postgraphile",
            "-t",
            "app_public.jwt_token",
            "-X",
        ]);
        assert_eq!(o.db.connection.as_deref(), Some("mydb"));
        assert_eq!(o.db.schemas, ["app_public", "app_private"]);
        assert!(o.v4.subscriptions && !o.db.simple_subscriptions);
        assert_eq!((o.host.as_str(), o.port), ("0.0.0.0", 8080));
        assert_eq!(o.max_pool_size, Some(7));
        assert_eq!(o.default_role.as_deref(), Some("app_anonymous"));
        let f = &o.db.schema_flags;
        assert!(f.dynamic_json && f.no_setof_functions_contain_nulls && f.classic_ids);
        assert!(o.db.disable_default_mutations);
        assert_eq!(o.v4.graphiql_route, "/ide");
        assert!(!o.graphiql && o.cors && o.v4.no_server);
        assert_eq!(o.body_size_limit, 200 * 1024);
        assert_eq!(
            o.jwt_secret.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(o.jwt_audience.as_deref(), Some("postgraphile"));
        assert_eq!(
            o.db.jwt_token_identifier.as_deref(),
            Some("app_public.jwt_token")
        );
    }

    #[test]
    fn v4_documented_command_lines_parse() {
        // The development and production options v4's documentation recommends (less the
        // plugin and watch options).
        let dev = serve(&[
            "--subscriptions",
            "--dynamic-json",
            "--no-setof-functions-contain-nulls",
            "--no-ignore-rbac",
            "--show-error-stack=json",
            "--extended-errors",
            "hint,detail,errcode",
            "--export-schema-graphql",
            "schema.graphql",
            "--graphiql",
            "/",
            "--enhance-graphiql",
            "--allow-explain",
            "--legacy-relations",
            "omit",
            "--connection",
            "postgres://user:pass@localhost/mydb",
            "--schema",
            "app_public",
        ]);
        assert_eq!(dev.v4.graphiql_route, "/");
        assert_eq!(dev.v4.show_error_stack.as_deref(), Some("json"));
        assert_eq!(dev.extended_errors, ["hint", "detail", "errcode"]);
        assert_eq!(
            dev.db.schema_flags.legacy_relations,
            crate::schema::LegacyRelations::Omit
        );
        assert_eq!(dev.v4.notes().len(), 2);
        let prod = serve(&[
            "--retry-on-init-fail",
            "--dynamic-json",
            "--no-setof-functions-contain-nulls",
            "--no-ignore-rbac",
            "--extended-errors",
            "errcode",
            "--disable-graphiql",
            "--disable-query-log",
            "--legacy-relations",
            "omit",
            "--connection",
            "mydb",
            "--schema",
            "app_public",
            "--jwt-verify-audience",
            "postgraphile",
            "--jwt-verify-clock-tolerance",
            "5",
            "--jwt-role",
            "https://example.com/claims,role",
            "--body-size-limit",
            "5MB",
            "--timeout",
            "20000",
            "--token",
            "app_public.jwt_token",
            "--secret",
            "0123456789abcdef0123456789abcdef",
            "--websockets",
            "v0,v1",
        ]);
        assert!(prod.v4.retry_on_init_fail && prod.v4.disable_query_log && !prod.graphiql);
        assert_eq!(prod.jwt_audience.as_deref(), Some("postgraphile"));
        assert_eq!(prod.jwt_leeway, 5);
        assert_eq!(
            prod.v4.jwt_role.as_deref(),
            Some("https://example.com/claims,role")
        );
        assert_eq!(prod.body_size_limit, 5 << 20);
        assert_eq!(prod.v4.timeout, Some(20_000));
        assert!(prod.v4.notes().is_empty());
        // `-S` is v4's --subscriptions; simple subscriptions keep their long name.
        let s = serve(&["--simple-subscriptions"]);
        assert!(s.db.simple_subscriptions && !s.v4.subscriptions);
        // A size needs a unit postgraph knows.
        use clap::Parser;
        let argv = ["postgraph", "serve", "-l", "5XB"];
        assert!(crate::config::Cli::try_parse_from(argv).is_err());
    }

    #[test]
    fn v4_verify_and_route_options_take_v4_values() {
        use jsonwebtoken::Algorithm;
        let o = serve(&[
            "-A",
            "postgraphile,mobile",
            "--jwt-verify-algorithms",
            "HS256,HS512",
            "--jwt-verify-id",
            "j1",
            "--jwt-verify-subject",
            "s1",
            "--jwt-verify-ignore-expiration",
            "--jwt-verify-ignore-not-before",
            "-q",
            "/api/",
            "--enable-query-batching",
        ]);
        let (aud, more, ignore) = crate::config::audiences(o.jwt_audience.as_deref());
        assert_eq!(aud.as_deref(), Some("postgraphile"));
        assert_eq!((more, ignore), (vec!["mobile".to_string()], false));
        let v = o.v4.jwt_verify.verify(ignore);
        assert_eq!(v.algorithms, Some(vec![Algorithm::HS256, Algorithm::HS512]));
        assert_eq!(
            (v.jwt_id.as_deref(), v.subject.as_deref()),
            (Some("j1"), Some("s1"))
        );
        assert!(v.ignore_expiration && v.ignore_not_before && !v.ignore_audience);
        assert_eq!(v.relaxations().len(), 2);
        assert_eq!(o.v4.graphql_route, "/api");
        assert!(o.v4.enable_query_batching);
        assert_eq!(o.v4.max_batch_size, DEFAULT_MAX_BATCH_SIZE);
        let o = serve(&[
            "--jwt-verify-issuer",
            "postgraphile, https://auth.example.com",
        ]);
        assert_eq!(
            crate::config::issuers(o.jwt_issuer.as_deref()),
            (
                Some("postgraphile".into()),
                vec!["https://auth.example.com".to_string()]
            )
        );
        // The schema options v4 has (they shape the SDL, so `export-schema` takes them too).
        let o = serve(&[
            "--no-ignore-indexes",
            "--include-extension-resources",
            "--legacy-functions-only",
            "--legacy-json-uuid",
        ]);
        let f = &o.db.schema_flags;
        assert!(f.no_ignore_indexes && f.include_extension_resources);
        assert!(f.legacy_functions_only && f.legacy_json_uuid);
        // v4's `-A ''` turns the audience check off.
        let o = serve(&["--jwt-verify-audience", ""]);
        assert_eq!(
            crate::config::audiences(o.jwt_audience.as_deref()),
            (None, vec![], true)
        );
        // `none` is never an algorithm, nor a route without a slash.
        for bad in [
            &["--jwt-verify-algorithms", "HS256,none"][..],
            &["--graphql", "api"],
            &["--max-batch-size", "0"],
        ] {
            use clap::Parser;
            let argv = ["postgraph", "serve"].iter().chain(bad).copied();
            assert!(crate::config::Cli::try_parse_from(argv).is_err(), "{bad:?}");
        }
    }
}
