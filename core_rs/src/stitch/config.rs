//! Stitching settings ([`StitchConfig`]) and their per-type resolution.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::block_rules::{default_block_rules, BlockRule, Pattern};
use crate::error::{CoreError, CoreResult};

/// What `previous` persons mean to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviousMode {
    /// Daily run: previous persons are groups already joined (as if all their
    /// identifiers were linked), today's links are added on top. The cost
    /// follows today's links and the previous persons they touch: the
    /// others are copied to the output unchanged. Without guardrails firing
    /// the partition equals a full rebuild's.
    ///
    /// With guardrails, the daily run equals the rebuild (same partition,
    /// same ids) when all of these hold: caps are joined in
    /// [`CapOrder::Arrival`] order (then yesterday's persons are exactly the
    /// state the rebuild reaches before today's links); today's links were
    /// observed after every earlier link; the hubs of earlier runs (their
    /// `hub` cuts) are passed back as block rules, since a hub's degree here
    /// counts today's links only; and no identifier becomes a hub through
    /// links spread over several runs (its earlier degree is not known
    /// here). With [`CapOrder::Trust`] a rebuild may re-rank an old link
    /// against a newer, more trusted one and cut differently. A split
    /// cannot happen here: the links that would reveal it are not in the
    /// input.
    #[default]
    Incremental,
    /// Full rebuild: `links` hold the whole history and previous persons only
    /// lend their ids (oldest kept on merge, larger part keeps it on split).
    IdsOnly,
}

/// In which order the links of a component that breaks a cap are joined
/// (the links that would break it when their turn comes are cut).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapOrder {
    /// Trust first: by the type priority of a link's weaker endpoint, then
    /// most recently observed first, then the stronger endpoint's priority.
    /// Under a cap the weakest, stalest links are cut.
    #[default]
    Trust,
    /// First come, first served: by when a link was first observed (oldest
    /// first), then by type priority. A link is cut when it arrives too late
    /// to fit. This is the order under which an incremental run equals a
    /// full rebuild (see [`PreviousMode::Incremental`]): the persons of
    /// earlier runs are exactly the state the rebuild reaches before today's
    /// links, as long as today's links are newer than all earlier ones.
    Arrival,
}

/// String layout of the persons table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputStrings {
    /// `utf8` columns (the canonical schema): identifier text is copied.
    #[default]
    Utf8,
    /// `utf8_view` columns pointing into the input buffers: no copy, about
    /// half the memory and time of the output step; the persons table then
    /// keeps the input buffers alive.
    View,
}

/// An identifier an earlier run cut as a hub (one of its `hub` cuts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownHub {
    /// Its identifier type.
    pub id_type: String,
    /// Its value, exactly (no case folding).
    pub value: String,
}

/// Settings of [`crate::stitch::stitch`]. `StitchConfig::default()` gives
/// the recommended guardrails; every field can be set from JSON (missing
/// fields take their defaults).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StitchConfig {
    /// A person never holds more identifiers than this (`None`: no cap).
    pub max_component_size: Option<u32>,
    /// Per identifier type, the most identifiers of that type one person may
    /// hold; a link that would exceed it is cut. Types not listed: no cap.
    pub max_ids_per_type: BTreeMap<String, u32>,
    /// Identifier types from most to least trusted. Links between trusted
    /// types are joined first, so under a cap the weaker link is the one cut.
    /// Types not listed rank after all listed ones, by name.
    pub type_priority: Vec<String>,
    /// Order in which the links of a component over a cap are joined.
    pub cap_order: CapOrder,
    /// An identifier linked to more distinct identifiers than this is a hub
    /// (shared device, test phone): all its links are cut and it belongs to
    /// no person.
    pub hub_degree: u32,
    /// Per-type overrides of `hub_degree`.
    pub hub_degree_per_type: BTreeMap<String, u32>,
    /// Values that never link anything.
    pub block_rules: Vec<BlockRule>,
    /// Hubs of earlier runs, cut again whatever their degree today. Unlike
    /// a block rule they stay identifiers of the run, so a link to one
    /// still counts toward its partner's degree, as it does in a rebuild
    /// over all links (where the old hub is found again by its degree).
    /// An incremental run needs them because its degrees count today's
    /// links only.
    pub known_hubs: Vec<KnownHub>,
    /// When set, an identifier type outside this list is an input error.
    pub allowed_types: Option<Vec<String>>,
    /// How `previous` persons are used.
    pub previous_mode: PreviousMode,
    /// Smallest person id a new person may get. Pass the previous run's
    /// `report.next_person_id` so ids of persons that have since vanished are
    /// never issued again.
    pub next_person_id: i64,
    /// String layout of the persons table.
    pub output_strings: OutputStrings,
}

