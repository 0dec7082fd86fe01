//! Embedded throwaway PostgreSQL: finds the server binaries on the machine, runs `initdb` into a
//! private temp folder, starts `postgres` on a free loopback port, and on stop (or drop) shuts it
//! down and deletes the folder.
//!
//! A watchdog shell process also deletes everything if this process dies without dropping the
//! handle (a `static` cluster in a test binary is never dropped).

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use tokio_postgres::NoTls;

mod pooler;
mod replica;
pub use pooler::Pgbouncer;

const HOST: &str = "127.0.0.1";
const SUPERUSER: &str = "postgres";
const LOG_FILE: &str = "postgres.log";
const READY_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
const PORT_ATTEMPTS: usize = 5;
/// Unix socket paths are limited to ~107 bytes; beyond this we run without a socket (TCP only).
const MAX_SOCKET_DIR_LEN: usize = 90;

/// Options for [`EmbeddedPostgres::start`].
#[derive(Debug, Clone, Default)]
pub struct EmbeddedOptions {
    /// Extra `postgresql.conf` settings, e.g. ("shared_preload_libraries", "pg_stat_statements").
    /// Passed as `-c key=value` after the built-in ones, so they can override them.
    pub settings: Vec<(String, String)>,
}

impl EmbeddedOptions {
    /// Adds one `postgresql.conf` setting (builder style).
    pub fn setting(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.push((key.into(), value.into()));
        self
    }
}

/// Why the embedded server could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL or pass --connection / DATABASE_URL"
    )]
    NotFound,
    #[error("embedded PostgreSQL: I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("embedded PostgreSQL: {step} failed:\n{output}")]
    Failed { step: &'static str, output: String },
    #[error("embedded PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
}

/// Unprivileged account to run the server as (PostgreSQL refuses to run as root).
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// A running throwaway cluster: trust auth on its unix socket and on 127.0.0.1, superuser
/// `postgres`, no password.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    /// Temp folder holding `data/`, the log and the unix socket; deleted on stop.
    folder: PathBuf,
    run_as: Option<RunAs>,
    port: u16,
    child: Option<Child>,
    watchdog: Option<Child>,
    stopped: bool,
    /// The settings it was started with, for [`Self::restart`].
    opts: EmbeddedOptions,
}

impl EmbeddedPostgres {
    /// Runs `initdb` into a fresh temp folder and starts the server; returns once it accepts
    /// connections. Typically well under 3 s.
    pub async fn start(opts: EmbeddedOptions) -> Result<Self, EmbeddedError> {
        let started = Instant::now();
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::NotFound)?;
        let run_as = if effective_uid() == Some(0) {
            Some(lookup_user(SUPERUSER).ok_or_else(|| {
                EmbeddedError::Failed {
                    step: "find an unprivileged user",
                    output:
                        "running as root, which PostgreSQL refuses; there is no `postgres` user \
                         in /etc/passwd to run it as"
                            .into(),
                }
            })?)
        } else {
            None
        };
        let folder = create_folder(run_as)?;
        tracing::debug!(bin_dir = %bin_dir.display(), folder = %folder.display(), ?run_as,
            "starting embedded PostgreSQL");

