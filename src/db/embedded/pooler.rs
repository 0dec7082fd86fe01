//! pgbouncer in transaction mode in front of an embedded cluster, on a free loopback port: for
//! tests and benchmarks of `--pooler transaction`. It runs as the cluster's user (pgbouncer,
//! like Postgres, refuses root) under a small shell that stops it when this process goes away,
//! even without a drop (a `static` in a test binary is never dropped).

use super::{conn_value, create_folder, free_port, EmbeddedError, EmbeddedPostgres, HOST};
use std::io::Write as _;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs pgbouncer ($0, config $1) and stops it, and removes its folder ($2), when our end of
/// its stdin closes.
const SCRIPT: &str = r#"trap '' INT HUP
exec 3<&0
"$0" "$1" </dev/null & pid=$!
{ read -r _ <&3; kill -TERM "$pid" 2>/dev/null; rm -rf "$2"; } &
wait "$pid""#;

/// A running pgbouncer; stopped (and its folder removed) on drop.
#[derive(Debug)]
pub struct Pgbouncer {
    folder: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Pgbouncer {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host=127.0.0.1 port=N user=U dbname=D` through the pooler (trust auth).
    pub fn connection_string(&self, user: &str, dbname: &str) -> String {
        format!(
            "host={HOST} port={} user={} dbname={}",
            self.port,
            conn_value(user),
            conn_value(dbname)
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.folder.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(b"stop\n");
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// The pgbouncer binary: on PATH, else where Debian puts it.
fn binary() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|p| super::is_executable(p))
}

impl EmbeddedPostgres {
    /// Starts pgbouncer in transaction mode for `users` (trust auth), at most `pool_size`
    /// server connections per database and user.
    pub async fn start_pgbouncer(
        &self,
        users: &[&str],
        pool_size: usize,
    ) -> Result<Pgbouncer, EmbeddedError> {
        let bin = binary().ok_or_else(|| EmbeddedError::Failed {
            step: "find pgbouncer",
            output: "pgbouncer is not installed (Debian: apt-get install pgbouncer)".into(),
        })?;
        let folder = create_folder(self.run_as)?;
        let mut bouncer = Pgbouncer {
            folder,
            port: 0,
            child: None,
        };
        let userlist: String = users.iter().map(|u| format!("\"{u}\" \"\"\n")).collect();
        std::fs::write(bouncer.folder.join("users.txt"), userlist)?;
        for attempt in 1..=super::PORT_ATTEMPTS {
            bouncer.port = free_port()?;
            let ini = format!(
                "[databases]\n* = host={} port={}\n\n[pgbouncer]\nlisten_addr = {HOST}\n\
                 listen_port = {}\nunix_socket_dir =\nauth_type = trust\nauth_file = {}\n\
                 pool_mode = transaction\ndefault_pool_size = {pool_size}\n\
                 max_client_conn = 1000\nignore_startup_parameters = extra_float_digits\n",
                self.host(),
                self.port,
                bouncer.port,
                bouncer.folder.join("users.txt").display(),
            );
            let ini_path = bouncer.folder.join("pgbouncer.ini");
            std::fs::write(&ini_path, ini)?;
            let log = std::fs::File::create(bouncer.folder.join("pgbouncer.log"))?;
            let mut cmd = Command::new("sh");
            cmd.arg("-c")
                .arg(SCRIPT)
                .arg(&bin)
                .arg(&ini_path)
                .arg(&bouncer.folder)
                .current_dir(&bouncer.folder)
                .stdin(Stdio::piped())
                .stdout(log.try_clone()?)
                .stderr(log)
                .process_group(0);
            if let Some(user) = self.run_as {
                for file in ["users.txt", "pgbouncer.ini", "pgbouncer.log"] {
                    std::os::unix::fs::chown(
                        bouncer.folder.join(file),
                        Some(user.uid),
                        Some(user.gid),
                    )?;
                }
                cmd.uid(user.uid).gid(user.gid);
            }
            bouncer.child = Some(cmd.spawn().map_err(|e| EmbeddedError::Failed {
                step: "run pgbouncer",
                output: e.to_string(),
            })?);
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                let exited = bouncer
                    .child
                    .as_mut()
                    .is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
                if exited {
                    let log = bouncer.log();
                    if !log.contains("Address already in use") || attempt == super::PORT_ATTEMPTS {
                        return Err(EmbeddedError::Failed {
                            step: "start pgbouncer",
                            output: log,
                        });
                    }
                    bouncer.child = None;
                    break;
                }
                let conn = bouncer.connection_string(users[0], "postgres");
                let probe = async {
                    let (client, connection) =
                        tokio_postgres::connect(&conn, tokio_postgres::NoTls).await?;
                    tokio::spawn(connection);
                    client.simple_query("select 1").await.map(|_| ())
                };
                if let Ok(Ok(())) = tokio::time::timeout(Duration::from_secs(5), probe).await {
                    tracing::info!(port = bouncer.port, "pgbouncer started");
                    return Ok(bouncer);
                }
                if Instant::now() >= deadline {
                    return Err(EmbeddedError::Failed {
                        step: "wait for pgbouncer",
                        output: bouncer.log(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Err(EmbeddedError::Failed {
            step: "start pgbouncer",
            output: "no free port".into(),
        })
    }
}
