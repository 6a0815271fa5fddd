//! Small memory helpers shared by the stitching phases.

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
