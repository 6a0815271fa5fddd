//! Block rules: values that must never link anything (placeholders, test
//! numbers, hashes of empty strings), and their per-type arrangement for
//! the per-occurrence check.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// How a block rule matches an identifier value. Matching is ASCII
/// case-insensitive, so `"NULL"` and `"Null"` are blocked by `Exact("null")`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "text")]
pub enum Pattern {
    /// The whole value equals the text.
    Exact(String),
    /// The value starts with the text.
    Prefix(String),
    /// The value ends with the text.
    Suffix(String),
    /// The value contains the text.
    Contains(String),
    /// Every character, ignoring the separators ` -_:./`, is the same one
    /// (`"0"`, `"00000000-0000-0000-0000-000000000000"`, `"aaaa"`), or there
    /// is no character besides separators at all (`"--"`).
    RepeatedChar,
}

impl Pattern {
    /// Whether `value` matches.
    pub fn matches(&self, value: &[u8]) -> bool {
        match self {
            Pattern::Exact(t) => value.eq_ignore_ascii_case(t.as_bytes()),
            Pattern::Prefix(t) => {
                let t = t.as_bytes();
                value.len() >= t.len() && value[..t.len()].eq_ignore_ascii_case(t)
            }
            Pattern::Suffix(t) => {
                let t = t.as_bytes();
                value.len() >= t.len() && value[value.len() - t.len()..].eq_ignore_ascii_case(t)
            }
            Pattern::Contains(t) => {
                let t = t.as_bytes();
                t.is_empty() || value.windows(t.len()).any(|w| w.eq_ignore_ascii_case(t))
            }
            Pattern::RepeatedChar => {
                let mut first = None;
                for &b in value {
                    if matches!(b, b' ' | b'-' | b'_' | b':' | b'.' | b'/') {
                        continue;
                    }
                    let b = b.to_ascii_lowercase();
                    match first {
                        None => first = Some(b),
                        Some(f) if f != b => return false,
                        Some(_) => {}
                    }
                }
                true
            }
        }
    }

    /// Short human description used in reports, e.g. `exact:"null"`.
    pub fn describe(&self) -> String {
        match self {
            Pattern::Exact(t) => format!("exact:{t:?}"),
            Pattern::Prefix(t) => format!("prefix:{t:?}"),
            Pattern::Suffix(t) => format!("suffix:{t:?}"),
            Pattern::Contains(t) => format!("contains:{t:?}"),
            Pattern::RepeatedChar => "repeated_char".to_string(),
        }
    }
}

/// A value that must never link anything: junk placeholders, test numbers,
/// hashes of the empty string. `id_type: None` applies to every type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRule {
    /// Identifier type the rule applies to; `None` for all types.
    #[serde(default)]
    pub id_type: Option<String>,
    /// What the value must look like to be blocked.
    pub pattern: Pattern,
}

impl BlockRule {
    /// A rule for every identifier type.
    pub fn any(pattern: Pattern) -> Self {
        BlockRule {
            id_type: None,
            pattern,
        }
    }

    /// A rule for one identifier type.
    pub fn for_type(id_type: &str, pattern: Pattern) -> Self {
        BlockRule {
            id_type: Some(id_type.to_string()),
            pattern,
        }
    }

    /// Name used in cuts and the report, e.g. `blocked:phone_sha256:exact:"…"`.
    pub fn describe(&self) -> String {
        match &self.id_type {
            Some(t) => format!("{t}:{}", self.pattern.describe()),
            None => self.pattern.describe(),
        }
    }
}

/// Phone numbers that appear as test or placeholder data in Chinese
/// e-commerce exports, hashed the way normalise hashes phones (11 digits).
/// 13800138000 is the operator's demo number printed in countless forms.
const TEST_PHONE_HASHES: &[(&str, &str)] = &[
    // 13800138000
    (
        "a6942f9771d67f34034d2f1926988ed3fad3bf1b4e7cedb9a31f31398dea43bc",
        "7945bd83237335e5376ff44d62e4f0ae",
    ),
    // 00000000000
    (
        "9c9f57efe04f8f5a65b699db1c777238d5876b44cef240654c749dd09e1790ef",
        "645a8aca5a5b84527c57ee2f153f1946",
    ),
    // 11111111111
    (
        "534a4a8eafcd8489af32356d5a7a25f88c70cfe0448539a7c42964c1b897a359",
        "adbc91a43e988a3b5b745b8529a90b61",
    ),
    // 12345678901
    (
        "254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4",
        "bfd81ee3ed27ad31c95ca75e21365973",
    ),
];

