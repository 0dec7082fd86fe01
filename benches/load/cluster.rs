//! The databases: the example app seeded at scale, and the generated 1,000-table database
//! whose introspection + schema build gives the startup figure.

use std::path::Path;
use std::time::{Duration, Instant};

use postgraph::config::example;
use postgraph::db::embedded::EmbeddedPostgres;

use crate::{step, Config, Result};

pub const USERS: u32 = 10_000;
pub const POSTS: u32 = 100_000;
/// Every seeded account's password.
pub const PASSWORD: &str = "bench-password";
/// The account whose posts `createPost` appends; no read operation ever reaches its rows.
pub const WRITER_EMAIL: &str = "writer@example.com";
/// The account `signin` signs in as under load.
pub const SIGNIN_USER: u32 = 2;

pub fn user_email(n: u32) -> String {
    format!("user{n}@example.com")
}

/// Set-based seed, run as the superuser (so RLS does not apply). One bcrypt hash is computed
/// and shared by every account: hashing 10,000 passwords would take minutes, and signin works
/// the same with a shared hash. Users `user1`..`userN` get ids 1..N in a fresh database; post g
/// is written by user ((g - 1) mod N) + 1, so each user has N_posts/N posts spread over the
/// table. Drafts are the 10th, 20th, ... round of posts (10 % of them, none among the first N
/// ids), so every user has published posts and anonymous reads of the lowest ids see no gap.
/// `writer` comes last and has no posts.
const SEED: &str = r#"
do $$
declare
  hash text := public.crypt('{password}', public.gen_salt('bf'));
begin
  insert into app_public.users (username, name, created_at)
  select 'user' || g, 'User ' || g, now() - make_interval(mins => {users} - g)
    from generate_series(1, {users}) as g;
  insert into app_public.users (username, name) values ('writer', 'Benchmark writer');
  insert into app_private.user_accounts (user_id, email, password_hash)
  select id, username || '@example.com', hash from app_public.users;
  insert into app_public.posts (author_id, title, body, published, created_at)
  select (select id from app_public.users where username = 'user' || ((g - 1) % {users} + 1)),
         'Post number ' || g,
         'Body of post ' || g || '. ' || repeat('Lorem ipsum dolor sit amet, consectetur. ', 1 + g % 4),
         ((g - 1) / {users}) % 10 <> 9,
         now() - make_interval(secs => {posts} - g)
    from generate_series(1, {posts}) as g
   order by g;
end
$$;
"#;

/// The seeded example app and how to reach it.
pub struct App {
    /// Connection string for postgraph and pgbench (the login role that switches roles).
    pub authenticator: String,
    /// Superuser connection string (seeding, checks).
    pub admin: String,
    pub server_version: String,
}

/// `pg_stats`: also installs pg_stat_statements (the server must preload it).
pub async fn create_app(pg: &EmbeddedPostgres, pg_stats: bool) -> Result<App> {
    let started = Instant::now();
    pg.create_database(example::DATABASE, None).await?;
    let admin = pg.connection_string(pg.superuser(), example::DATABASE);
    let mut client = postgraph::db::connect(&admin).await?;
    postgraph::db::migrate_example(&mut client).await?;
    step(format_args!(
        "seeding {USERS} users and {POSTS} posts (one bcrypt hash shared by all accounts)"
    ));
    let seed = SEED
        .replace("{password}", PASSWORD)
        .replace("{users}", &USERS.to_string())
        .replace("{posts}", &POSTS.to_string());
    client.batch_execute(&seed).await?;
    // VACUUM refuses to run inside the implicit transaction of a multi-statement batch.
    client.batch_execute("vacuum analyze").await?;
    if pg_stats {
        client
            .batch_execute("create extension if not exists pg_stat_statements")
            .await?;
    }
    let server_version: String = client
        .query_one("select current_setting('server_version')", &[])
        .await?
        .get(0);
    step(format_args!(
        "database ready in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(App {
        authenticator: pg.connection_string(example::AUTHENTICATOR, example::DATABASE),
        admin,
        server_version,
    })
}

/// How many posts the writer has: createPost's rows, counted by the database.
pub async fn writer_posts(admin: &tokio_postgres::Client) -> Result<i64> {
    Ok(admin
        .query_one(
            "select count(*) from app_public.posts p join app_private.user_accounts a \
             on a.user_id = p.author_id where a.email = $1",
            &[&WRITER_EMAIL],
        )
        .await?
        .get(0))
}

/// One statement's figures from pg_stat_statements over a measurement.
#[derive(Debug, Clone)]
pub struct StatementStats {
    pub query: String,
    pub calls: i64,
    /// Total execution time, milliseconds.
    pub exec_ms: f64,
    /// How often it was planned (less than `calls` when a cached plan was reused).
    pub plans: i64,
    /// Total planning time, milliseconds.
    pub plan_ms: f64,
}

pub async fn reset_statements(admin: &tokio_postgres::Client) -> Result<()> {
    admin
        .batch_execute("select pg_stat_statements_reset()")
        .await?;
    Ok(())
}

