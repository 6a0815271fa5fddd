//! Union-find structures.
//!
//! [`ConcurrentUnionFind`] is the lock-free one for the unconstrained pass:
//! parents only ever point to a smaller id (a root is linked under the other
//! root when it is the larger one, by compare-and-swap), so no cycle can
//! form, every component's root ends as its smallest id whatever the thread
//! schedule, and path halving keeps long chains (rotating device ids) short.
//! Identifier ids come from hash shards, so linking by index behaves like
//! the randomized linking whose expected cost matches union by rank.
//!
//! [`LocalUnionFind`] is the sequential one of the guarded pass: union by
//! size with path halving, plus per-root counters of capped types.

use std::sync::atomic::{AtomicU32, Ordering::*};

use rayon::prelude::*;

/// Lock-free union-find over `0..n`.
pub(crate) struct ConcurrentUnionFind {
    parent: Vec<AtomicU32>,
}

impl ConcurrentUnionFind {
    /// `n` singletons.
    pub(crate) fn new(n: usize) -> Self {
        let parent = (0..n as u32).into_par_iter().map(AtomicU32::new).collect();
        ConcurrentUnionFind { parent }
    }

    /// The current root of `x`, halving the path on the way.
    #[inline]
    pub(crate) fn find(&self, mut x: u32) -> u32 {
        loop {
            let p = self.parent[x as usize].load(Relaxed);
            if p == x {
                return x;
            }
            let gp = self.parent[p as usize].load(Relaxed);
            if gp == p {
                return p;
            }
            // Another thread may have moved x already; any ancestor is fine.
            let _ = self.parent[x as usize].compare_exchange_weak(p, gp, Relaxed, Relaxed);
            x = gp;
        }
    }

    /// Join the sets of `a` and `b`; `true` if they were separate.
    #[inline]
    pub(crate) fn union(&self, a: u32, b: u32) -> bool {
        let (mut a, mut b) = (a, b);
        loop {
            a = self.find(a);
            b = self.find(b);
            if a == b {
                return false;
            }
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            // Succeeds only while `hi` is still a root.
            if self.parent[hi as usize]
                .compare_exchange(hi, lo, AcqRel, Relaxed)
                .is_ok()
            {
                return true;
            }
        }
    }

    /// Point every element straight at its root (the smallest id of its
    /// set) and return the parent array.
    pub(crate) fn into_roots(self) -> Vec<AtomicU32> {
        (0..self.parent.len() as u32)
            .into_par_iter()
            .with_min_len(1 << 14)
            .for_each(|x| {
                let r = self.find(x);
                self.parent[x as usize].store(r, Relaxed);
            });
        self.parent
    }
}

/// Sequential union-find by size with counters of capped identifier types.
pub(crate) struct LocalUnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
    /// `counts[root * slots + s]`: identifiers of capped type slot `s`.
    counts: Vec<u32>,
    slots: usize,
}

/// Why [`LocalUnionFind::try_union`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The combined set would exceed the size cap.
    Size,
    /// The combined set would exceed the cap of capped-type slot `s`.
    Type(usize),
}

/// Outcome of [`LocalUnionFind::try_union`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Union {
    /// Already in the same set.
    Same,
    /// Joined.
    Joined,
    /// Refused; sizes of the two sets.
    Refused(Refusal, u32, u32),
}

impl LocalUnionFind {
    /// Singletons; `slot_of[i]` is the capped-type slot of element `i`.
    pub(crate) fn new(slot_of: &[Option<usize>], slots: usize) -> Self {
        let n = slot_of.len();
        let mut counts = vec![0u32; n * slots];
        for (i, s) in slot_of.iter().enumerate() {
            if let Some(s) = s {
                counts[i * slots + s] = 1;
            }
        }
        LocalUnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            counts,
            slots,
        }
    }

    /// Root of `x` with path halving.
    pub(crate) fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let gp = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
        x
    }

    /// Join `a` and `b` unless the result would break a cap. `caps[s]` is
    /// the cap of slot `s`; slots are checked in order (priority order), so
    /// the reported slot is the most trusted type over its cap.
    pub(crate) fn try_union(
        &mut self,
        a: u32,
        b: u32,
        max_size: Option<u32>,
        caps: &[u32],
    ) -> Union {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return Union::Same;
        }
        let (sa, sb) = (self.size[ra as usize], self.size[rb as usize]);
        if max_size.is_some_and(|m| sa as u64 + sb as u64 > m as u64) {
            return Union::Refused(Refusal::Size, sa, sb);
        }
        let (oa, ob) = (ra as usize * self.slots, rb as usize * self.slots);
        for (s, &cap) in caps.iter().enumerate() {
            if self.counts[oa + s] as u64 + self.counts[ob + s] as u64 > cap as u64 {
                return Union::Refused(Refusal::Type(s), sa, sb);
            }
        }
        let (big, small) = if sa >= sb { (ra, rb) } else { (rb, ra) };
        self.parent[small as usize] = big;
        self.size[big as usize] = sa + sb;
        let (ob, os) = (big as usize * self.slots, small as usize * self.slots);
        for s in 0..self.slots {
            self.counts[ob + s] += self.counts[os + s];
        }
        Union::Joined
    }
}
