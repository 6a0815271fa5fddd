//! Stitching settings ([`StitchConfig`]) and their per-type resolution.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::block_rules::{default_block_rules, BlockRule, Pattern, TypeBlockRules};
use crate::error::{CoreError, CoreResult};

/// What `previous` persons mean to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviousMode {
    /// Daily run: previous persons are groups already joined (as if all their
    /// identifiers were linked), today's links are added on top. The cost
    /// follows the size of `previous` plus today's links instead of the whole
    /// link history, and the partition equals a full rebuild's as long as no
    /// guardrail fires. Guardrails then see today's links only: caps are
    /// enforced with previous groups joined first (so today's weaker links
    /// are the ones cut), and a hub's degree counts today's links, so pass
    /// the hubs and blocked values of earlier runs (their cuts) back as
    /// block rules to keep them out. A split cannot happen: the links that
    /// would reveal it are not in the input.
    #[default]
    Incremental,
    /// Full rebuild: `links` hold the whole history and previous persons only
    /// lend their ids (oldest kept on merge, larger part keeps it on split).
    IdsOnly,
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
    /// An identifier linked to more distinct identifiers than this is a hub
    /// (shared device, test phone): all its links are cut and it belongs to
    /// no person.
    pub hub_degree: u32,
    /// Per-type overrides of `hub_degree`.
    pub hub_degree_per_type: BTreeMap<String, u32>,
    /// Values that never link anything.
    pub block_rules: Vec<BlockRule>,
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
            hub_degree: 100,
            hub_degree_per_type: BTreeMap::new(),
            block_rules: default_block_rules(),
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

    /// The block rules that apply to `id_type`, arranged for fast checks.
    pub(crate) fn block_rules_for(&self, id_type: &[u8]) -> TypeBlockRules {
        TypeBlockRules::new(&self.block_rules, id_type)
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
