//! Models, lookback windows and event-type weight presets.

use crate::error::{CoreError, CoreResult};

/// Milliseconds per day.
pub(crate) const DAY_MS: f64 = 86_400_000.0;

/// One attribution model. Every model splits each attributed paid order's
/// conversion (1.0) and revenue over the order's eligible touches; shares
/// are non-negative and sum to one per order.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// All credit to the last eligible touch (by (event_time, event_id)).
    LastTouch,
    /// All credit to the first eligible touch.
    FirstTouch,
    /// Equal shares.
    Linear,
    /// Touch weight `2^(-(order_time - event_time) / half_life)`, normalised
    /// per order.
    TimeDecay {
        /// Half-life in days (> 0); 7 by default.
        half_life_days: f64,
    },
    /// `first` to the first touch, `last` to the last, the rest split equally
    /// over the touches in between. One touch gets 100 %; two touches split
    /// `first : last` (50/50 with the default 40/20/40).
    PositionBased {
        /// Share of the first touch (default 0.4).
        first: f64,
        /// Share of the last touch (default 0.4).
        last: f64,
    },
    /// Shares proportional to per-event-type weights. Touches whose type
    /// weighs 0 get nothing; an order whose eligible touches all weigh 0 is
    /// reported unattributed for this model (the weights say none of its
    /// touches deserves credit, and credit is never spread).
    Weighted(EventWeights),
    /// Removal effect on a Markov chain of channel paths, solved exactly (see
    /// [`markov`](super::markov)). `order` is 1, 2 or 3.
    Markov {
        /// Memory of the chain: a state is the last `order` channels.
        order: usize,
    },
    /// Simplified Shapley value of Zhao et al. (2018), as in Google Ads Data
    /// Hub: each order is split equally over the distinct channels on its
    /// path (then equally over each channel's touches).
    Shapley,
    /// Exact Shapley value of a conversion-rate game over channel coalitions
    /// (see [`shapley`](super::shapley)); at most
    /// [`AttributionConfig::max_exact_shapley_channels`] channels.
    ShapleyExact,
}

impl Model {
    /// `time_decay` with the default 7-day half-life.
    pub fn time_decay() -> Model {
        Model::TimeDecay {
            half_life_days: 7.0,
        }
    }

    /// `position_based` with the default 40/20/40 split.
    pub fn position_based() -> Model {
        Model::PositionBased {
            first: 0.4,
            last: 0.4,
        }
    }

    /// The five rule-based models with default parameters.
    pub fn rule_based() -> Vec<Model> {
        vec![
            Model::LastTouch,
            Model::FirstTouch,
            Model::Linear,
            Model::time_decay(),
            Model::position_based(),
        ]
    }

    /// The name in the output's `model` column: `last_touch`, `first_touch`,
    /// `linear`, `time_decay`, `position_based`, `weighted`, `markov` (order
    /// 1) or `markov_2` / `markov_3`, `shapley`, `shapley_exact`.
    pub fn name(&self) -> String {
        match self {
            Model::LastTouch => "last_touch".into(),
            Model::FirstTouch => "first_touch".into(),
            Model::Linear => "linear".into(),
            Model::TimeDecay { .. } => "time_decay".into(),
            Model::PositionBased { .. } => "position_based".into(),
            Model::Weighted(_) => "weighted".into(),
            Model::Markov { order: 1 } => "markov".into(),
            Model::Markov { order } => format!("markov_{order}"),
            Model::Shapley => "shapley".into(),
            Model::ShapleyExact => "shapley_exact".into(),
        }
    }

    /// Whether the model reads the channel column.
    pub fn uses_channel(&self) -> bool {
        matches!(
            self,
            Model::Markov { .. } | Model::Shapley | Model::ShapleyExact
        )
    }

    /// Whether the model needs a first pass over all paths (converting and
    /// not) before it can credit any order.
    pub(crate) fn needs_paths(&self) -> bool {
        matches!(self, Model::Markov { .. } | Model::ShapleyExact)
    }

