//! Small memory and timing helpers shared by the stitching phases.

use std::time::{Duration, Instant};

/// Wall and CPU time of each phase of one run, for profiling (not
/// deterministic, never part of the results proper).
#[derive(Debug, Clone, Default)]
pub struct Phases {
    /// (phase name, wall time, CPU time of the whole process) in the order
    /// the phases ran. CPU time is read from `/proc/self/stat` (zero where
    /// that file does not exist) and counts every thread of the process.
    pub list: Vec<(&'static str, Duration, Duration)>,
    /// Resident memory of the process (bytes, from `/proc/self/statm`) at
    /// the end of each phase of `list`.
    pub resident: Vec<u64>,
    last: Option<(Instant, Duration)>,
}

impl Phases {
    /// Start timing.
    pub(crate) fn start() -> Phases {
        Phases {
            list: Vec::new(),
            resident: Vec::new(),
            last: Some((Instant::now(), process_cpu())),
        }
    }

    /// Close the phase that ran since the last mark under `name`.
    pub(crate) fn mark(&mut self, name: &'static str) {
        let now = (Instant::now(), process_cpu());
        if let Some((t, c)) = self.last {
            self.list.push((name, now.0 - t, now.1.saturating_sub(c)));
            self.resident.push(resident_bytes());
        }
        self.last = Some(now);
    }
}

/// Resident set size (4 KiB pages assumed, as on x86_64 and aarch64 Linux).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// User + system CPU time of this process so far (clock ticks of 10 ms).
fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) in parens.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let ticks: u64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Hint that the cache line at `p` will be read soon. A no-op where the
/// architecture has no stable prefetch instruction.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint without side effects and never faults,
    // whatever the address; SSE is baseline on x86_64.
    #[allow(unused_unsafe)]
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Split `slice` into consecutive pieces of the given lengths (which must
/// not add up to more than its length).
pub(crate) fn split_lengths<T>(
    mut slice: &mut [T],
    lens: impl IntoIterator<Item = usize>,
) -> Vec<&mut [T]> {
    let mut out = Vec::new();
    for l in lens {
        let (head, tail) = slice.split_at_mut(l);
        out.push(head);
        slice = tail;
    }
    out
}