        // From here on, `pg` owns the folder: any error or cancellation drops it and cleans up.
        let mut pg = EmbeddedPostgres {
            bin_dir,
            folder,
            run_as,
            port: 0,
            child: None,
            watchdog: None,
            stopped: false,
            opts: opts.clone(),
        };
        pg.arm_watchdog();
        pg.initdb().await?;
        pg.serve_on_free_port(started).await
    }

    /// Starts the server of the data folder on a free port (retrying when another process
    /// took it meanwhile).
    async fn serve_on_free_port(mut self, started: Instant) -> Result<Self, EmbeddedError> {
        let opts = self.opts.clone();
        for attempt in 1..=PORT_ATTEMPTS {
            self.port = free_port()?;
            let log_offset = fs::metadata(self.log_path()).map(|m| m.len()).unwrap_or(0);
            self.spawn_postgres(&opts)?;
            match self.wait_ready(log_offset).await? {
                Readiness::Ready => {
                    tracing::info!(port = self.port, folder = %self.folder.display(),
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "embedded PostgreSQL started");
                    return Ok(self);
                }
                Readiness::PortTaken => {
                    tracing::debug!(
                        port = self.port,
                        attempt,
                        "port taken, retrying with another"
                    );
                    self.child = None;
                }
            }
        }
        Err(EmbeddedError::Failed {
            step: "start postgres",
            output: format!(
                "no free port after {PORT_ATTEMPTS} attempts; log:\n{}",
                self.log_tail(0)
            ),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where clients connect: the unix socket's folder when its path is short enough for a
    /// socket address, else "127.0.0.1". Loopback TCP costs each round trip a pass through
    /// the TCP stack on both sides; a unix socket skips it. The server listens on both.
    pub fn host(&self) -> String {
        match self.socket_dir() {
            Some(dir) => dir.display().to_string(),
            None => HOST.to_string(),
        }
    }

    fn socket_dir(&self) -> Option<&Path> {
        (self.folder.as_os_str().len() <= MAX_SOCKET_DIR_LEN).then_some(self.folder.as_path())
    }

    /// Always "postgres".
    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    /// Connection string for `user` into `dbname`: "host=H port=N user=U dbname=D", H as
    /// [`Self::host`] (trust auth, no password). Values are quoted when needed.
    pub fn connection_string(&self, user: &str, dbname: &str) -> String {
        format!(
            "host={} port={} user={} dbname={}",
            conn_value(&self.host()),
            self.port,
            conn_value(user),
            conn_value(dbname)
        )
    }

    /// The temp folder (data directory, log, socket); gone after [`Self::stop`].
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The cluster's data directory (`<folder>/data`).
    pub fn data_dir(&self) -> PathBuf {
        self.folder.join("data")
    }

    /// Folder holding the server binaries in use (also has e.g. `pg_dump`, `psql` when installed).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// Process id of the postmaster, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Connects as `user` to `dbname`; the connection task is spawned on the current runtime.
    pub async fn connect(
        &self,
        user: &str,
        dbname: &str,
    ) -> Result<tokio_postgres::Client, EmbeddedError> {
        let (client, connection) =
            tokio_postgres::connect(&self.connection_string(user, dbname), NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "embedded PostgreSQL connection ended");
            }
        });
        Ok(client)
    }

    /// `CREATE DATABASE "name" [TEMPLATE "template"]`, as the superuser. Cloning a template
    /// fails if anyone is connected to the template.
    pub async fn create_database(
        &self,
        name: &str,
        template: Option<&str>,
    ) -> Result<(), EmbeddedError> {
        let sql = crate::sql::text::create_database(name, template);
        let client = self.connect(SUPERUSER, "postgres").await?;
        client.batch_execute(&sql).await?;
        tracing::debug!(name, ?template, "created database");
        Ok(())
    }

    /// `DROP DATABASE IF EXISTS "name" WITH (FORCE)` (terminates its sessions), as the superuser.
    pub async fn drop_database(&self, name: &str) -> Result<(), EmbeddedError> {
        let client = self.connect(SUPERUSER, "postgres").await?;
        client
            .batch_execute(&crate::sql::text::drop_database(name))
            .await?;
        Ok(())
    }

    /// Restarts the server on the same port and data (fast shutdown: sessions are
    /// terminated with 57P01, transactions in flight roll back); returns once it accepts
    /// connections again. For tests of what clients see when Postgres restarts.
    pub async fn restart(&mut self) -> Result<(), EmbeddedError> {
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + STOP_TIMEOUT;
            if send_sigint(child.id()) {
                while child.try_wait()?.is_none() && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            if child.try_wait()?.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let log_offset = fs::metadata(self.log_path()).map(|m| m.len()).unwrap_or(0);
        let opts = self.opts.clone();
        self.spawn_postgres(&opts)?;
        match self.wait_ready(log_offset).await? {
            Readiness::Ready => Ok(()),
            Readiness::PortTaken => Err(EmbeddedError::Failed {
                step: "restart postgres",
                output: format!("port {} was taken meanwhile", self.port),
            }),
        }
    }

    /// Stops the server (fast shutdown) and removes the data folder. Idempotent; synchronous
    /// (blocks briefly), so it is safe from `Drop` with or without an async runtime.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // Disarm first: once our child is reaped its pid may be reused.
        self.disarm_watchdog();
        if let Some(child) = self.child.take() {
            shut_down(child);
        }
        match fs::remove_dir_all(&self.folder) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(folder = %self.folder.display(), error = %e,
                "could not remove embedded PostgreSQL folder"),
        }
        tracing::debug!(port = self.port, "embedded PostgreSQL stopped");
    }

    fn log_path(&self) -> PathBuf {
        self.folder.join(LOG_FILE)
    }

    /// Last lines of the server log written after byte `offset`.
    fn log_tail(&self, offset: u64) -> String {
        let Ok(bytes) = fs::read(self.log_path()) else {
            return "(no log)".into();
        };
        let start = (offset as usize).min(bytes.len());
        let text = String::from_utf8_lossy(&bytes[start..]);
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// A command for a server binary, run as the unprivileged user when we are root.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        // The cwd must be accessible to the server user; LC_ALL=C keeps log messages parseable.
        cmd.current_dir(&self.folder)
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .stdin(Stdio::null());
        if let Some(user) = self.run_as {
            cmd.uid(user.uid).gid(user.gid);
        }
        cmd
    }

    async fn initdb(&self) -> Result<(), EmbeddedError> {
        let mut cmd = self.command("initdb");
        cmd.arg("-D")
            .arg(self.data_dir())
            .args(["-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--locale=C"])
            .arg("--no-sync");
        run_to_end(cmd, "initdb").await
    }

    fn spawn_postgres(&mut self, opts: &EmbeddedOptions) -> Result<(), EmbeddedError> {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        // An empty -k: no unix socket.
        let socket_dir = self.socket_dir().map(Path::to_path_buf).unwrap_or_default();
        let mut cmd = self.command("postgres");
        cmd.arg("-D")
            .arg(self.data_dir())
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-h", HOST])
            .arg("-k")
            .arg(socket_dir);
        // Throwaway data: durability is pointless, speed is not.
        for setting in [
            "fsync=off",
            "synchronous_commit=off",
            "full_page_writes=off",
            "max_connections=200",
        ] {
            cmd.arg("-c").arg(setting);
        }
        for (key, value) in &opts.settings {
            cmd.arg("-c").arg(format!("{key}={value}"));
        }
        // Own process group: a Ctrl-C at the terminal must not take the server down under us.
        cmd.stdout(log.try_clone()?).stderr(log).process_group(0);
        let child = cmd.spawn().map_err(|e| EmbeddedError::Failed {
            step: "run postgres",
            output: e.to_string(),
        })?;
        tracing::debug!(pid = child.id(), port = self.port, "spawned postgres");
        self.child = Some(child);
        Ok(())
    }

    async fn wait_ready(&mut self, log_offset: u64) -> Result<Readiness, EmbeddedError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last_error = String::new();
        loop {
            let child = self.child.as_mut().expect("postgres spawned");
            let pid = child.id();
            if let Some(status) = child.try_wait()? {
                let log = self.log_tail(log_offset);
                if log.contains("Address already in use")
                    || log.contains("could not create any TCP/IP sockets")
                {
                    return Ok(Readiness::PortTaken);
                }
                return Err(EmbeddedError::Failed {
                    step: "start postgres",
                    output: format!("postgres exited ({status}); log:\n{log}"),
                });
            }
            // The postmaster writes "ready" into postmaster.pid once it accepts connections; this
            // also proves that *our* server holds the port (it exits if the bind fails).
            if postmaster_ready(&self.data_dir(), pid) {
                let probe = async {
                    let client = self.connect(SUPERUSER, "postgres").await?;
                    client.simple_query("select 1").await?;
                    Ok::<_, EmbeddedError>(())
                };
                match tokio::time::timeout(Duration::from_secs(5), probe).await {
                    Ok(Ok(())) => return Ok(Readiness::Ready),
                    Ok(Err(e)) => last_error = e.to_string(),
                    Err(_) => last_error = "connection attempt timed out".into(),
                }
            }
            if Instant::now() >= deadline {
                return Err(EmbeddedError::Failed {
                    step: "wait for postgres to accept connections",
                    output: format!(
                        "not ready after {}s{}; log:\n{}",
                        READY_TIMEOUT.as_secs(),
                        if last_error.is_empty() {
                            String::new()
                        } else {
                            format!(" (last error: {last_error})")
                        },
                        self.log_tail(log_offset)
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts a shell that waits on a pipe from us; if we die without `stop()`, the pipe closes
    /// and it shuts the server down and deletes the folder. Best effort: skipped if `sh` fails.
    fn arm_watchdog(&mut self) {
        const SCRIPT: &str = r#"trap '' INT TERM HUP
if read -r _; then exit 0; fi
pid=
if [ -f "$2" ]; then read -r pid < "$2"; fi
case "$pid" in
''|0|*[!0-9]*) ;;
*)
  kill -INT "$pid" 2>/dev/null
  i=0
  while [ -f "$2" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 150 ]; do
    sleep 0.1
    i=$((i+1))
  done
  if [ -f "$2" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  ;;
esac
rm -rf "$1""#;
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(SCRIPT)
            .arg("postgraph-watchdog")
            .arg(&self.folder)
            .arg(self.data_dir().join("postmaster.pid"))
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        match spawned {
            Ok(child) => self.watchdog = Some(child),
            Err(e) => tracing::debug!(error = %e, "could not start the cleanup watchdog"),
        }
    }

    fn disarm_watchdog(&mut self) {
        let Some(mut watchdog) = self.watchdog.take() else {
            return;
        };
        if let Some(mut stdin) = watchdog.stdin.take() {
            let _ = stdin.write_all(b"stop\n");
        }
        if wait_with_timeout(&mut watchdog, Duration::from_secs(2)).is_none() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop()
    }
}

enum Readiness {
    Ready,
    PortTaken,
}

/// Runs a server tool (initdb, pg_basebackup) to its end; its output is the error when it fails.
async fn run_to_end(cmd: Command, step: &'static str) -> Result<(), EmbeddedError> {
    let output = tokio::process::Command::from(cmd)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| EmbeddedError::Failed {
            step,
            output: format!("could not run it: {e}"),
        })?;
    if !output.status.success() {
        return Err(EmbeddedError::Failed {
            step,
            output: format!(
                "{}\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(())
}

/// Fast shutdown (SIGINT), bounded wait, then SIGKILL (backends exit when the postmaster dies).
fn shut_down(mut child: Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // Not yet reaped, so the pid cannot have been reused.
    if !send_sigint(child.id()) || wait_with_timeout(&mut child, STOP_TIMEOUT).is_none() {
        tracing::warn!(
            pid = child.id(),
            "embedded PostgreSQL did not stop in time, killing it"
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `kill -INT <pid>` without libc: the `kill` binary, else the shell builtin.
fn send_sigint(pid: u32) -> bool {
    let pid = pid.to_string();
    let run = |cmd: &mut Command| {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
    };
    match run(Command::new("kill").args(["-INT", &pid])) {
        Ok(ok) => ok,
        Err(_) => {
            run(Command::new("sh").args(["-c", r#"kill -INT "$1""#, "sh", &pid])).unwrap_or(false)
        }
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// `postmaster.pid`: line 1 is the postmaster's pid, line 8 its status ("ready" once it accepts
/// connections, "standby" for a replica that does; PostgreSQL 10+).
fn postmaster_ready(data_dir: &Path, pid: u32) -> bool {
    let Ok(text) = fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().collect();
    lines.first().map(|l| l.trim()) == Some(pid.to_string().as_str())
        && matches!(lines.get(7).map(|l| l.trim()), Some("ready" | "standby"))
}

/// First folder holding both `initdb` and `postgres`: PATH, `pg_config --bindir`, then
/// `/usr/lib/postgresql/*/bin`, highest version first.
fn find_bin_dir() -> Option<PathBuf> {
    let usable = |dir: &Path| {
        ["initdb", "postgres"]
            .iter()
            .all(|bin| is_executable(&dir.join(bin)))
    };
    let from_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    from_path
        .chain(from_pg_config)
        .chain(debian_bin_dirs())
        .find(|dir| usable(dir))
        // Absolute, since the commands run with another working directory.
        .and_then(|dir| dir.canonicalize().ok())
}

fn debian_bin_dirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir("/usr/lib/postgresql") else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Effective uid without libc: /proc/self/status ("Uid: real effective saved fs"), else `id -u`.
fn effective_uid() -> Option<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        if let Some(rest) = status.lines().find_map(|l| l.strip_prefix("Uid:")) {
            return rest.split_whitespace().nth(1)?.parse().ok();
        }
    }
    let out = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn lookup_user(name: &str) -> Option<RunAs> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 || fields[0] != name {
            return None;
        }
        Some(RunAs {
            uid: fields[2].parse().ok()?,
            gid: fields[3].parse().ok()?,
        })
    })
}

/// Creates `<tmp>/postgraph-<pid>-<n>` (mode 0700, owned by the server user).
fn create_folder(run_as: Option<RunAs>) -> Result<PathBuf, EmbeddedError> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut base = std::env::temp_dir();
    if let Ok(canonical) = base.canonicalize() {
        base = canonical;
    }
    // The server user must be able to reach the folder (e.g. TMPDIR=/root/tmp would not do).
    if run_as.is_some() && !traversable_by_others(&base) {
        base = PathBuf::from("/tmp");
    }
    let folder = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let candidate = base.join(format!("postgraph-{}-{n}", std::process::id()));
        match fs::create_dir(&candidate) {
            Ok(()) => break candidate,
            // Left over from an earlier process with the same pid.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(EmbeddedError::Failed {
                    step: "create the data folder",
                    output: format!("{}: {e}", candidate.display()),
                })
            }
        }
    };
    let prepared =
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o700)).and_then(
            |()| match run_as {
                Some(user) => std::os::unix::fs::chown(&folder, Some(user.uid), Some(user.gid)),
                None => Ok(()),
            },
        );
    if let Err(e) = prepared {
        let _ = fs::remove_dir_all(&folder);
        return Err(e.into());
    }
    Ok(folder)
}

fn traversable_by_others(dir: &Path) -> bool {
    dir.ancestors()
        .all(|a| fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// Binds 127.0.0.1:0 and returns the port the OS picked (racy by nature; start() retries).
fn free_port() -> Result<u16, EmbeddedError> {
    let listener = std::net::TcpListener::bind((HOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// A libpq key/value connection-string value, single-quoted with backslash escapes when needed.
fn conn_value(value: &str) -> String {
    if !value.is_empty()
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '\'' || c == '\\')
    {
        return value.to_string();
    }
    let mut quoted = String::from("'");
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_string_values_are_quoted() {
        assert_eq!(conn_value("postgres"), "postgres");
        assert_eq!(conn_value("my db"), "'my db'");
        assert_eq!(conn_value(r"it's\"), r"'it\'s\\'");
        assert_eq!(conn_value(""), "''");
    }
}
