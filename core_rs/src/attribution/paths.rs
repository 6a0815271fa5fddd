//! The first pass of the data-driven models: collect channel paths
//! (converting and not) and estimate per-channel weights from them.

use super::aggregate::ChannelWeights;
use super::config::{AttributionConfig, Model};
use super::input::DictColumn;
use super::join::{PersonView, Visitor};
use super::markov::{self, TransitionCounts};
use super::shapley::{conversion_rate_shapley, CoalitionCounts};
use crate::error::CoreResult;

/// The channel column with its values ranked: the data-driven models number
/// channels by value rank rather than by dictionary code, so that their
/// states, coalitions and sums come out in the same order (and so bit for
/// bit the same) whatever the row order of the input.
pub(crate) struct ChannelColumn<'a> {
    codes: &'a [u32],
    values: &'a [Option<String>],
    rank_of_code: Vec<u32>,
    code_of_rank: Vec<u32>,
}

impl<'a> ChannelColumn<'a> {
    pub(crate) fn new(column: &'a DictColumn) -> Self {
        let mut order: Vec<u32> = (0..column.values.len() as u32).collect();
        order.sort_by(|&a, &b| {
            column.values[a as usize]
                .cmp(&column.values[b as usize])
                .then(a.cmp(&b))
        });
        let mut rank_of_code = vec![0u32; order.len()];
        for (r, &c) in order.iter().enumerate() {
            rank_of_code[c as usize] = r as u32;
        }
        ChannelColumn {
            codes: &column.codes,
            values: &column.values,
            rank_of_code,
            code_of_rank: order,
        }
    }

    /// Number of distinct channel values.
    pub(crate) fn cardinality(&self) -> usize {
        self.code_of_rank.len()
    }

    /// The rank of a dictionary code.
    pub(crate) fn rank_of_code(&self, code: u32) -> usize {
        self.rank_of_code[code as usize] as usize
    }

    /// The value of a dictionary code.
    pub(crate) fn value(&self, code: u32) -> Option<&str> {
        self.values[code as usize].as_deref()
    }

    /// The dictionary code of rank `rank`.
    pub(crate) fn code_of_rank(&self, rank: usize) -> u32 {
        self.code_of_rank[rank]
    }

    /// The channel rank of touch row `row`.
    #[inline]
    pub(crate) fn rank(&self, row: usize) -> u32 {
        self.rank_of_code[self.codes[row] as usize]
    }
}

/// Per model needing paths (in model order): its name and its
/// `(channel number, weight)` pairs by ascending number.
pub(crate) type Solved = Vec<(String, Vec<(u32, f64)>)>;

/// Path statistics for every model that needs them, with channels numbered
/// by the caller (ranks of one channel dictionary); mergeable across chunks
/// and across streamed partitions (integer counts: order-independent).
#[derive(Debug, Clone)]
pub(crate) struct PathCounts {
    /// One per requested Markov model, in model order.
    markov: Vec<TransitionCounts>,
    coalitions: Option<CoalitionCounts>,
}

impl PathCounts {
    pub(crate) fn new(models: &[Model]) -> Self {
        let markov = models
            .iter()
            .filter_map(|m| match m {
                Model::Markov { order } => Some(TransitionCounts::new(*order)),
                _ => None,
            })
            .collect();
        let coalitions = models
            .contains(&Model::ShapleyExact)
            .then(CoalitionCounts::new);
        PathCounts { markov, coalitions }
    }

    /// Add another chunk's (or partition's) statistics.
    pub(crate) fn merge(&mut self, other: PathCounts) {
        for (a, b) in self.markov.iter_mut().zip(other.markov) {
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (&mut self.coalitions, other.coalitions) {
            a.merge(b);
        }
    }

    /// Solve every model: per model needing paths (in model order), its
    /// name and its `(channel number, weight)` pairs by ascending number.
    pub(crate) fn solve(&self, config: &AttributionConfig) -> CoreResult<Solved> {
        let mut markov = self.markov.iter();
        let mut out = Vec::new();
        for m in config.models.iter().filter(|m| m.needs_paths()) {
            let pairs = match m {
                Model::Markov { .. } => {
                    let counts = markov
                        .next()
                        .expect("one TransitionCounts per Markov model");
                    markov::removal_effects(counts, config.max_markov_states)?
                }
                _ => {
                    let c = self
                        .coalitions
                        .as_ref()
                        .expect("coalitions collected for shapley_exact");
                    conversion_rate_shapley(c.entries(), config.max_exact_shapley_channels)?
                }
            };
            out.push((m.name(), pairs));
        }
        Ok(out)
    }
}

/// Per-chunk path statistics for every model that needs them.
pub(crate) struct PathCollector<'a> {
    channel: &'a ChannelColumn<'a>,
    counts: PathCounts,
    /// Channel numbers of the path being added (reused).
    ranks: Vec<u32>,
}

impl<'a> PathCollector<'a> {
    pub(crate) fn new(models: &[Model], channel: &'a ChannelColumn<'a>) -> Self {
        PathCollector {
            channel,
            counts: PathCounts::new(models),
            ranks: Vec::new(),
        }
    }

    fn add(&mut self, view: &PersonView<'_>, touches: &[u32], converted: bool) {
        // The driver carries each touch's channel number (its rank) as its payload.
        self.ranks.clear();
        self.ranks
            .extend(touches.iter().map(|&p| view.touch_payload[p as usize]));
        for counts in &mut self.counts.markov {
            counts.add_path(self.ranks.iter().copied(), converted);
        }
        if let Some(c) = &mut self.counts.coalitions {
            c.add_path(self.ranks.iter().copied(), converted);
        }
    }

    /// Add the next chunk's statistics.
    pub(crate) fn merge(&mut self, other: PathCollector<'a>) {
        self.counts.merge(other.counts);
    }

    /// The statistics collected, without the channel column.
    pub(crate) fn into_counts(self) -> PathCounts {
        self.counts
    }

    /// Solve every model: per model needing paths (in model order), its
    /// channel weights, by channel rank.
    pub(crate) fn solve(&self, config: &AttributionConfig) -> CoreResult<Vec<ChannelWeights>> {
        Ok(self
            .counts
            .solve(config)?
            .into_iter()
            .map(|(model, pairs)| {
                let (channels, weights) = pairs
                    .into_iter()
                    .map(|(rank, w)| (self.channel.code_of_rank[rank as usize], w))
                    .unzip();
                ChannelWeights {
                    model,
                    channels,
                    weights,
                }
            })
            .collect())
    }
}

impl Visitor for PathCollector<'_> {
    fn order(&mut self, view: &PersonView<'_>, _order: usize, eligible: &[u32]) {
        if !eligible.is_empty() {
            self.add(view, eligible, true);
        }
    }

    fn wants_non_converting(&self) -> bool {
        true
    }

    fn non_converting(&mut self, view: &PersonView<'_>, touches: &[u32]) {
        self.add(view, touches, false);
    }
}
