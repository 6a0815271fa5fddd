//! AIPL: Alibaba's consumer funnel stage per person as of a date.
//!
//! * **A** (aware): a passive contact within 15 days: `impression`, `search`
//!   (on these platforms mostly category search; a brand search is an active
//!   signal the canonical events cannot tell apart) and `video_view` (feed
//!   video views are counted on autoplay, so they show exposure, not intent).
//! * **I** (interest): an active contact within 15 days: `click`,
//!   `product_view`, `follow`, `favorite`, `add_to_cart`, `comment`, `share`,
//!   `like`, `store_visit`, `live_view` (entering a live room is a choice),
//!   `note_read` (opening a note is a click).
//! * **P** (purchase): a paid order within 365 days.
//! * **L** (loyalty): within 365 days, at least 2 paid orders (a repeat
//!   purchase), or a paid order followed (at the same time or later) by a
//!   loyalty event: `share`, or `review` for plugins that emit reviews.
//!   Plain `comment` does not count: its sentiment is unknown, and a
//!   complaint is not loyalty.
//!
//! Windows are inclusive (`as_of - window <= t <= as_of`); anything after
//! `as_of` is ignored. The highest stage reached wins (L > P > I > A);
//! persons who reach none are left out. Refunded and cancelled orders never
//! count. Every window and event set is configurable in [`AiplRules`].

use rayon::prelude::*;

use super::config::DAY_MS;
use super::input::{Ids, Orders, Touchpoints};
use super::partition::{run_chunks, Partitioned};
use crate::error::{CoreError, CoreResult};

/// A funnel stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Aware.
    A,
    /// Interest.
    I,
    /// Purchase.
    P,
    /// Loyalty.
    L,
}

impl Stage {
    /// `"A"`, `"I"`, `"P"` or `"L"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::A => "A",
            Stage::I => "I",
            Stage::P => "P",
            Stage::L => "L",
        }
    }
}

/// Event sets and windows of the AIPL stages (defaults in the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct AiplRules {
    /// Passive event types (stage A).
    pub aware_events: Vec<String>,
    /// Active event types (stage I).
    pub interest_events: Vec<String>,
    /// Event types that show loyalty after a purchase (stage L).
    pub loyalty_events: Vec<String>,
    /// Window of stage A, days.
    pub aware_days: f64,
    /// Window of stage I, days.
    pub interest_days: f64,
    /// Window of stage P, days.
    pub purchase_days: f64,
    /// Window of stage L, days.
    pub loyalty_days: f64,
    /// Paid orders within the L window that make a repeat buyer.
    pub repeat_orders: u32,
}

impl Default for AiplRules {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        AiplRules {
            aware_events: s(&["impression", "search", "video_view"]),
            interest_events: s(&[
                "click",
                "product_view",
                "follow",
                "favorite",
                "add_to_cart",
                "comment",
                "share",
                "like",
                "store_visit",
                "live_view",
                "note_read",
            ]),
            loyalty_events: s(&["share", "review"]),
            aware_days: 15.0,
            interest_days: 15.0,
            purchase_days: 365.0,
            loyalty_days: 365.0,
            repeat_orders: 2,
        }
    }
}

/// One row per staged person, ascending person id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AiplOutput {
    /// Person id.
    pub person: Vec<i64>,
    /// Highest stage reached.
    pub stage: Vec<Stage>,
}

const AWARE: u8 = 1;
const INTEREST: u8 = 2;
const LOYAL: u8 = 4;

