//! The HTTP load generator: wrk (Debian's package), driven by bench/wrk.lua.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::{step, Load, Result};

/// Makes sure `wrk` is on PATH, installing Debian's package when we are root; returns its
/// version line.
pub fn ensure_installed() -> Result<String> {
    if let Some(version) = version() {
        return Ok(version);
    }
    if !is_root() {
        return Err(
            "wrk (the HTTP load generator) is not installed: install it with \
                    `sudo apt-get install -y wrk` (Debian/Ubuntu), or run the benchmark as root \
                    to have it installed"
                .into(),
        );
    }
    step("wrk not found: installing it with apt-get");
    let run = |args: &[&str]| -> Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .map_err(|e| format!("could not run apt-get: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed ({status})", args.join(" ")).into())
        }
    };
    // The package lists may be missing or stale on a fresh machine.
    if run(&["install", "-y", "-qq", "wrk"]).is_err() {
        run(&["update", "-qq"])?;
        run(&["install", "-y", "-qq", "wrk"])?;
    }
    version().ok_or_else(|| "wrk still not runnable after apt-get install".into())
}

fn version() -> Option<String> {
    // `wrk -v` prints its version (and usage) and exits non-zero.
    let out = Command::new("wrk").arg("-v").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .find(|l| l.starts_with("wrk "))
        .map(|l| l.split(" Copyright").next().unwrap_or(l).trim().to_string())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let uids = s.lines().find_map(|l| l.strip_prefix("Uid:"))?.to_string();
            uids.split_whitespace().nth(1).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// One operation's requests: URL, body file and token.
pub struct Run<'a> {
    pub url: &'a str,
    pub script: &'a Path,
    pub body: &'a Path,
    pub token: Option<&'a str>,
}

/// What wrk measured.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The slowest request.
    pub max_ms: f64,
    /// Responses with status ≥ 400 (wrk's "Non-2xx or 3xx responses").
    pub bad_status: u64,
    /// connect + read + write + timeout errors.
    pub socket_errors: u64,
}

impl Run<'_> {
    pub async fn measure(&self, load: Load) -> Result<Measured> {
        let output = tokio::process::Command::new("wrk")
            .arg(format!("-t{}", load.threads))
            .arg(format!("-c{}", load.connections))
            .arg(format!("-d{}s", load.duration.as_secs()))
            .arg("--latency")
            .arg("-s")
            .arg(self.script)
            .arg(self.url)
            .env("BENCH_BODY_FILE", self.body)
            .env("BENCH_TOKEN", self.token.unwrap_or(""))
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| format!("could not run wrk: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!(
                "wrk failed ({}):\n{text}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        // Kept beside the body for a look at the full distribution (BENCH_KEEP=1).
        let _ = std::fs::write(self.body.with_extension("wrk.txt"), text.as_bytes());
        parse(&text).ok_or_else(|| format!("could not read wrk's output:\n{text}").into())
    }
}

fn parse(text: &str) -> Option<Measured> {
    let mut m = Measured::default();
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", t] => m.p50_ms = millis(t)?,
            ["99%", t] => m.p99_ms = millis(t)?,
            // "Latency  <avg> <stdev> <max> <+/- stdev>"
            ["Latency", _, _, max, _] => m.max_ms = millis(max)?,
            ["Requests/sec:", n] => m.requests_per_sec = n.parse().ok()?,
            [n, "requests", "in", ..] => m.requests = n.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => m.bad_status = n.parse().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                m.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    (m.requests_per_sec > 0.0 || m.requests == 0).then_some(m)
}

/// wrk's durations: "812.00us", "1.23ms", "2.00s", "1.50m".
fn millis(t: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = t.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3_600_000.0)
    } else {
        return None;
    };
    Some(number.parse::<f64>().ok()? * factor)
}
