//! A streaming replica of an embedded cluster: `pg_basebackup -R` (which writes the standby
//! settings) into a folder of its own, started as a hot standby on a free port. For tests
//! and benchmarks of read replicas; it stops and cleans up like any embedded cluster.

use super::{create_folder, EmbeddedError, EmbeddedPostgres, SUPERUSER};
use std::time::Instant;

impl EmbeddedPostgres {
    /// Starts a hot standby that streams this cluster's WAL (trust auth, as the primary).
    pub async fn start_replica(&self) -> Result<EmbeddedPostgres, EmbeddedError> {
        let started = Instant::now();
        let mut replica = EmbeddedPostgres {
            bin_dir: self.bin_dir.clone(),
            folder: create_folder(self.run_as)?,
            run_as: self.run_as,
            port: 0,
            child: None,
            watchdog: None,
            stopped: false,
            opts: self.opts.clone(),
        };
        replica.arm_watchdog();
        // Next to `postgres`, or next to what a `postgres` symlink on PATH points at.
        let real_dir = self
            .bin_dir
            .join("postgres")
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(std::path::Path::to_path_buf));
        let tool = [Some(self.bin_dir.clone()), real_dir]
            .into_iter()
            .flatten()
            .map(|d| d.join("pg_basebackup"))
            .find(|p| super::is_executable(p))
            .ok_or(EmbeddedError::NotFound)?;
        // An absolute path: `command` joins it onto nothing.
        let mut cmd = replica.command(&tool.display().to_string());
        cmd.arg("-D")
            .arg(replica.data_dir())
            .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"])
            .arg("-h")
            .arg(self.host())
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-U", SUPERUSER]);
        super::run_to_end(cmd, "pg_basebackup").await?;
        replica.serve_on_free_port(started).await
    }
}
