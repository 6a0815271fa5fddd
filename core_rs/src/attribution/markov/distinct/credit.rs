//! The two credit splits of [`PathEffects`]: ChannelAttribution's (all
//! conversions times each channel's share of the removal effects) and
//! `omniplug.attribute`'s (each path's conversions over its distinct
//! channels in proportion to their removal effects).

use super::{DistinctPaths, PathEffects};

/// Both credit splits of [`PathEffects`] for the given removal effects.
pub(super) fn credit(paths: &DistinctPaths, effects: Vec<f64>) -> PathEffects {
    let n = effects.len();
    let mut credit = Credit::new(effects, paths.values.is_some());
    let mut distinct: Vec<u32> = Vec::new();
    for i in 0..paths.len() {
        let c = paths.conversions[i];
        if c <= 0.0 {
            continue;
        }
        distinct.clear();
        if n <= 64 {
            // Distinct channels in ascending order from a bit set (no sort).
            let mut mask = paths.path(i).iter().fold(0u64, |m, &d| m | 1 << d);
            while mask != 0 {
                distinct.push(mask.trailing_zeros());
                mask &= mask - 1;
            }
        } else {
            distinct.extend_from_slice(paths.path(i));
            distinct.sort_unstable();
            distinct.dedup();
        }
        credit.add(&distinct, c, paths.values.as_ref().map(|v| v[i]));
    }
    let total_conv: f64 = paths.conversions.iter().sum();
    let total_value: Option<f64> = paths.values.as_ref().map(|v| v.iter().sum());
    credit.finish(paths.channels.clone(), total_conv, total_value)
}

/// The per-path credit split, path by path in table order.
pub(super) struct Credit {
    effects: Vec<f64>,
    path_conv: Vec<f64>,
    path_val: Option<Vec<f64>>,
}

impl Credit {
    pub(super) fn new(effects: Vec<f64>, with_values: bool) -> Self {
        let n = effects.len();
        Credit {
            effects,
            path_conv: vec![0.0; n],
            path_val: with_values.then(|| vec![0.0; n]),
        }
    }

    /// A path with `conversions` > 0 (and its value) over its distinct
    /// channels `distinct`, ascending.
    pub(super) fn add(&mut self, distinct: &[u32], conversions: f64, value: Option<f64>) {
        let effects = &self.effects;
        let total: f64 = distinct.iter().map(|&d| effects[d as usize]).sum();
        for &d in distinct {
            let share = if total > 0.0 {
                effects[d as usize] / total
            } else {
                1.0 / distinct.len() as f64
            };
            self.path_conv[d as usize] += share * conversions;
            if let (Some(pv), Some(v)) = (&mut self.path_val, value) {
                pv[d as usize] += share * v;
            }
        }
    }

    /// The result, given all conversions and all value (for the shares).
    pub(super) fn finish(
        self,
        channels: Vec<String>,
        total_conv: f64,
        total_value: Option<f64>,
    ) -> PathEffects {
        let effects = self.effects;
        let sum: f64 = effects.iter().sum();
        let shares: Vec<f64> = effects
            .iter()
            .map(|&e| if sum > 0.0 { e / sum } else { 0.0 })
            .collect();
        PathEffects {
            channels,
            conversions: shares.iter().map(|s| s * total_conv).collect(),
            values: total_value.map(|total| shares.iter().map(|s| s * total).collect()),
            removal_effects: effects,
            shares,
            path_conversions: self.path_conv,
            path_values: self.path_val,
        }
    }
}
