//! The per-person join: which touches are eligible for which order.
//!
//! A touch counts for a paid order of the same person when
//! `order_time - lookback(event_type) <= event_time <= order_time`, both ends
//! inclusive. Touches arrive sorted by (event_time, event_id) and orders by
//! (order_time, order_id), so one forward sweep with two cursors finds every
//! order's window; each order looks back on its own, so orders may share
//! touches. This is the whole contract between drivers and models: the
//! in-memory driver (`partition`) and a future streaming driver fed person
//! by person both hand a [`PersonView`] to a [`Walker`].

use super::config::Lookback;
use super::input::DictColumn;
use crate::error::CoreResult;

/// The rows of one person, sorted. Indices point into the input columns.
#[derive(Debug, Clone, Copy)]
pub struct PersonView<'s> {
    /// Touch times, non-decreasing (ties already ordered by event_id).
    pub touch_time: &'s [i64],
    /// Input row of each touch.
    pub touch_idx: &'s [u32],
    /// The driver's per-touch payload (e.g. the channel rank), or empty.
    pub touch_payload: &'s [u32],
    /// Paid order times, non-decreasing.
    pub order_time: &'s [i64],
    /// Input row of each paid order.
    pub order_idx: &'s [u32],
    /// Amount of each paid order, or empty when the pass needs none.
    pub order_amount: &'s [f64],
}

/// What a pass does with the join's output.
pub(crate) trait Visitor {
    /// Called for every paid order, in time order, with the positions (into
    /// the view's touches) of its eligible touches, in touch order; empty
    /// when the order is unattributed.
    fn order(&mut self, view: &PersonView<'_>, order: usize, eligible: &[u32]);

    /// Whether [`Visitor::non_converting`] should be called.
    fn wants_non_converting(&self) -> bool {
        false
    }

    /// Called once per person with the touches eligible for no paid order
    /// (in touch order), if any: the person's non-converting path.
    fn non_converting(&mut self, _view: &PersonView<'_>, _touches: &[u32]) {}
}

/// Lookback windows resolved to milliseconds per event-type code.
#[derive(Debug, Clone)]
pub(crate) struct Eligibility {
    max_ms: i64,
    /// `None` when every type has the same window (no per-touch type lookup).
    by_type: Option<Vec<i64>>,
}

impl Eligibility {
    pub(crate) fn new(lookback: &Lookback, event_type: &DictColumn) -> CoreResult<Self> {
        lookback.validate()?;
        let default_ms = lookback.millis_of(None);
        let by_code: Vec<i64> = event_type
            .values
            .iter()
            .map(|v| lookback.millis_of(v.as_deref()))
            .collect();
        let max_ms = by_code.iter().copied().fold(default_ms, i64::max);
        let uniform = by_code.iter().all(|&ms| ms == default_ms);
        Ok(Eligibility {
            max_ms,
            by_type: (!uniform).then_some(by_code),
        })
    }
}

/// Reusable per-chunk state of the sweep.
pub(crate) struct Walker<'a> {
    elig: &'a Eligibility,
    types: &'a [u32],
    eligible: Vec<u32>,
    used: Vec<bool>,
    rest: Vec<u32>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(elig: &'a Eligibility, event_type: &'a DictColumn) -> Self {
        Walker {
            elig,
            types: &event_type.codes,
            eligible: Vec::new(),
            used: Vec::new(),
            rest: Vec::new(),
        }
    }

    /// Sweep one person's orders and hand each order's eligible touches to
    /// `visitor`.
    pub(crate) fn walk<V: Visitor>(&mut self, view: &PersonView<'_>, visitor: &mut V) {
        let times = view.touch_time;
        let n = times.len();
        let track = visitor.wants_non_converting();
        if track {
            self.used.clear();
            self.used.resize(n, false);
        }
        let (mut lo, mut hi) = (0usize, 0usize);
        for (o, &t) in view.order_time.iter().enumerate() {
            while hi < n && times[hi] <= t {
                hi += 1;
            }
            let start = t.saturating_sub(self.elig.max_ms);
            while lo < hi && times[lo] < start {
                lo += 1;
            }
            self.eligible.clear();
            match &self.elig.by_type {
                None => self.eligible.extend(lo as u32..hi as u32),
                Some(window) => {
                    for (p, &time) in times.iter().enumerate().take(hi).skip(lo) {
                        let code = self.types[view.touch_idx[p] as usize] as usize;
                        if time >= t.saturating_sub(window[code]) {
                            self.eligible.push(p as u32);
                        }
                    }
                }
            }
            if track {
                for &p in &self.eligible {
                    self.used[p as usize] = true;
                }
            }
            visitor.order(view, o, &self.eligible);
        }
        if track {
            self.rest.clear();
            self.rest
                .extend((0..n as u32).filter(|&p| !self.used[p as usize]));
            if !self.rest.is_empty() {
                visitor.non_converting(view, &self.rest);
            }
        }
    }
}
