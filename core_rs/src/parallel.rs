//! Parallelism policy for the core.
//!
//! All heavy work runs on rayon. Two switches, after the `tokenizers` crate:
//! * `OMNIPLUG_NUM_THREADS=N` caps the threads (1 makes every call serial,
//!   useful to check that results do not depend on the thread count);
//! * after `fork()` the parent's global pool has no threads in the child
//!   (Spark and multiprocessing fork workers), so the Python side calls
//!   [`mark_forked`] from an at-fork handler and later calls run on a fresh
//!   pool built in the child.

use std::sync::atomic::{AtomicBool, Ordering};

static FORKED: AtomicBool = AtomicBool::new(false);

/// Record that this process is a fork child; the global pool is unusable.
pub fn mark_forked() {
    FORKED.store(true, Ordering::SeqCst);
}

/// Threads requested through `OMNIPLUG_NUM_THREADS`, if any.
pub fn requested_threads() -> Option<usize> {
    std::env::var("OMNIPLUG_NUM_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
}

/// The number of threads a call to [`install`] will use.
pub fn current_num_threads() -> usize {
    match requested_threads() {
        Some(n) => n,
        None if FORKED.load(Ordering::SeqCst) => 1,
        None => rayon::current_num_threads(),
    }
}

/// Run `f` on the right pool: the global one normally, a private one when a
/// thread cap is set or the process was forked.
pub fn install<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    let forked = FORKED.load(Ordering::SeqCst);
    match (requested_threads(), forked) {
        (None, false) => f(),
        (n, _) => {
            let threads = n.unwrap_or(1);
            match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
                Ok(pool) => pool.install(f),
                // Could not spawn threads (e.g. in a restricted child): run here.
                Err(_) => f(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn install_runs_work_and_returns_result() {
        let total: u64 = install(|| (0..1000u64).into_par_iter().sum());
        assert_eq!(total, 499_500);
    }
}
