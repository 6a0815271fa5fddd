//! What a stitching run tells its caller: the report, and every cut.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use serde::Serialize;

use crate::error::CoreResult;

/// Identifier sides rejected before stitching (they never link anything).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct InvalidSides {
    /// Type was null.
    pub null_type: u64,
    /// Type was the empty string.
    pub empty_type: u64,
    /// Value was null.
    pub null_value: u64,
    /// Value was the empty string.
    pub empty_value: u64,
    /// Previous-persons rows whose person_id was null.
    pub null_person_id: u64,
}

impl AddAssign for InvalidSides {
    fn add_assign(&mut self, o: Self) {
        self.null_type += o.null_type;
        self.empty_type += o.empty_type;
        self.null_value += o.null_value;
        self.empty_value += o.empty_value;
        self.null_person_id += o.null_person_id;
    }
}

/// Why a cut was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum CutRule {
    /// The value matched a block rule; it links nothing and belongs to no person.
    Blocked {
        /// The rule, e.g. `exact:"null"` or `phone_sha256:exact:"…"`.
        pattern: String,
    },
    /// The identifier is linked to more distinct identifiers than its type
    /// allows; all its links are cut and it belongs to no person.
    Hub {
        /// Distinct identifiers linked to it.
        degree: u64,
        /// The threshold of its type.
        threshold: u32,
    },
    /// Joining the link would give a person more identifiers of `id_type`
    /// than `cap`; the link is cut.
    MaxIdsPerType {
        /// The capped type.
        id_type: String,
        /// Its cap.
        cap: u32,
    },
    /// Joining the link would make a person larger than `cap` identifiers.
    MaxComponentSize {
        /// The cap.
        cap: u32,
    },
}

impl CutRule {
    /// Short rule name (also the key of `StitchReport::links_cut`).
    pub fn name(&self) -> &'static str {
        match self {
            CutRule::Blocked { .. } => "blocked",
            CutRule::Hub { .. } => "hub",
            CutRule::MaxIdsPerType { .. } => "max_ids_per_type",
            CutRule::MaxComponentSize { .. } => "max_component_size",
        }
    }

    /// The rule's parameters as text, e.g. `degree=10000 threshold=100`.
    pub fn detail(&self) -> String {
        match self {
            CutRule::Blocked { pattern } => pattern.clone(),
            CutRule::Hub { degree, threshold } => format!("degree={degree} threshold={threshold}"),
            CutRule::MaxIdsPerType { id_type, cap } => format!("{id_type} cap={cap}"),
            CutRule::MaxComponentSize { cap } => format!("cap={cap}"),
        }
    }

    fn order(&self) -> u8 {
        match self {
            CutRule::Blocked { .. } => 0,
            CutRule::Hub { .. } => 1,
            CutRule::MaxIdsPerType { .. } => 2,
            CutRule::MaxComponentSize { .. } => 3,
        }
    }
}

/// One cut: an identifier (blocked, hub) or a link (cap) that was not joined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cut {
    /// The rule that made the cut.
    pub rule: CutRule,
    /// Type of the cut identifier (for a link: its first endpoint, in
    /// (type, value) order).
    pub id_type: String,
    /// Value of the cut identifier / first endpoint.
    pub id_value: String,
    /// For a cut link, the other endpoint's type.
    pub other_type: Option<String>,
    /// For a cut link, the other endpoint's value.
    pub other_value: Option<String>,
    /// Input link rows this cut removed.
    pub links: u64,
    /// Persons the cut identifier/link would have joined into one (for a
    /// link: 2, the two sides at the moment of the cut).
    pub would_merge_persons: u64,
    /// Identifiers held by those persons.
    pub would_merge_identifiers: u64,
}

impl Cut {
    /// Deterministic order of the cut list: rule, then identifiers.
    pub(crate) fn sort(cuts: &mut [Cut]) {
        cuts.sort_by(|a, b| {
            (
                a.rule.order(),
                &a.id_type,
                &a.id_value,
                &a.other_type,
                &a.other_value,
            )
                .cmp(&(
                    b.rule.order(),
                    &b.id_type,
                    &b.id_value,
                    &b.other_type,
                    &b.other_value,
                ))
        });
    }
}

