//! The ceiling: the SQL postgraph generates for a read or a mutation, run by
//! `pgbench -M prepared` in the transaction shape of a request (begin; role, timeout and
//! claims; the query, or the write and its payload; commit), with the `--pre-request` check
//! where postgraph sends it (inside a read's query; its own statement before a write).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use postgraph::auth::SessionSettings;
use postgraph::graphql::{variables_from_json, Api};
use postgraph::plan::RootField;

use crate::ops::Op;
use crate::{Load, Result};

/// The pgbench script for one read or mutation. The SQL comes from the library (the same
/// plan → SQL path a request takes); its parameters are inlined as literals, since a pgbench
/// script has no other way to bind them. `pre_request` is the check's function (`"s"."f"()`).
pub fn script(
    api: &Api,
    op: &Op,
    session: &SessionSettings,
    timeout_ms: u64,
    pre_request: Option<&str>,
) -> Result<String> {
    let variables = variables_from_json(op.variables.clone())?;
    let operation = api
        .prepare(op.query, None, &variables)
        .map_err(|e| format!("{}: {e:?}", op.name))?;
    let plan = postgraph::plan::plan(&api.model, &operation)?;
    let mut lines = vec![
        "begin;".to_string(),
        format!("{};", session_statement(session, timeout_ms)?),
    ];
    let (mut checked, mut queries) = (false, 0);
    for (_, field) in &plan.fields {
        let statements = match field {
            RootField::Select { select, .. } => {
                let mut statement = postgraph::sql::select(select);
                if let Some(function) = pre_request.filter(|_| !checked) {
                    statement.text =
                        postgraph::sql::read_after_pre_request(function, &statement.text);
                    checked = true;
                }
                vec![statement]
            }
            // A mutation: its write, then the payload built from what the write left behind.
            RootField::Mutation { mutation, .. } => {
                if let Some(function) = pre_request.filter(|_| !checked) {
                    lines.push(format!("{};", postgraph::sql::pre_request_call(function)));
                    checked = true;
                }
                vec![
                    postgraph::sql::write(&mutation.write),
                    postgraph::sql::payload(mutation),
                ]
            }
            _ => vec![],
        };
        for statement in statements {
            queries += 1;
            lines.push(format!(
                "{};",
                inline_params(&statement.text, &statement.params)?
            ));
        }
    }
    if queries == 0 {
        return Err(format!("{}: the plan has no SQL", op.name).into());
    }
    lines.push("commit;".into());
    let script = lines.join("\n") + "\n";
    check_no_variables(&script)?;
    Ok(script)
}

/// The engine's session statement (`sql::set_session`: `$1` role, `$2` statement timeout, then
/// a name and a value per setting) with its parameters written as literals.
fn session_statement(session: &SessionSettings, timeout_ms: u64) -> Result<String> {
    let mut values = vec![
        literal(Some(&session.role)),
        literal(Some(&format!("{timeout_ms}ms"))),
    ];
    for (name, value) in &session.settings {
        values.push(literal(Some(name)));
        values.push(literal(Some(value)));
    }
    inline(postgraph::sql::set_session(session.settings.len()), &values)
}

fn inline_params(text: &str, params: &[Option<String>]) -> Result<String> {
    let literals: Vec<String> = params.iter().map(|p| literal(p.as_deref())).collect();
    inline(text, &literals)
}

/// Replaces `$n` with `values[n - 1]` in one pass (so a value that itself contains `$1` is left
/// alone). Newlines become spaces: pgbench reads one command per line.
fn inline(text: &str, values: &[String]) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            let mut end = i + 1;
            while let Some((j, d)) = chars.peek().copied() {
                if !d.is_ascii_digit() {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            let n: usize = text[i + 1..end].parse()?;
            let value = values
                .get(n.wrapping_sub(1))
                .ok_or_else(|| format!("${n} has no value in {text}"))?;
            out.push_str(value);
        } else if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// A quoted SQL literal. pgbench reads `:name` as a variable, even inside quotes, so colons (as
/// in JSON claims) are written as `\x3a` in an escape string; so are newlines.
fn literal(value: Option<&str>) -> String {
    let Some(s) = value else {
        return "NULL".into();
    };
    if !s.contains([':', '\\', '\n', '\r']) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::from("E'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            ':' => out.push_str("\\x3a"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Fails if pgbench would take part of the script for a `:variable` (a colon followed by a
/// letter, digit or underscore, other than a `::` cast).
fn check_no_variables(script: &str) -> Result<()> {
    let bytes = script.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b':' {
            continue;
        }
        let prev_colon = i > 0 && bytes[i - 1] == b':';
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        if !prev_colon && next != b':' && (next.is_ascii_alphanumeric() || next == b'_') {
            return Err(format!(
                "the pgbench script would read a variable at byte {i}: {}",
                &script[i.saturating_sub(40)..(i + 40).min(script.len())]
            )
            .into());
        }
    }
    Ok(())
}

/// One pgbench measurement against the app database.
pub struct Run<'a> {
    pub bin_dir: &'a Path,
    pub host: String,
    pub port: u16,
    pub user: &'a str,
    pub database: &'a str,
    pub script: &'a Path,
}

#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub tps: f64,
    pub transactions: u64,
    pub failed: u64,
    pub latency_avg_ms: f64,
    /// Per-transaction latencies from pgbench's log (no coordinated-omission correction).
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// CPU time during the run (set by the caller).
    pub cpu: crate::proc::CpuUsage,
}

