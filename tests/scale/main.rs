//! Beyond one database server: pgbouncer in transaction mode in front (`--pooler transaction`),
//! two instances on one database, read replicas and read-your-writes.

mod cli;
#[path = "../common/mod.rs"]
mod common;
mod instances;
mod pooler;
mod replicas;
mod ws;

use common::{Options, TestApp};
use postgraph::config::example;
use postgraph::db::embedded::Pgbouncer;
use tokio::sync::OnceCell;

static POOLER: OnceCell<Pgbouncer> = OnceCell::const_new();

/// Server connections pgbouncer keeps per database and user.
const POOLER_SIZE: usize = 3;

/// pgbouncer in transaction mode in front of the test cluster (pools are per database, so
/// each test's database has its own).
async fn pooler() -> &'static Pgbouncer {
    POOLER
        .get_or_init(|| async {
            common::cluster()
                .await
                .start_pgbouncer(&[example::AUTHENTICATOR, "postgres"], POOLER_SIZE)
                .await
                .expect("pgbouncer")
        })
        .await
}

/// A postgraph serving `database` through `connection`, as a test app (`admin_url`: the
/// superuser's connection to it).
async fn serving(database: &str, admin_url: &str, connection: &str, opts: &Options) -> TestApp {
    let running = common::serve(connection, opts).await.expect("serve");
    TestApp {
        running,
        http: reqwest::Client::new(),
        database: database.to_string(),
        admin_url: admin_url.to_string(),
        authenticator_url: connection.to_string(),
    }
}

/// A fresh database served by a postgraph that connects through pgbouncer; LISTEN goes
/// around it. `authenticator_url` is the pooled connection string.
async fn through_pooler(opts: Options, setup_sql: Option<&str>) -> TestApp {
    let (database, admin_url, direct) = common::fresh_database(setup_sql).await;
    let pooled = pooler()
        .await
        .connection_string(example::AUTHENTICATOR, &database);
    let opts = Options {
        listen_connection: Some(direct),
        ..opts
    };
    serving(&database, &admin_url, &pooled, &opts).await
}

/// After every insert into posts, v4's event for `listen(topic: "posts")` naming the row.
const NOTIFY_ON_POST: &str = "create function app_public.notify_post() returns trigger \
    language plpgsql as $$ begin perform pg_notify('postgraphile:posts', \
    json_build_object('__node__', json_build_array('posts', new.id))::text); return new; end $$; \
    create trigger post_created after insert on app_public.posts \
    for each row execute function app_public.notify_post();";
