//! The Markdown report: results per operation, memory, startup, the goals, and the
//! machine it ran on.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::cluster::{Startup, StatementStats, POSTS, USERS};
use crate::ops::POST_ID;
use crate::proc::CpuUsage;
use crate::{pgbench, wrk, Config};

/// Where and when the numbers were taken.
pub struct Machine {
    pub date: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    pub kernel: String,
    pub commit: String,
}

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
            .unwrap_or_else(|| "?".into());
        Machine {
            date: command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
                .unwrap_or_else(|| "?".into()),
            memory,
            kernel: command_line("uname", &["-sr"]),
            commit: command_line(
                "git",
                &[
                    "-C",
                    env!("CARGO_MANIFEST_DIR"),
                    "describe",
                    "--always",
                    "--dirty",
                ],
            ),
        }
    }
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

/// One operation's figures.
pub struct OpResult {
    pub name: &'static str,
    pub label: &'static str,
    /// A mutation: its pgbench ceiling runs the write and the payload.
    pub write: bool,
    pub load: wrk::Measured,
    pub peak_rss_kb: u64,
    pub cpu: CpuUsage,
    /// pg_stat_statements over the run (BENCH_PG_STATS=1), else empty.
    pub statements: Vec<StatementStats>,
    pub ceiling: Option<pgbench::Measured>,
    pub notes: Vec<String>,
}

/// The median of an operation's rounds, ranked by ratio to pgbench (reads, createPost) or req/s,
/// with every round's figures added as a note.
pub fn median_round(mut rounds: Vec<OpResult>) -> OpResult {
    let rank = |r: &OpResult| r.ratio().unwrap_or(r.load.requests_per_sec);
    let all: Vec<String> = rounds
        .iter()
        .map(|r| match r.ratio() {
            Some(ratio) => format!("{:.0} req/s ({})", r.load.requests_per_sec, pct(ratio)),
            None => format!("{:.0} req/s", r.load.requests_per_sec),
        })
        .collect();
    rounds.sort_by(|a, b| rank(a).total_cmp(&rank(b)));
    let count = rounds.len();
    let mut median = rounds.swap_remove(count / 2);
    if count > 1 {
        median
            .notes
            .push(format!("rounds: {}; the median is shown", all.join(", ")));
    }
    median
}

impl OpResult {
    fn errors(&self) -> u64 {
        self.load.bad_status + self.load.socket_errors
    }

    fn ratio(&self) -> Option<f64> {
        self.ceiling
            .as_ref()
            .filter(|c| c.tps > 0.0)
            .map(|c| self.load.requests_per_sec / c.tps)
    }

    /// Microseconds of CPU per request.
    fn per_request(&self, secs: f64) -> String {
        format!("{:.0}", secs * 1e6 / self.load.requests.max(1) as f64)
    }

    /// One progress line.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{:.0} req/s, p50 {}, p99 {}, max {}, {} errors, peak RSS {}",
            self.load.requests_per_sec,
            ms(self.load.p50_ms),
            ms(self.load.p99_ms),
            ms(self.load.max_ms),
            self.errors(),
            mib(self.peak_rss_kb)
        );
        if let (Some(c), Some(r)) = (&self.ceiling, self.ratio()) {
            let _ = write!(
                s,
                "; pgbench {:.0} tps (p50 {}, p99 {}, max {}), ratio {}",
                c.tps,
                ms(c.p50_ms),
                ms(c.p99_ms),
                ms(c.max_ms),
                pct(r)
            );
        }
        let _ = write!(
            s,
            "; other processes took {} of the machine",
            share(self.cpu.other, self.cpu.capacity)
        );
        for note in &self.notes {
            let _ = write!(s, "; {note}");
        }
        s
    }
}

pub struct Report {
    pub machine: Machine,
    pub config: Config,
    pub wrk_version: String,
    pub pg_version: String,
    pub idle_rss_kb: u64,
    pub peak_rss_kb: u64,
    pub ops: Vec<OpResult>,
    pub revocation: Vec<crate::revocation::Cost>,
    /// The subscriptions measurement (BENCH_ONLY includes `events`, or all).
    pub events: Option<crate::events::Events>,
    pub startup: Startup,
    /// (count, line) of postgraph's warnings and errors.
    pub log_problems: Vec<(usize, String)>,
}