/// Stage of every person with a qualifying touch or paid order at `as_of`
/// (ms UTC).
pub fn aipl(
    touches: &Touchpoints<'_>,
    orders: &Orders<'_>,
    as_of: i64,
    rules: &AiplRules,
) -> CoreResult<AiplOutput> {
    touches.validate()?;
    orders.validate()?;
    let windows = [
        rules.aware_days,
        rules.interest_days,
        rules.purchase_days,
        rules.loyalty_days,
    ];
    if windows
        .iter()
        .any(|d| !(d.is_finite() && (0.0..=36_500.0).contains(d)))
    {
        return Err(CoreError::invalid(format!(
            "AIPL windows must be between 0 and 36500 days, got {windows:?}"
        )));
    }
    if rules.repeat_orders == 0 {
        return Err(CoreError::invalid("AIPL repeat_orders must be at least 1"));
    }
    let from = |d: f64| as_of.saturating_sub((d * DAY_MS).round() as i64);
    let (a_from, i_from) = (from(rules.aware_days), from(rules.interest_days));
    let (p_from, l_from) = (from(rules.purchase_days), from(rules.loyalty_days));
    let has = |set: &[String], v: &Option<String>| {
        v.as_deref().is_some_and(|v| set.iter().any(|s| s == v))
    };
    let class: Vec<u8> = touches
        .event_type
        .values
        .iter()
        .map(|v| {
            (has(&rules.aware_events, v) as u8 * AWARE)
                | (has(&rules.interest_events, v) as u8 * INTEREST)
                | (has(&rules.loyalty_events, v) as u8 * LOYAL)
        })
        .collect();
    let types = &touches.event_type.codes;
    let touch_flags = |i: usize| -> u8 {
        let t = touches.event_time[i];
        if t > as_of {
            return 0;
        }
        let c = class[types[i] as usize];
        ((c & AWARE) * (t >= a_from) as u8)
            | ((c & INTEREST) * (t >= i_from) as u8)
            | ((c & LOYAL) * (t >= l_from) as u8)
    };
    let order_from = p_from.min(l_from);
    crate::parallel::install(|| {
        let keep_t: Vec<bool> = (0..touches.len())
            .into_par_iter()
            .map(|i| touch_flags(i) != 0)
            .collect();
        let keep_o: Vec<bool> = (0..orders.len())
            .into_par_iter()
            .map(|i| orders.paid[i] && (order_from..=as_of).contains(&orders.order_time[i]))
            .collect();
        let flags_of = |i: usize| touch_flags(i) as u32;
        let (t_person, t_time) = (touches.person, touches.event_time);
        let tp = Partitioned::build(
            t_person,
            t_time,
            Some(&keep_t),
            None,
            Some(&flags_of),
            &Ids::RowOrder,
        )?;
        let (o_person, o_time) = (orders.person, orders.order_time);
        let op: Partitioned<f64> =
            Partitioned::build(o_person, o_time, Some(&keep_o), None, None, &Ids::RowOrder)?;
        drop((keep_t, keep_o));
        let chunks = run_chunks(
            &tp,
            &op,
            true,
            Vec::new,
            |out: &mut Vec<(i64, Stage)>, view| {
                let (mut flags, mut loyal) = (0u8, false);
                let times = view.order_time;
                let l_orders = times.iter().filter(|&&t| t >= l_from).count();
                let first_l_order = times.iter().copied().find(|&t| t >= l_from);
                let first_l_order = first_l_order.unwrap_or(i64::MAX);
                // The partition carries each touch's flags as its payload.
                for (&t, &f) in view.touch_time.iter().zip(view.touch_payload) {
                    let f = f as u8;
                    flags |= f & (AWARE | INTEREST);
                    if f & LOYAL != 0 && t >= first_l_order {
                        loyal = true;
                    }
                }
                let purchased = view.order_time.iter().any(|&t| t >= p_from);
                let stage = if l_orders >= rules.repeat_orders as usize || loyal {
                    Some(Stage::L)
                } else if purchased {
                    Some(Stage::P)
                } else if flags & INTEREST != 0 {
                    Some(Stage::I)
                } else if flags & AWARE != 0 {
                    Some(Stage::A)
                } else {
                    None
                };
                if let Some(stage) = stage {
                    let person = match view.touch_idx.first() {
                        Some(&r) => touches.person[r as usize],
                        None => orders.person[view.order_idx[0] as usize],
                    };
                    out.push((person, stage));
                }
            },
        );
        let mut rows: Vec<(i64, Stage)> = chunks.into_iter().flatten().collect();
        rows.par_sort_unstable_by_key(|r| r.0);
        let (person, stage) = rows.into_iter().unzip();
        Ok(AiplOutput { person, stage })
    })
}