    fn validate(&self) -> CoreResult<()> {
        match self {
            Model::TimeDecay { half_life_days: h } if !(h.is_finite() && *h > 0.0) => {
                Err(CoreError::invalid(format!("time_decay half_life_days must be > 0, got {h}")))
            }
            Model::PositionBased { first, last }
                if !(first.is_finite() && last.is_finite())
                    || *first < 0.0
                    || *last < 0.0
                    || first + last > 1.0 + 1e-12 =>
            {
                Err(CoreError::invalid(format!(
                    "position_based shares must be >= 0 with first + last <= 1, got first={first} last={last}"
                )))
            }
            Model::Weighted(w) => w.validate(),
            Model::Markov { order } if !(1..=3).contains(order) => {
                Err(CoreError::invalid(format!("markov order must be 1, 2 or 3, got {order}")))
            }
            _ => Ok(()),
        }
    }
}

/// Per-event-type weights of the `weighted` model.
#[derive(Debug, Clone, PartialEq)]
pub struct EventWeights {
    /// (event type, weight >= 0).
    pub weights: Vec<(String, f64)>,
    /// Weight of event types not listed (e.g. types added by a plugin).
    pub default_weight: f64,
}

/// The industries with a weight preset.
pub const WEIGHT_PRESETS: [&str; 4] = ["beauty", "apparel", "3c", "fmcg"];

impl EventWeights {
    /// A preset for an industry: `beauty`, `apparel`, `3c` (consumer
    /// electronics) or `fmcg`.
    ///
    /// These are starting points that encode common practice, not platform
    /// truths: beauty leans on content and seeding (note reads, live rooms,
    /// favourites), apparel on browsing and saving items, 3C on research
    /// (search, product pages, comments read as reviews), FMCG on reach and
    /// impulse (impressions and live rooms weigh more, research less). Every
    /// preset gives `add_to_cart` the most weight and passive impressions the
    /// least. Calibrate them against an experiment before trusting them.
    pub fn preset(industry: &str) -> CoreResult<EventWeights> {
        // Columns: impression, click, video_view, like, comment, share,
        // favorite, follow, search, product_view, add_to_cart, store_visit,
        // live_view, note_read.
        let row: [f64; 14] = match industry {
            "beauty" => [
                0.3, 1.0, 1.0, 0.6, 1.2, 1.2, 2.0, 1.2, 2.0, 2.0, 3.0, 1.5, 2.0, 2.0,
            ],
            "apparel" => [
                0.3, 1.2, 0.8, 0.6, 0.8, 1.0, 2.5, 1.0, 1.8, 2.5, 3.0, 2.0, 1.5, 1.5,
            ],
            "3c" => [
                0.2, 1.0, 1.2, 0.4, 1.5, 0.8, 2.0, 0.8, 3.0, 2.5, 3.0, 2.5, 1.0, 2.0,
            ],
            "fmcg" => [
                0.6, 1.2, 1.0, 0.6, 0.6, 1.0, 1.2, 0.8, 1.2, 1.5, 3.0, 1.5, 2.0, 1.0,
            ],
            other => {
                return Err(CoreError::invalid(format!(
                    "unknown weight preset {other:?}; presets: {}",
                    WEIGHT_PRESETS.join(", ")
                )))
            }
        };
        const TYPES: [&str; 14] = [
            "impression",
            "click",
            "video_view",
            "like",
            "comment",
            "share",
            "favorite",
            "follow",
            "search",
            "product_view",
            "add_to_cart",
            "store_visit",
            "live_view",
            "note_read",
        ];
        let weights = TYPES
            .iter()
            .zip(row)
            .map(|(t, w)| (t.to_string(), w))
            .collect();
        Ok(EventWeights {
            weights,
            default_weight: 1.0,
        })
    }

    /// Weight of one event type.
    pub fn weight_of(&self, event_type: Option<&str>) -> f64 {
        event_type
            .and_then(|t| {
                self.weights
                    .iter()
                    .rev()
                    .find(|(k, _)| k == t)
                    .map(|(_, w)| *w)
            })
            .unwrap_or(self.default_weight)
    }

    fn validate(&self) -> CoreResult<()> {
        let all = self.weights.iter().map(|(k, w)| (k.as_str(), *w));
        for (k, w) in all.chain(std::iter::once(("<default>", self.default_weight))) {
            if !(w.is_finite() && w >= 0.0) {
                return Err(CoreError::invalid(format!(
                    "weight of {k:?} must be finite and >= 0, got {w}"
                )));
            }
        }
        Ok(())
    }
}

