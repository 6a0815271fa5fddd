//! "Without allocating": a hostile header must be refused before any
//! pixel-sized buffer exists. A tracking allocator records the largest
//! single allocation made by the current thread while a check is running.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use super::decode::{jpeg_claiming, png_claiming, webp_claiming};
use super::*;
use crate::CoreError;

struct PeakAlloc;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = TRACKING.try_with(|t| {
        if t.get() {
            let _ = PEAK.try_with(|p| p.set(p.get().max(size)));
        }
    });
}

// SAFETY: every call forwards to the system allocator unchanged; the
// bookkeeping only touches const-initialised thread-locals, which never
// allocate.
unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: PeakAlloc = PeakAlloc;

/// Run `f`, returning its result and the largest single allocation it made
/// on this thread.
fn largest_allocation<R>(f: impl FnOnce() -> R) -> (R, usize) {
    PEAK.with(|p| p.set(0));
    TRACKING.with(|t| t.set(true));
    let r = f();
    TRACKING.with(|t| t.set(false));
    (r, PEAK.with(|p| p.get()))
}

#[test]
fn hostile_headers_are_refused_before_allocating_pixels() {
    for (name, bytes) in [
        ("jpeg", jpeg_claiming(60_000, 60_000)),
        ("png", png_claiming(100_000, 100_000)),
        ("webp", webp_claiming(16_000, 16_000)),
    ] {
        let (result, peak) =
            largest_allocation(|| fingerprint_bytes(&bytes, &FingerprintConfig::default()));
        assert!(
            matches!(result, Err(CoreError::LimitExceeded(_))),
            "{name}: {result:?}"
        );
        assert!(peak < 1 << 20, "{name}: largest allocation {peak} bytes");
    }
}

#[test]
fn the_tracker_sees_allocations() {
    let (v, peak) = largest_allocation(|| vec![0u8; 5 << 20]);
    assert_eq!(v.len(), 5 << 20);
    assert!(peak >= 5 << 20);
}