/// The app database's statements since the last reset, most called first (the benchmark's own
/// bookkeeping left out).
pub async fn statements(admin: &tokio_postgres::Client) -> Result<Vec<StatementStats>> {
    let rows = admin
        .query(
            "select query, calls, total_exec_time, plans, total_plan_time from pg_stat_statements \
             where dbid = (select oid from pg_database where datname = current_database()) \
               and query not like '%pg_stat_statements%' \
             order by calls desc, total_exec_time desc limit 12",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| StatementStats {
            query: r.get(0),
            calls: r.get(1),
            exec_ms: r.get(2),
            plans: r.get(3),
            plan_ms: r.get(4),
        })
        .collect())
}

/// Introspection + schema build on a database of `tables` tables, each with a primary key, a
/// few columns and a foreign key to the previous one.
pub struct Startup {
    pub tables: u32,
    /// `postgraph::server::build_api`, in process, one per run (connection excluded).
    pub build_api: Vec<Duration>,
    /// The introspection query alone (`postgraph::catalog::load`), best of the runs: the rest
    /// of `build_api` is building the schema.
    pub introspection: Duration,
    /// The binary: `postgraph serve` spawned until /health answers (connect, introspect,
    /// build, listen), one per run.
    pub serve: Vec<Duration>,
    /// RSS of that server once up.
    pub serve_rss_kb: u64,
    /// GraphiQL's introspection query sent twice to the first server: time and bytes of each.
    pub introspection_answers: Vec<(Duration, usize)>,
    /// That server's peak RSS (VmHWM) after them.
    pub introspection_peak_kb: u64,
}

const WIDE_DATABASE: &str = "bench_wide";
const WIDE_SCHEMA: &str = "gen";
const GENERATOR: &str = include_str!("../../bench/generate_schema.sql");
/// GraphiQL's introspection query (the fields it asks for, fragments inlined less deep).
const INTROSPECTION_QUERY: &str = "query IntrospectionQuery { __schema { queryType { name } \
    mutationType { name } subscriptionType { name } types { kind name description \
    fields(includeDeprecated: true) { name description args { name description type { kind name \
    ofType { kind name ofType { kind name ofType { kind name } } } } defaultValue } \
    type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } \
    isDeprecated deprecationReason } inputFields { name description type { kind name ofType { \
    kind name ofType { kind name } } } defaultValue } interfaces { name } enumValues(includeDeprecated: true) \
    { name description isDeprecated deprecationReason } possibleTypes { name } } \
    directives { name description locations args { name } } } }";

pub async fn startup_figure(
    pg: &EmbeddedPostgres,
    config: &Config,
    work: &Path,
) -> Result<Startup> {
    pg.create_database(WIDE_DATABASE, None).await?;
    let conn = pg.connection_string(pg.superuser(), WIDE_DATABASE);
    let client = postgraph::db::connect(&conn).await?;
    // bench/generate_schema.sql: issue 23's shape (5-12 columns, 1-2 foreign keys to one of
    // the 50 tables before, unique constraints, comments, an enum, N/10 views and functions).
    client.batch_execute(GENERATOR).await?;
    client
        .batch_execute(&format!("call gen.generate({}, 50)", config.startup_tables))
        .await?;
    client.batch_execute("analyze").await?;

    let schemas = [WIDE_SCHEMA.to_string()];
    let mut build_api = Vec::new();
    for _ in 0..config.startup_runs {
        let client = postgraph::db::connect(&conn).await?;
        let started = Instant::now();
        let api = postgraph::server::build_api(&client, &schemas, &None).await?;
        build_api.push(started.elapsed());
        drop(api);
    }
    let mut introspection = Duration::MAX;
    for _ in 0..config.startup_runs {
        let client = postgraph::db::connect(&conn).await?;
        let started = Instant::now();
        let catalog = postgraph::catalog::load(&client, &schemas).await?;
        introspection = introspection.min(started.elapsed());
        drop(catalog);
    }

    let mut serve = Vec::new();
    let mut serve_rss_kb = 0;
    let mut introspection_answers = vec![];
    let mut introspection_peak_kb = 0;
    let args = ["--schema".to_string(), WIDE_SCHEMA.to_string()];
    for run in 0..config.startup_runs {
        let server = crate::server::Server::start(
            &config.binary,
            &conn,
            &args,
            &work.join(format!("postgraph-wide-{run}.log")),
            &config.rust_log,
        )
        .await?;
        serve.push(server.ready_after);
        serve_rss_kb = crate::proc::status_kb(server.pid, "VmRSS").unwrap_or(0);
        if run == 0 {
            // Twice: the second answer comes from the schema's introspection cache.
            for _ in 0..2 {
                let started = Instant::now();
                let body = reqwest::Client::new()
                    .post(&server.url)
                    .json(&serde_json::json!({ "query": INTROSPECTION_QUERY }))
                    .send()
                    .await?
                    .bytes()
                    .await?;
                introspection_answers.push((started.elapsed(), body.len()));
            }
            introspection_peak_kb = crate::proc::status_kb(server.pid, "VmHWM").unwrap_or(0);
        }
    }
    pg.drop_database(WIDE_DATABASE).await?;
    Ok(Startup {
        tables: config.startup_tables,
        build_api,
        introspection,
        serve,
        serve_rss_kb,
        introspection_answers,
        introspection_peak_kb,
    })
}