pub fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn pct(r: f64) -> String {
    format!("{:.0} %", r * 100.0)
}

/// Above this share of the machine used by other processes, a run is flagged as disturbed.
const NOISE: f64 = 0.05;

fn share(secs: f64, capacity: f64) -> String {
    format!("{:.0} %", 100.0 * secs / capacity.max(1e-9))
}

fn secs_ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// (best, median) of a few timings.
fn best_median(runs: &[Duration]) -> (Duration, Duration) {
    let mut sorted = runs.to_vec();
    sorted.sort();
    (
        sorted.first().copied().unwrap_or_default(),
        sorted.get(sorted.len() / 2).copied().unwrap_or_default(),
    )
}

impl Report {
    pub fn markdown(&self) -> String {
        let m = &self.machine;
        let load = self.config.load;
        let mut out = String::new();
        let _ = writeln!(out, "# postgraph load benchmark\n");
        let _ = writeln!(
            out,
            "{}{} · {} CPUs ({}) · {} RAM · {} · PostgreSQL {} · {} · postgraph {}\n",
            m.date,
            if self.config.quick {
                " · QUICK run"
            } else {
                ""
            },
            m.cpus,
            m.cpu_model,
            m.memory,
            m.kernel,
            self.pg_version,
            self.wrk_version,
            m.commit
        );
        let _ = writeln!(
            out,
            "{} connections, {} load-generator threads, {} s per operation after a {} s warm-up; \
             the same for pgbench. {} round(s), the operations interleaved; each row is the \
             operation's median round (by ratio for reads, by req/s for writes; every round \
             under Observations). Data: {USERS} users, {POSTS} posts.\n",
            load.connections,
            load.threads,
            load.duration.as_secs(),
            load.warmup.as_secs(),
            self.config.rounds
        );

        if !self.ops.is_empty() {
            let _ = writeln!(
                out,
                "| operation | req/s | p50 | p99 | max | errors | pgbench tps | pgbench p50 / p99 / max | ratio | peak RSS |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        }
        for op in &self.ops {
            let (tps, latency, ratio) = match (&op.ceiling, op.ratio()) {
                (Some(c), Some(r)) => (
                    format!("{:.0}", c.tps),
                    format!("{} / {} / {}", ms(c.p50_ms), ms(c.p99_ms), ms(c.max_ms)),
                    pct(r),
                ),
                _ => ("–".into(), "–".into(), "–".into()),
            };
            let _ = writeln!(
                out,
                "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} |",
                op.label,
                op.load.requests_per_sec,
                ms(op.load.p50_ms),
                ms(op.load.p99_ms),
                ms(op.load.max_ms),
                op.errors(),
                tps,
                latency,
                ratio,
                mib(op.peak_rss_kb)
            );
        }

        if !self.revocation.is_empty() {
            out.push_str(&crate::revocation::markdown(&self.revocation, m.cpus));
        }

        let (build_best, build_median) = best_median(&self.startup.build_api);
        let (serve_best, serve_median) = best_median(&self.startup.serve);
        let _ = writeln!(
            out,
            "\npostgraph RSS: {} idle after startup, {} peak (VmHWM) over the whole run.\n",
            mib(self.idle_rss_kb),
            mib(self.peak_rss_kb)
        );
        let _ = writeln!(
            out,
            "Startup on {} generated tables (bench/generate_schema.sql): \
             introspection + schema build {} best / {} median of {} runs (the introspection \
             query alone: {} best); `postgraph serve` from spawn to /health {} best / {} median \
             (RSS {} once up). GraphiQL's introspection query: {}; peak RSS after it {}.\n",
            self.startup.tables,
            secs_ms(build_best),
            secs_ms(build_median),
            self.startup.build_api.len(),
            secs_ms(self.startup.introspection),
            secs_ms(serve_best),
            secs_ms(serve_median),
            mib(self.startup.serve_rss_kb),
            self.startup
                .introspection_answers
                .iter()
                .map(|(t, bytes)| format!("{} ({:.1} MB)", secs_ms(*t), *bytes as f64 / 1e6))
                .collect::<Vec<_>>()
                .join(", then from the cache "),
            mib(self.startup.introspection_peak_kb)
        );

        if !self.ops.is_empty() {
            let _ = writeln!(
                out,
                "Where the CPU goes, in µs per request (per transaction under pgbench), and how \
                 much of the machine other processes took meanwhile (noise):\n"
            );
            let _ = writeln!(
                out,
                "| operation | postgraph | Postgres | wrk | other processes | Postgres under pgbench | pgbench | other processes |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|");
        }
        for op in &self.ops {
            let (pg, client, other) = match &op.ceiling {
                Some(c) if c.transactions > 0 => {
                    let per = |secs: f64| format!("{:.0}", secs * 1e6 / c.transactions as f64);
                    (
                        per(c.cpu.postgres),
                        per(c.cpu.load_generator),
                        share(c.cpu.other, c.cpu.capacity),
                    )
                }
                _ => ("–".into(), "–".into(), "–".into()),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                op.name,
                op.per_request(op.cpu.server),
                op.per_request(op.cpu.postgres),
                op.per_request(op.cpu.load_generator),
                share(op.cpu.other, op.cpu.capacity),
                pg,
                client,
                other
            );
        }

        if self.ops.iter().any(|op| !op.statements.is_empty()) {
            let _ = writeln!(
                out,
                "\nStatements Postgres ran per request behind postgraph (pg_stat_statements; \
                 parse and protocol work not included):\n"
            );
            let _ = writeln!(
                out,
                "| operation | statement | calls per request | exec µs per call | plans per \
                 request | plan µs per plan |"
            );
            let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
            for op in &self.ops {
                let requests = op.load.requests.max(1) as f64;
                for st in &op.statements {
                    let query: String = st.query.split_whitespace().collect::<Vec<_>>().join(" ");
                    let query: String = query.chars().take(70).collect();
                    let _ = writeln!(
                        out,
                        "| {} | `{}` | {:.2} | {:.0} | {:.2} | {:.0} |",
                        op.name,
                        query.replace('|', "\\|"),
                        st.calls as f64 / requests,
                        st.exec_ms * 1000.0 / st.calls.max(1) as f64,
                        st.plans as f64 / requests,
                        st.plan_ms * 1000.0 / st.plans.max(1) as f64
                    );
                }
            }
        }

        if let Some(events) = &self.events {
            out.push_str(&crate::events::markdown(events));
        }

        let _ = writeln!(out, "\n## Goals (issue 3)\n");
        for line in self.goals(build_median) {
            let _ = writeln!(out, "- {line}");
        }

        let noisy = self.ops.iter().filter_map(|op| {
            let share = op.cpu.other / op.cpu.capacity.max(1e-9);
            (share > NOISE).then(|| {
                format!(
                    "{}: other processes took {:.0} % of the machine during the run; its figures \
                     are disturbed",
                    op.name,
                    share * 100.0
                )
            })
        });
        let notes: Vec<String> = self
            .ops
            .iter()
            .flat_map(|op| op.notes.iter().map(move |n| format!("{}: {n}", op.name)))
            .chain(noisy)
            .chain(self.log_problems.iter().take(10).map(|(n, l)| {
                format!(
                    "postgraph logged {n} × `{}`",
                    l.chars().take(200).collect::<String>()
                )
            }))
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(out, "\n## Observations\n");
            for note in notes {
                let _ = writeln!(out, "- {note}");
            }
            if self.log_problems.len() > 10 {
                let _ = writeln!(
                    out,
                    "- … and {} more distinct warning/error lines in postgraph's log",
                    self.log_problems.len() - 10
                );
            }
        }

        let _ = writeln!(out, "\n## How it was measured\n");
        let _ = writeln!(
            out,
            "- `cargo bench --bench load` (bench/README.md). Load generator, postgraph and \
             Postgres share the same {} CPUs: on a 2-core machine req/s, tps and ratios move by \
             10–30 % between runs even when nothing else runs, so compare several runs, on one \
             machine only.",
            m.cpus
        );
        let _ = writeln!(
            out,
            "- Embedded Postgres with fsync, synchronous_commit and full_page_writes off \
             (throwaway data); postgraph and pgbench both reach it over its unix socket. \
             postgraph runs with its default pool size{} and RUST_LOG={}.",
            self.config
                .pool_size
                .map(|s| format!(" overridden to {s}"))
                .unwrap_or_default(),
            self.config.rust_log
        );
        let _ = writeln!(
            out,
            "- errors = non-2xx responses + socket errors counted by wrk; one response per \
             operation is also checked before and after its run (HTTP 200, no `errors`, the \
             expected data)."
        );
        let _ = writeln!(
            out,
            "- p50/p99 are wrk's, which corrects for coordinated omission: one request stalled \
             for X ms also counts the requests its connection could not send meanwhile, so a \
             single stall (see max) can lift p99 far above the typical latency. pgbench's \
             percentiles come from its per-transaction log, without that correction."
        );
        let _ = writeln!(
            out,
            "- ratio = postgraph req/s ÷ pgbench tps. pgbench (`-M prepared`, same connections \
             and threads, as app_authenticator) runs the SQL postgraph generates for the \
             operation, taken from the library (plan → sql), parameters inlined, in the \
             transaction `begin; select set_config('role', …), set_config('statement_timeout', \
             …), <claims>; <query>; commit`."
        );
        let _ = writeln!(
            out,
            "- Reads select the lowest ids (`allPosts(first: 20)` in primary-key order, the first \
             10 users, post {POST_ID}); `createPost` runs after every read, as a `writer` \
             account whose new rows get the highest ids, so writes never change what reads see. \
             Every account shares one bcrypt hash (cost 6, pgcrypto's default), so `signin` \
             measures one bcrypt verification per request."
        );
        let _ = writeln!(
            out,
            "- Peak RSS per operation: highest VmRSS sampled every 50 ms during its run."
        );
        out
    }

    fn goals(&self, startup_median: Duration) -> Vec<String> {
        let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
        let mut lines = Vec::new();
        let reads: Vec<&OpResult> = self
            .ops
            .iter()
            .filter(|o| o.ratio().is_some() && !o.write)
            .collect();
        if !reads.is_empty() {
            let worst = reads
                .iter()
                .map(|o| o.ratio().unwrap_or(0.0))
                .fold(f64::INFINITY, f64::min);
            let each: Vec<String> = reads
                .iter()
                .map(|o| format!("{} {}", o.name, pct(o.ratio().unwrap_or(0.0))))
                .collect();
            lines.push(format!(
                "reads ≥ 70 % of the pgbench ceiling (issue 22: ≥ 100 %): {} ({})",
                verdict(worst >= 0.7),
                each.join(", ")
            ));
        }
        for w in self.ops.iter().filter(|o| o.write) {
            if let Some(r) = w.ratio() {
                lines.push(format!(
                    "{} ≥ 90 % of pgbench running its statements (issue 22): {} ({})",
                    w.name,
                    verdict(r >= 0.9),
                    pct(r)
                ));
            }
        }
        let find = |name: &str| self.ops.iter().find(|o| o.name == name);
        if let (Some(anon), Some(auth)) = (find("list"), find("list-auth")) {
            let r = auth.load.requests_per_sec / anon.load.requests_per_sec.max(1e-9);
            lines.push(format!(
                "the list with a Bearer token ≥ 80 % of the anonymous list: {} ({:.1} %)",
                verdict(r >= 0.8),
                r * 100.0
            ));
        }
        let over: Vec<String> = self
            .ops
            .iter()
            .filter(|o| o.load.p99_ms > 2.0 * o.load.p50_ms)
            .map(|o| format!("{} p99/p50 = {:.1}", o.name, o.load.p99_ms / o.load.p50_ms))
            .collect();
        lines.push(format!(
            "p99 ≤ 2 × p50: {}{}",
            verdict(over.is_empty()),
            if over.is_empty() {
                String::new()
            } else {
                format!(" ({})", over.join(", "))
            }
        ));
        lines.push(format!(
            "peak RSS under load ≤ 50 MB: {} ({})",
            verdict(self.peak_rss_kb as f64 * 1024.0 <= 50e6),
            mib(self.peak_rss_kb)
        ));
        lines.push(format!(
            "startup on {} tables < 1 s: {} ({} median)",
            self.startup.tables,
            verdict(startup_median < Duration::from_secs(1)),
            secs_ms(startup_median)
        ));
        // Issue 23: 20,000 tables introspected without the process passing 1 GiB.
        lines.push(format!(
            "peak RSS after GraphiQL's introspection query on {} tables ≤ 1 GiB: {} ({})",
            self.startup.tables,
            verdict(self.startup.introspection_peak_kb <= 1024 * 1024),
            mib(self.startup.introspection_peak_kb)
        ));
        lines
    }
}
