//! Process figures from /proc: memory (VmRSS, VmHWM) and CPU time, for postgraph and for the
//! Postgres cluster.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// A `kB` field of /proc/<pid>/status, e.g. VmRSS (resident now) or VmHWM (peak resident).
pub fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(key)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The fields of /proc/<pid>/stat after the command name (which may contain spaces):
/// [0] state, [1] ppid, ..., [11] utime, [12] stime, [13] cutime, [14] cstime, in clock ticks.
fn stat_fields(pid: &str) -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    // The state is a letter; keep its slot so that indices match the comment above.
    Some(
        rest.split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU seconds (user + system) used by one process so far, all threads.
fn process_cpu(pid: u32) -> f64 {
    match stat_fields(&pid.to_string()) {
        Some(f) if f.len() > 12 => (f[11] + f[12]) as f64 / clock_ticks_per_second(),
        _ => 0.0,
    }
}

/// CPU seconds used by the whole cluster so far: the postmaster, its live children (backends,
/// background workers) and, through the postmaster's cutime/cstime, the children already gone
/// (e.g. pgbench's connections).
fn cluster_cpu(postmaster: u32) -> f64 {
    let ticks = clock_ticks_per_second();
    let mut total = match stat_fields(&postmaster.to_string()) {
        Some(f) if f.len() > 14 => (f[11] + f[12] + f[13] + f[14]) as f64 / ticks,
        _ => 0.0,
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return total;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if let Some(f) = stat_fields(pid) {
            if f.len() > 12 && f[1] == u64::from(postmaster) {
                total += (f[11] + f[12]) as f64 / ticks;
            }
        }
    }
    total
}

/// Busy and total CPU seconds of the whole machine so far (first line of /proc/stat).
fn machine_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let field = |i: usize| ticks.get(i).copied().unwrap_or(0.0);
    let busy = field(0) + field(1) + field(2) + field(5) + field(6) + field(7);
    let total = busy + field(3) + field(4);
    let per_second = clock_ticks_per_second();
    (busy / per_second, total / per_second)
}

/// CPU seconds of this process and of its children already reaped: the load generator (wrk,
/// pgbench) once it has exited.
fn own_cpu() -> f64 {
    match stat_fields("self") {
        Some(f) if f.len() > 14 => {
            (f[11] + f[12] + f[13] + f[14]) as f64 / clock_ticks_per_second()
        }
        _ => 0.0,
    }
}

#[derive(Debug, Clone, Copy)]
struct CpuSnapshot {
    server: f64,
    postgres: f64,
    own: f64,
    machine_busy: f64,
    machine_total: f64,
}

impl CpuSnapshot {
    fn take(server: Option<u32>, postmaster: u32) -> CpuSnapshot {
        let (machine_busy, machine_total) = machine_cpu();
        CpuSnapshot {
            server: server.map_or(0.0, process_cpu),
            postgres: cluster_cpu(postmaster),
            own: own_cpu(),
            machine_busy,
            machine_total,
        }
    }
}

/// CPU seconds spent during one measurement, by whom.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUsage {
    pub server: f64,
    pub postgres: f64,
    /// The load generator and this benchmark process.
    pub load_generator: f64,
    /// Everything else on the machine (e.g. a compiler running meanwhile): noise.
    pub other: f64,
    /// CPU seconds the machine had over the measurement (wall time × CPUs).
    pub capacity: f64,
}

/// Measures [`CpuUsage`] between `start` and `stop`. Call `stop` after the load generator has
/// exited, so that its time is counted as ours rather than as other processes'.
pub struct CpuMeter {
    server: Option<u32>,
    postmaster: u32,
    start: CpuSnapshot,
}

impl CpuMeter {
    /// `server` None: no postgraph in this measurement (pgbench).
    pub fn start(server: Option<u32>, postmaster: u32) -> CpuMeter {
        CpuMeter {
            server,
            postmaster,
            start: CpuSnapshot::take(server, postmaster),
        }
    }

    pub fn stop(self) -> CpuUsage {
        let end = CpuSnapshot::take(self.server, self.postmaster);
        let server = end.server - self.start.server;
        let postgres = end.postgres - self.start.postgres;
        let load_generator = end.own - self.start.own;
        let busy = end.machine_busy - self.start.machine_busy;
        CpuUsage {
            server,
            postgres,
            load_generator,
            other: (busy - server - postgres - load_generator).max(0.0),
            capacity: end.machine_total - self.start.machine_total,
        }
    }
}

/// Samples a process's VmRSS every 50 ms in the background; `stop` gives the highest seen.
/// (VmHWM is the peak since the process started, so it cannot tell operations apart.)
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<u64>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(status_kb(pid, "VmRSS").unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            peak.max(status_kb(pid, "VmRSS").unwrap_or(0))
        });
        RssSampler { stop, task }
    }

    pub async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or(0)
    }
}
