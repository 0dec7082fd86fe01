//! The postgraph server under test: a child process, stopped when dropped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Environment variables `postgraph serve` reads its flags from.
const INHERITED_SETTINGS: &[&str] = &[
    "DATABASE_URL",
    "POSTGRAPH_SCHEMA",
    "POSTGRAPH_HOST",
    "PORT",
    "JWT_SECRET",
    "JWT_SECRET_FILE",
    "JWT_PRIVATE_KEY",
    "JWT_PUBLIC_KEY",
    "JWT_ALGORITHM",
    "JWT_TOKEN_IDENTIFIER",
    "JWT_AUDIENCE",
    "JWT_ISSUER",
    "JWT_LEEWAY",
    "JWT_ALLOW_MISSING_EXP",
    "JWT_EXPIRES_IN",
    "JWT_ROLE_CLAIM_KEY",
    "DEFAULT_ROLE",
    "POSTGRAPH_MAX_POOL_SIZE",
    "POSTGRAPH_STATEMENT_TIMEOUT",
    "POSTGRAPH_BODY_SIZE_LIMIT",
];

pub struct Server {
    child: Child,
    pub pid: u32,
    /// The GraphQL endpoint.
    pub url: String,
    /// From spawn until /health answered.
    pub ready_after: Duration,
    log: PathBuf,
}

impl Server {
    /// `postgraph serve --connection <connection> <args>` on a free loopback port; returns once
    /// /health answers.
    pub async fn start(
        binary: &Path,
        connection: &str,
        args: &[String],
        log: &Path,
        rust_log: &str,
    ) -> Result<Server> {
        let port = free_port()?;
        let log_file = File::create(log)?;
        let started = Instant::now();
        let mut command = Command::new(binary);
        // Settings the arguments do not give must not leak in from the caller's environment.
        for var in INHERITED_SETTINGS {
            command.env_remove(var);
        }
        let child = command
            .arg("serve")
            .args(["--connection", connection, "--host", "127.0.0.1"])
            // The example app's schema unless the caller names its own (the startup database).
            .args(if args.iter().any(|a| a == "--schema") {
                &[][..]
            } else {
                &["--schema", "app_public"][..]
            })
            .args(["--port", &port.to_string()])
            .args(args)
            .env("RUST_LOG", rust_log)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("could not run {}: {e}", binary.display()))?;
        let mut server = Server {
            pid: child.id(),
            child,
            url: format!("http://127.0.0.1:{port}/graphql"),
            ready_after: Duration::ZERO,
            log: log.to_path_buf(),
        };
        let health = format!("http://127.0.0.1:{port}/health");
        let http = reqwest::Client::new();
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!(
                    "postgraph exited ({status}) before answering /health:\n{}",
                    server.log_tail()
                )
                .into());
            }
            let ok = http
                .get(&health)
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                server.ready_after = started.elapsed();
                return Ok(server);
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(format!(
                    "postgraph did not answer /health within {} s:\n{}",
                    READY_TIMEOUT.as_secs(),
                    server.log_tail()
                )
                .into());
            }
            // Fine-grained: this loop also times the startup.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Warnings and errors postgraph logged (its RUST_LOG is BENCH_RUST_LOG, warnings and up by
    /// default), timestamps removed, identical lines counted: (count, line), most frequent first.
    pub fn log_problems(&self) -> Vec<(usize, String)> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let mut counts: Vec<(usize, String)> = Vec::new();
        for line in text.lines().map(strip_ansi) {
            if !(line.contains("WARN") || line.contains("ERROR") || line.contains("panicked")) {
                continue;
            }
            // tracing's format: "<timestamp> <LEVEL> <target>: <message>".
            let line = match line.split_once(' ') {
                Some((first, rest)) if first.starts_with(|c: char| c.is_ascii_digit()) => rest,
                _ => line.as_str(),
            }
            .trim()
            .to_string();
            match counts.iter_mut().find(|(_, l)| *l == line) {
                Some((n, _)) => *n += 1,
                None => counts.push((1, line)),
            }
        }
        counts.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        counts
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    /// SIGTERM (postgraph shuts down gracefully), then SIGKILL if it lingers.
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // Not yet reaped, so the pid is still ours.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        crate::step("postgraph did not stop on SIGTERM, killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The line without terminal colour codes (ESC [ ... m).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A port the OS considers free right now (racy by nature, but loopback ports are plenty).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}