impl Default for StitchConfig {
    fn default() -> Self {
        let caps = [
            ("phone_sha256", 3),
            ("phone_md5", 3),
            ("email_sha256", 5),
            ("oaid", 5),
            ("idfa", 5),
        ];
        StitchConfig {
            max_component_size: Some(200),
            max_ids_per_type: caps.iter().map(|(t, c)| (t.to_string(), *c)).collect(),
            type_priority: [
                "phone_sha256",
                "phone_md5",
                "email_sha256",
                "member_id",
                "wechat_unionid",
                "douyin_unionid",
                "tmall_ouid",
                "tmall_omid",
                "tmall_buyer_open_uid",
                "jd_pin",
                "xhs_user_id",
                "weibo_uid",
                "wechat_openid",
                "douyin_openid",
                "oaid",
                "idfa",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            cap_order: CapOrder::Trust,
            hub_degree: 100,
            hub_degree_per_type: BTreeMap::new(),
            block_rules: default_block_rules(),
            known_hubs: Vec::new(),
            allowed_types: None,
            previous_mode: PreviousMode::Incremental,
            next_person_id: 1,
            output_strings: OutputStrings::Utf8,
        }
    }
}

impl StitchConfig {
    /// No guardrails at all: plain connected components (nothing blocked,
    /// no caps, no hubs). Useful as a baseline and in tests.
    pub fn unguarded() -> Self {
        StitchConfig {
            max_component_size: None,
            max_ids_per_type: BTreeMap::new(),
            hub_degree: u32::MAX,
            block_rules: Vec::new(),
            ..StitchConfig::default()
        }
    }

    /// Parse from JSON; unknown fields are an error, missing ones default.
    pub fn from_json(text: &str) -> CoreResult<Self> {
        let cfg: StitchConfig = serde_json::from_str(text)
            .map_err(|e| CoreError::invalid(format!("stitch config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check the settings; errors name the parameter.
    pub fn validate(&self) -> CoreResult<()> {
        if self.max_component_size == Some(0) {
            return Err(CoreError::invalid("max_component_size must be at least 1"));
        }
        for (t, &cap) in &self.max_ids_per_type {
            if cap == 0 {
                return Err(CoreError::invalid(format!(
                    "max_ids_per_type[{t:?}] must be at least 1 (every identifier belongs to a person)"
                )));
            }
        }
        if self.hub_degree == 0 {
            return Err(CoreError::invalid("hub_degree must be at least 1"));
        }
        if let Some((t, _)) = self.hub_degree_per_type.iter().find(|(_, &d)| d == 0) {
            return Err(CoreError::invalid(format!(
                "hub_degree_per_type[{t:?}] must be at least 1"
            )));
        }
        for (i, r) in self.block_rules.iter().enumerate() {
            if let Pattern::Prefix(t) | Pattern::Suffix(t) | Pattern::Contains(t) = &r.pattern {
                if t.is_empty() {
                    return Err(CoreError::invalid(format!(
                        "block_rules[{i}]: an empty {} would block every value",
                        r.pattern.describe()
                    )));
                }
            }
        }
        if self.next_person_id < 0 {
            return Err(CoreError::invalid("next_person_id must not be negative"));
        }
        Ok(())
    }

    /// Hub threshold of a type.
    pub(crate) fn hub_degree_for(&self, id_type: &str) -> u32 {
        self.hub_degree_per_type
            .get(id_type)
            .copied()
            .unwrap_or(self.hub_degree)
    }

    /// Whether `id_type` passes `allowed_types`.
    pub(crate) fn type_allowed(&self, id_type: &[u8]) -> bool {
        self.allowed_types
            .as_ref()
            .is_none_or(|a| a.iter().any(|t| t.as_bytes() == id_type))
    }
}

/// Per type id (types numbered in name order) the settings that apply.
pub(crate) struct TypeRules {
    /// Type names, index = type id.
    pub names: Vec<String>,
    /// Priority rank (0 = most trusted).
    pub priority: Vec<u32>,
    /// Hub threshold.
    pub hub_degree: Vec<u32>,
    /// Index into `capped` for types with a per-person cap.
    pub cap_slot: Vec<Option<usize>>,
    /// (type id, cap) of capped types present in the input, by priority.
    pub capped: Vec<(u16, u32)>,
}

impl TypeRules {
    pub(crate) fn new(names: Vec<String>, cfg: &StitchConfig) -> Self {
        let listed = cfg.type_priority.len() as u32;
        let priority: Vec<u32> = names
            .iter()
            .enumerate()
            .map(
                |(id, n)| match cfg.type_priority.iter().position(|p| p == n) {
                    Some(p) => p as u32,
                    None => listed + id as u32,
                },
            )
            .collect();
        let hub_degree = names.iter().map(|n| cfg.hub_degree_for(n)).collect();
        let mut capped: Vec<(u16, u32)> = names
            .iter()
            .enumerate()
            .filter_map(|(id, n)| cfg.max_ids_per_type.get(n).map(|&c| (id as u16, c)))
            .collect();
        capped.sort_by_key(|&(t, _)| priority[t as usize]);
        let mut cap_slot = vec![None; names.len()];
        for (slot, &(t, _)) in capped.iter().enumerate() {
            cap_slot[t as usize] = Some(slot);
        }
        TypeRules {
            names,
            priority,
            hub_degree,
            cap_slot,
            capped,
        }
    }
}