impl Run<'_> {
    pub async fn measure(&self, load: Load) -> Result<Measured> {
        let mut command = tokio::process::Command::new(pgbench_binary(self.bin_dir)?);
        // Libpq would otherwise pick these up from the caller's environment.
        for var in [
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGPASSWORD",
            "PGOPTIONS",
        ] {
            command.env_remove(var);
        }
        // pgbench writes one log file per thread: <prefix>.<pid>[.<thread>].
        let log_prefix = self.script.with_extension("pgbench-log");
        let output = command
            .args(["-n", "-M", "prepared", "-h", &self.host])
            .arg("--log")
            .arg(format!("--log-prefix={}", log_prefix.display()))
            .arg(format!("--port={}", self.port))
            .arg(format!("--username={}", self.user))
            .arg(format!("--client={}", load.connections))
            .arg(format!("--jobs={}", load.threads))
            .arg(format!("--time={}", load.duration.as_secs()))
            .arg("--file")
            .arg(self.script)
            .arg(self.database)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| format!("could not run pgbench: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let errors = String::from_utf8_lossy(&output.stderr);
        let latencies = take_logged_latencies(&log_prefix)?;
        let mut measured = match parse(&text) {
            Some(m) if output.status.success() || m.transactions > 0 => m,
            _ => return Err(format!("pgbench failed ({}):\n{text}{errors}", output.status).into()),
        };
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
            latencies.get(i).copied().unwrap_or(0.0)
        };
        measured.p50_ms = at(0.5);
        measured.p99_ms = at(0.99);
        measured.max_ms = latencies.last().copied().unwrap_or(0.0);
        Ok(measured)
    }
}

/// Reads and deletes pgbench's per-transaction logs (`client transaction latency_us ...` per
/// line); returns the latencies in milliseconds, sorted.
fn take_logged_latencies(prefix: &Path) -> Result<Vec<f64>> {
    let dir = prefix.parent().ok_or("log prefix without a folder")?;
    let stem = prefix
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("log prefix without a name")?
        .to_string();
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let is_log = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(&format!("{stem}.")));
        if !is_log {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        latencies.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok())
                .map(|us| us / 1000.0),
        );
        std::fs::remove_file(&path)?;
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

/// pgbench of the same installation as the server: beside `postgres` (following a symlink such
/// as /usr/local/bin/postgres → /usr/lib/postgresql/15/bin/postgres), else `pg_config --bindir`.
fn pgbench_binary(bin_dir: &Path) -> Result<PathBuf> {
    let beside_target = std::fs::canonicalize(bin_dir.join("postgres"))
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let pg_config = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    [Some(bin_dir.to_path_buf()), beside_target, pg_config]
        .into_iter()
        .flatten()
        .map(|dir| dir.join("pgbench"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "pgbench not found beside {} (Debian: it comes with the `postgresql` package)",
                bin_dir.display()
            )
            .into()
        })
}

fn parse(text: &str) -> Option<Measured> {
    let mut m = Measured::default();
    let mut has_tps = false;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("tps = ") {
            m.tps = rest.split_whitespace().next()?.parse().ok()?;
            has_tps = true;
        } else if let Some(rest) = line.strip_prefix("number of transactions actually processed:") {
            m.transactions = rest.split('/').next()?.trim().parse().ok()?;
        } else if let Some(rest) = line.strip_prefix("number of failed transactions:") {
            m.failed = rest.split_whitespace().next()?.parse().ok()?;
        } else if let Some(rest) = line.strip_prefix("latency average = ") {
            m.latency_avg_ms = rest.split_whitespace().next()?.parse().ok()?;
        }
    }
    has_tps.then_some(m)
}