/// Summary of a run. Serialise with [`StitchReport::to_json`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StitchReport {
    /// Input link rows.
    pub links: u64,
    /// Link rows joined (both sides valid, distinct, and not cut).
    pub links_joined: u64,
    /// Link rows whose two sides are the same identifier.
    pub self_links: u64,
    /// Previous-persons rows read.
    pub previous_rows: u64,
    /// Distinct identifiers in the output (blocked values and hubs excluded).
    pub identifiers: u64,
    /// Persons (connected components) in the output.
    pub components: u64,
    /// Identifiers in the largest person.
    pub largest_component: u64,
    /// Persons with a single identifier.
    pub singletons: u64,
    /// Sides rejected as null or empty.
    pub invalid_sides: InvalidSides,
    /// Occurrences of blocked values.
    pub blocked_occurrences: u64,
    /// Distinct blocked identifiers.
    pub blocked_identifiers: u64,
    /// Identifiers cut as hubs.
    pub hubs: u64,
    /// Link rows not joined, by rule: `invalid`, `blocked`, `hub`,
    /// `max_ids_per_type`, `max_component_size`.
    pub links_cut: BTreeMap<String, u64>,
    /// Number of cut records by rule.
    pub cuts_by_rule: BTreeMap<String, u64>,
    /// Previous persons whose id survives.
    pub persons_kept: u64,
    /// Persons with a newly issued id.
    pub persons_new: u64,
    /// Previous persons merged into an older one (see `merges`).
    pub persons_merged: u64,
    /// Previous persons whose identifiers ended up in more than one person.
    pub persons_split: u64,
    /// Previous persons none of whose identifiers remain.
    pub persons_vanished: u64,
    /// Smallest id the next run may issue (pass it as `next_person_id`).
    pub next_person_id: i64,
}

impl StitchReport {
    /// The report as a JSON object.
    pub fn to_json(&self) -> String {
        // Serialising plain integers and maps with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":{:?}}}", e.to_string()))
    }
}

/// Schema of [`cuts_to_batch`].
pub fn cuts_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("rule", DataType::Utf8, false),
        Field::new("detail", DataType::Utf8, false),
        Field::new("id_type", DataType::Utf8, false),
        Field::new("id_value", DataType::Utf8, false),
        Field::new("other_type", DataType::Utf8, true),
        Field::new("other_value", DataType::Utf8, true),
        Field::new("links", DataType::Int64, false),
        Field::new("would_merge_persons", DataType::Int64, false),
        Field::new("would_merge_identifiers", DataType::Int64, false),
    ]))
}

/// The cuts as an Arrow batch (one row per cut), for the Python report.
pub fn cuts_to_batch(cuts: &[Cut]) -> CoreResult<RecordBatch> {
    let s = |f: &dyn Fn(&Cut) -> Option<String>| -> ArrayRef {
        Arc::new(cuts.iter().map(f).collect::<StringArray>())
    };
    let i = |f: &dyn Fn(&Cut) -> u64| -> ArrayRef {
        Arc::new(
            cuts.iter()
                .map(|c| f(c).min(i64::MAX as u64) as i64)
                .collect::<Int64Array>(),
        )
    };
    let columns = vec![
        s(&|c| Some(c.rule.name().to_string())),
        s(&|c| Some(c.rule.detail())),
        s(&|c| Some(c.id_type.clone())),
        s(&|c| Some(c.id_value.clone())),
        s(&|c| c.other_type.clone()),
        s(&|c| c.other_value.clone()),
        i(&|c| c.links),
        i(&|c| c.would_merge_persons),
        i(&|c| c.would_merge_identifiers),
    ];
    Ok(RecordBatch::try_new(cuts_schema(), columns)?)
}
