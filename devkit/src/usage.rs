//! What a process has used so far, read from `/proc`: CPU time of every thread, minor page
//! faults, peak resident memory. The cold-start benchmark reads it at each call the function
//! makes to the Runtime API stub, so that init and each invocation get their own share.

use std::time::Duration;

/// A reading of one process's `/proc` at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Time on CPU, summed over the live threads.
    pub cpu: Duration,
    /// How many threads were alive.
    pub threads: usize,
    /// Minor page faults of the whole process so far (exited threads included).
    pub minor_faults: u64,
}

impl Usage {
    /// Reads `pid`'s usage; `None` once the process is gone.
    ///
    /// CPU time is the first field of each thread's `schedstat` (nanoseconds on a CPU, counted by
    /// the scheduler: it does not depend on a CPU cap or on other load). Where the kernel has no
    /// schedstat, the process's `utime + stime` from `stat`, in clock ticks, stands in.
    pub fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields = stat_fields(&stat)?;
        let minor_faults = fields.get(MINFLT)?.parse().ok()?;
        let (mut cpu, mut threads) = (Duration::ZERO, 0);
        let mut schedstat_missing = false;
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))
            .ok()?
            .flatten()
        {
            // A thread that ends between the listing and the read is simply not counted.
            match std::fs::read_to_string(task.path().join("schedstat")) {
                Ok(text) => {
                    let nanos = text.split_whitespace().next().and_then(|n| n.parse().ok());
                    cpu += Duration::from_nanos(nanos.unwrap_or(0));
                    threads += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && task.path().exists() => {
                    schedstat_missing = true;
                    threads += 1;
                }
                Err(_) => {}
            }
        }
        if schedstat_missing {
            let ticks: u64 =
                fields.get(UTIME)?.parse::<u64>().ok()? + fields.get(STIME)?.parse::<u64>().ok()?;
            cpu = Duration::from_secs_f64(ticks as f64 / CLOCK_TICKS_PER_SECOND);
        }
        Some(Self {
            cpu,
            threads,
            minor_faults,
        })
    }
}

/// Peak resident memory of `pid` so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

// Indices in the fields after the command name of stat(5): minflt is field 10, utime 14, stime
// 15, counting from 1 with pid as field 1 and comm as field 2.
const MINFLT: usize = 7;
const UTIME: usize = 11;
const STIME: usize = 12;
/// `sysconf(_SC_CLK_TCK)`, 100 on every Linux architecture Lambda runs.
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// The fields of a `stat` line after `(comm)`, which may itself hold spaces and parentheses.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_some_cpu_and_has_at_least_one_thread() {
        let usage = Usage::of(std::process::id()).unwrap();
        assert!(usage.cpu > Duration::ZERO);
        assert!(usage.threads >= 1);
        assert!(usage.minor_faults > 0);
        assert!(peak_rss_kib(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn a_command_name_with_spaces_and_parentheses_does_not_shift_the_fields() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 1234 0 0 0 5 6 0 0 20 0 1 0";
        let fields = stat_fields(stat).unwrap();
        assert_eq!(fields[MINFLT], "1234");
        assert_eq!((fields[UTIME], fields[STIME]), ("5", "6"));
    }

    #[test]
    fn a_process_that_is_gone_has_no_usage() {
        assert_eq!(Usage::of(u32::MAX), None);
    }
}