/// How far back from an order a touch may be and still count.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookback {
    /// Window in days for event types not listed below (30 by default).
    pub default_days: f64,
    /// Per-event-type windows in days (e.g. impressions 1 day, clicks 30).
    pub by_event_type: Vec<(String, f64)>,
}

impl Default for Lookback {
    fn default() -> Self {
        Lookback {
            default_days: 30.0,
            by_event_type: Vec::new(),
        }
    }
}

impl Lookback {
    /// A single window for every event type.
    pub fn days(days: f64) -> Lookback {
        Lookback {
            default_days: days,
            by_event_type: Vec::new(),
        }
    }

    /// The window of one event type in milliseconds.
    pub(crate) fn millis_of(&self, event_type: Option<&str>) -> i64 {
        let days = event_type
            .and_then(|t| {
                self.by_event_type
                    .iter()
                    .rev()
                    .find(|(k, _)| k == t)
                    .map(|(_, d)| *d)
            })
            .unwrap_or(self.default_days);
        (days * DAY_MS).round() as i64
    }

    pub(crate) fn validate(&self) -> CoreResult<()> {
        let all = self.by_event_type.iter().map(|(k, d)| (k.as_str(), *d));
        for (k, d) in std::iter::once(("<default>", self.default_days)).chain(all) {
            // 100 years keeps `days * DAY_MS` far inside i64.
            if !(d.is_finite() && (0.0..=36_500.0).contains(&d)) {
                return Err(CoreError::invalid(format!(
                    "lookback of {k:?} must be between 0 and 36500 days, got {d}"
                )));
            }
        }
        Ok(())
    }
}

/// Channel weights of one model by channel value (null is a value).
pub type WeightsByValue = Vec<(Option<String>, f64)>;

/// Everything [`attribute`](super::attribute) needs besides the data.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionConfig {
    /// Models to compute, all in one pass; names must be distinct.
    pub models: Vec<Model>,
    /// Lookback windows.
    pub lookback: Lookback,
    /// Cap on the transient states of a Markov chain (the exact solve is
    /// dense, cubic in the state count).
    pub max_markov_states: usize,
    /// Cap on the channel count of `shapley_exact` (2^n coalitions).
    pub max_exact_shapley_channels: usize,
    /// Channel weights learnt beforehand, one list of `(channel value,
    /// weight)` per model needing paths (`markov*`, `shapley_exact`), in
    /// model order: [`attribute`](super::attribute) then credits with them
    /// instead of learning from its own input. A streamed run learns them
    /// from every partition first (see [`stream_paths`](super::stream_paths));
    /// a channel missing from its list weighs 0, as one no path touched.
    pub learnt_weights: Option<Vec<WeightsByValue>>,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig {
            models: Model::rule_based(),
            lookback: Lookback::default(),
            max_markov_states: 2000,
            max_exact_shapley_channels: 20,
            learnt_weights: None,
        }
    }
}

impl AttributionConfig {
    /// Check parameters: at least one model, distinct names, valid shares,
    /// weights and windows.
    pub fn validate(&self) -> CoreResult<()> {
        if self.models.is_empty() {
            return Err(CoreError::invalid("no attribution model requested"));
        }
        let mut names: Vec<String> = Vec::new();
        for m in &self.models {
            m.validate()?;
            let name = m.name();
            if names.contains(&name) {
                return Err(CoreError::invalid(format!(
                    "model {name:?} requested twice"
                )));
            }
            names.push(name);
        }
        if let Some(learnt) = &self.learnt_weights {
            let wanted = self.models.iter().filter(|m| m.needs_paths()).count();
            if learnt.len() != wanted {
                return Err(CoreError::invalid(format!(
                    "{} learnt weight lists for {wanted} models needing paths",
                    learnt.len()
                )));
            }
        }
        if self.max_exact_shapley_channels > 25 {
            return Err(CoreError::invalid(
                "max_exact_shapley_channels must be <= 25 (2^n coalitions)",
            ));
        }
        self.lookback.validate()
    }
}
