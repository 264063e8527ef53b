//! A CPU cgroup (cgroup v1's `cpu` controller, as root) that caps the processes started in it at
//! a share of one CPU: the cold-start benchmark runs the function at Lambda's 128 MB share,
//! 7.2% of one CPU, in one. The group is removed when dropped, whatever happened.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where cgroup v1 mounts its `cpu` controller.
const V1_CPU: &str = "/sys/fs/cgroup/cpu";

/// A capped CPU cgroup of cgroup v1, removed on drop (its processes killed first).
#[derive(Debug)]
pub struct CpuCgroup {
    root: PathBuf,
    path: PathBuf,
    quota: Duration,
    period: Duration,
}

impl CpuCgroup {
    /// Creates `/sys/fs/cgroup/cpu/<name>`, allowed `quota` of CPU time in every `period`.
    pub fn create(name: &str, quota: Duration, period: Duration) -> io::Result<Self> {
        let root = PathBuf::from(V1_CPU);
        if !root.join("cpu.cfs_quota_us").exists() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("no cgroup v1 cpu controller at {V1_CPU} (cpu.cfs_quota_us)"),
            ));
        }
        let path = root.join(name);
        std::fs::create_dir_all(&path)?;
        // From here on, drop removes the group even if a write fails.
        let group = Self {
            root,
            path,
            quota,
            period,
        };
        group.write("cpu.cfs_period_us", period.as_micros())?;
        group.write("cpu.cfs_quota_us", quota.as_micros())?;
        Ok(group)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The settings, as the kernel holds them, for the record.
    pub fn describe(&self) -> String {
        format!(
            "cgroup v1 {}: cpu.cfs_quota_us={} cpu.cfs_period_us={}",
            self.path.display(),
            self.quota.as_micros(),
            self.period.as_micros()
        )
    }

    /// The cap as a share of one CPU (0.072 for Lambda at 128 MB).
    pub fn share(&self) -> f64 {
        self.quota.as_secs_f64() / self.period.as_secs_f64()
    }

    /// Runs `spawn` with the calling thread inside the group, and puts the thread back.
    ///
    /// cgroup v1 moves single threads, so a child spawned by this thread (std uses posix_spawn:
    /// vfork + exec, nothing of ours runs in the child) is in the group from its first
    /// instruction, and the rest of the caller's process never is.
    pub fn spawn_inside<T>(&self, spawn: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
        let tid = current_thread_id()?;
        std::fs::write(self.path.join("tasks"), tid.to_string())?;
        let spawned = spawn();
        let left = std::fs::write(self.root.join("tasks"), tid.to_string());
        let spawned = spawned?;
        left?;
        Ok(spawned)
    }

    /// Whether `pid` is in this group, as its `/proc/<pid>/cgroup` says.
    pub fn holds(&self, pid: u32) -> bool {
        let Some(name) = self.path.file_name().and_then(|n| n.to_str()) else {
            return false;
        };
        std::fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|groups| {
            groups
                .lines()
                .any(|line| line.contains(":cpu") && line.ends_with(&format!("/{name}")))
        })
    }

    fn write(&self, file: &str, value: impl ToString) -> io::Result<()> {
        std::fs::write(self.path.join(file), value.to_string())
    }
}

impl Drop for CpuCgroup {
    fn drop(&mut self) {
        // A group can only be removed once it is empty; a process left in it (a run that failed
        // half-way) is killed first. The kernel takes a moment to let the group go.
        for _ in 0..50 {
            if let Ok(procs) = std::fs::read_to_string(self.path.join("cgroup.procs")) {
                for pid in procs.split_whitespace() {
                    let _ = std::process::Command::new("kill")
                        .args(["-KILL", pid])
                        .status();
                }
            }
            if std::fs::remove_dir(&self.path).is_ok() || !self.path.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "warning: could not remove the cgroup {}",
            self.path.display()
        );
    }
}

/// The kernel's id of the calling thread (`gettid`), which `/proc/thread-self` points at.
fn current_thread_id() -> io::Result<u32> {
    let link = std::fs::read_link("/proc/thread-self")?;
    link.file_name()
        .and_then(|tid| tid.to_str())
        .and_then(|tid| tid.parse().ok())
        .ok_or_else(|| io::Error::other(format!("/proc/thread-self -> {}", link.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calling_thread_has_a_kernel_id_of_its_own() {
        let mine = current_thread_id().unwrap();
        let other = std::thread::spawn(|| current_thread_id().unwrap())
            .join()
            .unwrap();
        assert_ne!(mine, other);
        let task = format!("/proc/{}/task/{mine}", std::process::id());
        assert!(Path::new(&task).exists(), "{task}");
    }
}
