//! The occurrence space: every place an identifier is written in the input.
//!
//! Occurrence `2r` is the left side of link row `r`, `2r + 1` its right side,
//! and `2n + q` is row `q` of the previous persons table (`n` link rows).
//! One `u32` names any occurrence, which is what the per-identifier arrays
//! store ("first seen at") instead of copies of the strings.
//!
//! An incremental run may restrict the previous rows to a subset (the
//! persons today's links touch): `q` then numbers the subset, which keeps
//! the rows' order.

use super::columns::{LinkColumns, PersonsColumns};
use crate::error::{CoreError, CoreResult};

/// Marks an occurrence or slot without an identifier (null, empty, blocked).
pub(crate) const NONE: u32 = u32::MAX;

/// Borrowed view of all input occurrences.
pub(crate) struct Source<'s> {
    pub links: &'s LinkColumns<'s>,
    pub prev: Option<&'s PersonsColumns<'s>>,
    /// Number of link rows.
    pub n_links: usize,
    /// Number of previous-person rows (of the subset, when there is one).
    pub n_prev: usize,
    /// The previous rows in play, ascending (`None`: all of them).
    prev_rows: Option<&'s [u32]>,
}

impl<'s> Source<'s> {
    pub(crate) fn new(
        links: &'s LinkColumns<'s>,
        prev: Option<&'s PersonsColumns<'s>>,
    ) -> CoreResult<Self> {
        Self::with_subset(links, prev, None)
    }

    /// Like [`Source::new`], with only the previous rows `prev_rows`
    /// (ascending row numbers).
    pub(crate) fn with_subset(
        links: &'s LinkColumns<'s>,
        prev: Option<&'s PersonsColumns<'s>>,
        prev_rows: Option<&'s [u32]>,
    ) -> CoreResult<Self> {
        let n_links = links.len();
        let n_prev = match prev_rows {
            Some(r) => r.len(),
            None => prev.map_or(0, |p| p.len()),
        };
        // Occurrences and identifier ids are u32 with NONE reserved.
        let total = n_links as u64 * 2 + n_prev as u64;
        if total >= NONE as u64 {
            return Err(CoreError::LimitExceeded(format!(
                "stitch: {n_links} links and {n_prev} previous persons exceed the {} identifier occurrences one call handles; split the input (e.g. by platform) and pass the first result as `previous`",
                NONE - 1
            )));
        }
        Ok(Source {
            links,
            prev,
            n_links,
            n_prev,
            prev_rows,
        })
    }

    /// Row of the previous table behind previous occurrence `occ`.
    #[inline]
    fn prev_row(&self, occ: usize) -> usize {
        let q = occ - self.n_links * 2;
        self.prev_rows.map_or(q, |r| r[q] as usize)
    }

    /// Total number of occurrences.
    pub(crate) fn n_occ(&self) -> usize {
        self.n_links * 2 + self.n_prev
    }

    /// First occurrence index of the previous-persons rows.
    pub(crate) fn prev_base(&self) -> usize {
        self.n_links * 2
    }

    /// The value at `occ`, empty if null (only called on valid occurrences).
    #[inline]
    pub(crate) fn value(&self, occ: u32) -> &'s [u8] {
        let occ = occ as usize;
        let v = if occ < self.n_links * 2 {
            self.links.value(occ >> 1, occ & 1)
        } else {
            self.prev.and_then(|p| p.value(self.prev_row(occ)))
        };
        v.unwrap_or_default()
    }

    /// Calls `f(occurrence, type, value)` for occurrences `start..end` in
    /// order; previous-persons rows with a null person id are passed with
    /// `None` as their type and value and `false` (they identify nothing).
    #[inline]
    pub(crate) fn scan(
        &self,
        start: usize,
        end: usize,
        mut f: impl FnMut(usize, Option<&'s [u8]>, Option<&'s [u8]>, bool),
    ) {
        let base = self.n_links * 2;
        if start < base {
            self.links
                .scan(start, end.min(base), |o, t, v| f(o, t, v, true));
        }
        if end > base {
            match (self.prev, self.prev_rows) {
                (Some(p), None) => {
                    p.scan(start.max(base) - base, end - base, |r, t, v, ok| {
                        f(base + r, t, v, ok)
                    });
                }
                (Some(p), Some(rows)) => {
                    let from = start.max(base) - base;
                    for (q, &row) in rows[from..end - base].iter().enumerate() {
                        let (t, v, ok) = p.row(row as usize);
                        f(base + from + q, t, v, ok);
                    }
                }
                (None, _) => {}
            }
        }
    }

    /// Prefetch the value at `occ`: `bytes == false` fetches its offset
    /// (do it some rows ahead), `true` its bytes (needs the offset cached).
    #[inline]
    pub(crate) fn prefetch_value(&self, occ: u32, bytes: bool) {
        let occ = occ as usize;
        if occ < self.n_links * 2 {
            self.links.prefetch_value(occ >> 1, occ & 1, bytes);
        } else if let Some(p) = self.prev {
            p.prefetch_value(self.prev_row(occ), bytes);
        }
    }

    /// Buffers holding every value byte, without duplicates.
    pub(crate) fn value_buffers(&self) -> Vec<arrow_buffer::Buffer> {
        let mut out = Vec::new();
        self.links.value_buffers(&mut out);
        if let Some(p) = self.prev {
            p.value_buffers(&mut out);
        }
        out.sort_by_key(|b| (b.as_ptr() as usize, b.len()));
        out.dedup_by_key(|b| (b.as_ptr() as usize, b.len()));
        out
    }

    /// Person id of a previous-persons occurrence, `None` for link sides and
    /// null ids.
    #[inline]
    pub(crate) fn prev_person(&self, occ: usize) -> Option<i64> {
        match self.prev {
            Some(p) if occ >= self.n_links * 2 => p.person_id(self.prev_row(occ)),
            _ => None,
        }
    }

    /// Column name and row for messages about the type written at `occ`.
    pub(crate) fn type_location(&self, occ: usize) -> (&'static str, usize) {
        if occ < self.n_links * 2 {
            (
                if occ & 1 == 0 {
                    "left_type"
                } else {
                    "right_type"
                },
                occ >> 1,
            )
        } else {
            ("id_type (previous persons)", self.prev_row(occ))
        }
    }
}

/// Text of identifier bytes for reports. Inputs are Arrow strings, valid
/// UTF-8 by contract, so the lossy path is only a safety net.
pub(crate) fn text(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}
