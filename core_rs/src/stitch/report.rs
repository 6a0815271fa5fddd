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
        /// Cut because an earlier run found it a hub (`known_hubs`), not
        /// (only) by today's degree.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        carried: bool,
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
            CutRule::Hub {
                degree,
                threshold,
                carried,
            } => format!(
                "degree={degree} threshold={threshold}{}",
                if *carried { " carried" } else { "" }
            ),
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
    /// Deterministic order of the cut list: rule, then identifiers (type,
    /// value, other type, other value, bytewise).
    ///
    /// Hundreds of thousands of cuts are common, so they are sorted by
    /// integer keys: types by their rank among the (few) type names, values
    /// by their first 8 bytes; values are compared in full only where those
    /// tie.
    pub(crate) fn sort(cuts: &mut Vec<Cut>) {
        use super::output::prefix_key;
        use rayon::prelude::*;
        use std::collections::{BTreeSet, HashMap};
        let names: BTreeSet<&str> = cuts
            .iter()
            .flat_map(|c| [Some(c.id_type.as_str()), c.other_type.as_deref()])
            .flatten()
            .collect();
        // Rank 0 is "no type" (None sorts first); names from 1, in order.
        let rank: HashMap<&str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, i as u32 + 1))
            .collect();
        let keyed_of = |c: &Cut| {
            (
                c.rule.order(),
                rank[c.id_type.as_str()],
                prefix_key(c.id_value.as_bytes()),
                c.other_type.as_deref().map_or(0, |t| rank[t]),
                c.other_value
                    .as_deref()
                    .map_or((0, 0), |v| (1, prefix_key(v.as_bytes()))),
            )
        };
        // (rule, type rank, value prefix, other type rank, other value prefix).
        type Key = (u8, u32, u64, u32, (u8, u64));
        let mut keyed: Vec<(Key, u32)> = cuts
            .par_iter()
            .enumerate()
            .map(|(i, c)| (keyed_of(c), i as u32))
            .collect();
        // Field by field: a key decides unless it ties, then the string.
        // Index last: equal cuts keep their order, so the sort is stable.
        keyed.par_sort_unstable_by(|(ka, ia), (kb, ib)| {
            let (x, y) = (&cuts[*ia as usize], &cuts[*ib as usize]);
            (ka.0, ka.1)
                .cmp(&(kb.0, kb.1))
                .then_with(|| ka.2.cmp(&kb.2).then_with(|| x.id_value.cmp(&y.id_value)))
                .then_with(|| ka.3.cmp(&kb.3))
                .then_with(|| {
                    ka.4.cmp(&kb.4)
                        .then_with(|| x.other_value.cmp(&y.other_value))
                })
                .then(ia.cmp(ib))
        });
        let mut taken: Vec<Option<Cut>> = std::mem::take(cuts).into_iter().map(Some).collect();
        *cuts = keyed
            .into_iter()
            .map(|(_, i)| taken[i as usize].take().expect("each cut once"))
            .collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The keyed sort gives the plain lexicographic order, including values
    /// that share their first 8 bytes and types that differ after them.
    #[test]
    fn stitch_cut_sort_matches_a_plain_sort() {
        let types = [
            "phone_sha256",
            "phone_sha2",
            "oaid",
            "member_id_long",
            "member_id_lo",
        ];
        let values = [
            "abcdefgh1",
            "abcdefgh",
            "abcdefgh0",
            "b",
            "",
            "abcdefgi",
            "ABCDEFGH1",
        ];
        let rules = [
            CutRule::Hub {
                degree: 5,
                threshold: 1,
                carried: false,
            },
            CutRule::MaxComponentSize { cap: 3 },
            CutRule::Blocked {
                pattern: "x".into(),
            },
        ];
        let mut cuts = Vec::new();
        let mut n = 0usize;
        for (i, t) in types.iter().enumerate() {
            for (j, v) in values.iter().enumerate() {
                n += 1;
                let other = (n % 3 != 0).then(|| types[(i + j) % types.len()].to_string());
                cuts.push(Cut {
                    rule: rules[n % rules.len()].clone(),
                    id_type: t.to_string(),
                    id_value: v.to_string(),
                    other_type: other.clone(),
                    other_value: other.map(|_| values[(i * 3 + j) % values.len()].to_string()),
                    links: n as u64,
                    would_merge_persons: 2,
                    would_merge_identifiers: 2,
                });
            }
        }
        cuts.reverse();
        let mut expected = cuts.clone();
        expected.sort_by(|a, b| {
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
        Cut::sort(&mut cuts);
        assert_eq!(cuts, expected);
    }
}