/// The block rules used when none are configured: placeholder words,
/// repeated characters (all-zero IDFA/OAID of limit-ad-tracking devices),
/// SHA-256 and MD5 of the empty string, and the hashes of test phones.
pub fn default_block_rules() -> Vec<BlockRule> {
    let mut rules: Vec<BlockRule> = [
        "null",
        "none",
        "nil",
        "nan",
        "unknown",
        "undefined",
        "test",
        "n/a",
        "na",
        "default",
    ]
    .iter()
    .map(|w| BlockRule::any(Pattern::Exact(w.to_string())))
    .collect();
    rules.push(BlockRule::any(Pattern::RepeatedChar));
    // SHA-256 and MD5 of "" turn up when an empty field was hashed upstream.
    rules.push(BlockRule::any(Pattern::Exact(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
    )));
    rules.push(BlockRule::any(Pattern::Exact(
        "d41d8cd98f00b204e9800998ecf8427e".into(),
    )));
    for (sha, md5) in TEST_PHONE_HASHES {
        rules.push(BlockRule::for_type(
            "phone_sha256",
            Pattern::Exact(sha.to_string()),
        ));
        rules.push(BlockRule::for_type(
            "phone_md5",
            Pattern::Exact(md5.to_string()),
        ));
    }
    rules
}

/// Block rules of one identifier type: exact values sorted by (length,
/// first 8 bytes lower-cased) so a value is compared in full only with the
/// rules it could equal (a caller may pass thousands, e.g. the hubs of
/// earlier runs), and skipped outright when no exact rule has its length;
/// the other patterns in configuration order.
pub(crate) struct TypeBlockRules {
    /// (length, folded prefix, rule index), sorted.
    exact: Vec<(usize, u64, u32)>,
    /// Bit `n` set when an exact rule has length `n` (bit 127: 127 or more).
    exact_lens: u128,
    other: Vec<u32>,
}

/// The first 8 bytes of `v`, ASCII lower-cased, big-endian, zero-padded.
#[inline]
fn folded_prefix(v: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = v.len().min(8);
    b[..n].copy_from_slice(&v[..n]);
    b.make_ascii_lowercase();
    u64::from_be_bytes(b)
}

impl TypeBlockRules {
    /// Arrange the rules of `rules` that apply to `id_type`.
    pub(crate) fn new(rules: &[BlockRule], id_type: &[u8]) -> Self {
        let mut exact = Vec::new();
        let mut exact_lens = 0u128;
        let mut other = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            if r.id_type
                .as_deref()
                .is_some_and(|t| t.as_bytes() != id_type)
            {
                continue;
            }
            match &r.pattern {
                Pattern::Exact(t) => {
                    exact.push((t.len(), folded_prefix(t.as_bytes()), i as u32));
                    exact_lens |= 1 << t.len().min(127);
                }
                _ => other.push(i as u32),
            }
        }
        exact.sort_unstable();
        TypeBlockRules {
            exact,
            exact_lens,
            other,
        }
    }

    /// The first rule (in configuration order) that blocks `v`.
    #[inline]
    pub(crate) fn first_match(&self, rules: &[BlockRule], v: &[u8]) -> Option<u32> {
        let mut best = None;
        if self.exact_lens >> v.len().min(127) & 1 == 1 {
            let key = (v.len(), folded_prefix(v));
            let from = self.exact.partition_point(|e| (e.0, e.1) < key);
            // Sorted by rule within a key: the first true match is the earliest.
            for &(len, p, r) in &self.exact[from..] {
                if (len, p) != key {
                    break;
                }
                if rules[r as usize].pattern.matches(v) {
                    best = Some(r);
                    break;
                }
            }
        }
        for &r in &self.other {
            if best.is_some_and(|b| b < r) {
                break;
            }
            if rules[r as usize].pattern.matches(v) {
                return Some(r);
            }
        }
        best
    }
}

/// The [`TypeBlockRules`] of every type, arranged once per run: types no
/// rule names share the rules that apply to all types.
pub(crate) struct BlockIndex {
    generic: Arc<TypeBlockRules>,
    by_type: HashMap<Vec<u8>, Arc<TypeBlockRules>>,
}

impl BlockIndex {
    pub(crate) fn new(rules: &[BlockRule]) -> Self {
        let by_type = rules
            .iter()
            .filter_map(|r| r.id_type.as_ref())
            .map(|t| {
                let t = t.as_bytes().to_vec();
                let arranged = Arc::new(TypeBlockRules::new(rules, &t));
                (t, arranged)
            })
            .collect();
        // A type that no rule names: the empty name matches no typed rule
        // (an empty type is rejected before rules are consulted).
        BlockIndex {
            generic: Arc::new(TypeBlockRules::new(rules, b"")),
            by_type,
        }
    }

    /// The rules of `id_type`.
    pub(crate) fn for_type(&self, id_type: &[u8]) -> Arc<TypeBlockRules> {
        self.by_type.get(id_type).unwrap_or(&self.generic).clone()
    }
}
