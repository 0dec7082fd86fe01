//! Switching from PostGraphile v4 is one command: `postgraph serve` takes v4's command line and
//! its ways of naming a database (a bare name, a URL, libpq's PG* variables), refuses what it
//! cannot do with a reason, stops on a failed first connection as v4 does, and starts quietly.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_postgraph");

/// `postgraph <args>` with none of the caller's database settings, and `env` added.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    for k in [
        "DATABASE_URL",
        "PGHOST",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGPASSWORD",
        "JWT_SECRET",
        "POSTGRAPH_SCHEMA",
    ] {
        cmd.env_remove(k);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The pieces of a test database's connection string, as libpq's variables.
fn pg_env(url: &str) -> Vec<(&'static str, String)> {
    let c: tokio_postgres::Config = url.parse().unwrap();
    let host = match &c.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    vec![
        ("PGHOST", host),
        ("PGPORT", c.get_ports()[0].to_string()),
        ("PGUSER", c.get_user().unwrap().to_string()),
        ("PGDATABASE", c.get_dbname().unwrap().to_string()),
    ]
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("postgraph-v4cli-{}-{name}", std::process::id()))
}

#[test]
fn version_names_the_commit() {
    let o = run(&["--version"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("postgraph 0.") && out.contains("(commit "),
        "{out}"
    );
    let o = run(&["serve", "--version"], &[]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(commit "));
}

#[test]
fn options_that_cannot_apply_are_refused_with_what_postgraph_does_instead() {
    for (args, says) in [
        (
            &[
                "serve",
                "--append-plugins",
                "@graphile-contrib/pg-simplify-inflector",
            ][..],
            "filters",
        ),
        (&["serve", "--skip-plugins", "x"][..], "no plugins"),
        (&["serve", "--write-cache", "/tmp/c"][..], "one query"),
        (&["serve", "--cluster-workers", "4"][..], "multi-threaded"),
        (&["serve", "--live"][..], "--simple-subscriptions"),
    ] {
        let o = run(args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = stderr(&o);
        assert!(
            err.contains(args[1]) && err.contains(says),
            "{args:?}: {err}"
        );
    }
    // A mistyped option is named, not matched to a random one by spelling.
    let o = run(&["serve", "--export-schema-graphq", "x"], &[]);
    let err = stderr(&o);
    assert!(
        err.contains("unknown option `--export-schema-graphq`"),
        "{err}"
    );
    assert!(
        !err.contains("unexpected argument") && !err.contains("--port"),
        "{err}"
    );
}

#[test]
fn serve_without_a_database_refuses_and_points_at_demo() {
    let o = run(&["serve", "--port", "0"], &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("no database to serve") && err.contains("postgraph demo"),
        "{err}"
    );
    assert!(!err.contains("starting a private PostgreSQL"), "{err}");
}

#[test]
fn a_failed_first_connection_exits_naming_where_it_tried_but_not_the_password() {
    let started = Instant::now();
    let o = run(
        &[
            "serve",
            "-c",
            "postgres://ann:hunter2@127.0.0.1:1/shop",
            "--port",
            "0",
        ],
        &[],
    );
    assert!(!o.status.success());
    let err = stderr(&o);
    for part in ["host 127.0.0.1", "port 1", "database shop", "user ann"] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!err.contains("hunter2"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn retry_on_init_fail_keeps_trying() {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "-c",
            "postgres://ann@127.0.0.1:1/shop",
            "--port",
            "0",
        ])
        .arg("--retry-on-init-fail")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap());
    let retries = lines
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.contains("retrying"))
        .take(2)
        .count();
    assert_eq!(retries, 2);
    assert!(child.try_wait().unwrap().is_none(), "it gave up");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_short_jwt_secret_is_refused_before_any_connection() {
    let o = run(
        &[
            "serve",
            "-c",
            "postgres://ann@127.0.0.1:1/shop",
            "-e",
            "short",
        ],
        &[],
    );
    let err = stderr(&o);
    assert!(err.contains("at least 32 bytes"), "{err}");
    assert!(!err.contains("connect"), "{err}");
}

/// A database with a normal `public` schema, including an uncountable table name.
async fn shop() -> String {
    let url = common::empty_database().await;
    let admin = postgraph::db::connect(&url).await.unwrap();
    admin
        .batch_execute(
            "create table staff (id serial primary key, name text not null);
             create table orders (id serial primary key, staff_id int references staff, total numeric);
             create index on orders (staff_id); create schema nothing_here;
             create table profile (staff_id int primary key references staff, bio text);",
        )
        .await
        .unwrap();
    url
}

#[tokio::test]
async fn a_bare_name_and_libpq_variables_name_the_database_and_public_is_the_default() {
    let url = shop().await;
    let env = pg_env(&url);
    let db = env[3].1.clone();
    let env: Vec<(&str, &str)> = env[..3].iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sdl = temp("bare.graphql");
    // v4's own example: `postgraphile -c mydb`; here with -X to export and stop.
    let o = run(
        &[
            "serve",
            "-c",
            &db,
            "--export-schema-graphql",
            sdl.to_str().unwrap(),
            "-X",
        ],
        &env,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&sdl).unwrap();
    assert!(text.contains("allStaff"), "{text}");
    // The uncountable noun's bulk create has a name of its own: no clash, no warning.
    assert!(
        text.contains("createStaff(") && text.contains("createStaffList("),
        "{text}"
    );
    let err = stderr(&o);
    assert!(!err.contains("WARN"), "warnings for a normal schema: {err}");
    assert_eq!(err.matches("JWT off").count(), 1, "{err}");
    // No -c at all: PGDATABASE names it.
    let mut all = env.clone();
    all.push(("PGDATABASE", &db));
    let json = temp("env.json");
    let o = run(
        &[
            "serve",
            "--export-schema-json",
            json.to_str().unwrap(),
            "--no-server",
        ],
        &all,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let types = v["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Staff"), "{v}");
    std::fs::remove_file(&sdl).ok();
    std::fs::remove_file(&json).ok();
}

#[tokio::test]
async fn a_missing_schema_stops_startup_and_an_empty_one_is_a_warning() {
    let url = shop().await;
    let o = run(&["serve", "-c", &url, "-s", "public,pubic", "-X"], &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("schema `pubic` does not exist"), "{err}");
    assert!(
        err.contains("nothing_here") && err.contains("public"),
        "{err}"
    );
    let o = run(
        &["serve", "-c", &url, "-s", "public,nothing_here", "-X"],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("WARN") && err.contains("nothing_here"),
        "{err}"
    );
}

#[tokio::test]
async fn a_name_clash_is_one_readable_warning() {
    let url = common::empty_database().await;
    let admin = postgraph::db::connect(&url).await.unwrap();
    admin
        .batch_execute(
            "create table post (id serial primary key, title text);
             create function create_post(title text) returns post language sql volatile
               as $$ insert into post (title) values (title) returning * $$;",
        )
        .await
        .unwrap();
    let o = run(&["serve", "-c", &url, "-X"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    let warning = err
        .lines()
        .find_map(|l| l.split_once("function public.create_post left out"))
        .map(|(_, message)| message)
        .unwrap_or_else(|| panic!("no clash warning: {err}"));
    assert!(warning.contains("`createPost`"), "{warning}");
    assert!(!warning.contains("  "), "a run of spaces: {warning}");
}

#[tokio::test]
async fn legacy_relations_shape_one_to_one_backward_relations_as_in_v4() {
    let url = shop().await;
    let sdl = |mode: &str| {
        let file = temp(&format!("legacy-{mode}.graphql"));
        let o = run(
            &[
                "serve",
                "-c",
                &url,
                "--legacy-relations",
                mode,
                "--export-schema-graphql",
                file.to_str().unwrap(),
                "-X",
            ],
            &[],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::remove_file(&file).ok();
        text
    };
    let single = "profileByStaffId: Profile";
    let connection = "profilesByStaffId(";
    let deprecated = sdl("deprecated");
    assert!(
        deprecated.contains(single) && deprecated.contains(connection),
        "{deprecated}"
    );
    let omit = sdl("omit");
    assert!(
        omit.contains(single) && !omit.contains(connection),
        "{omit}"
    );
    let only = sdl("only");
    assert!(
        !only.contains(single) && only.contains(connection),
        "{only}"
    );
}
