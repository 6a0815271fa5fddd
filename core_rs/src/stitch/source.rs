//! The occurrence space: every place an identifier is written in the input.
//!
//! Occurrence `2r` is the left side of link row `r`, `2r + 1` its right side,
//! and `2n + q` is row `q` of the previous persons table (`n` link rows).
//! One `u32` names any occurrence, which is what the per-identifier arrays
//! store ("first seen at") instead of copies of the strings.

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
    /// Number of previous-person rows.
    pub n_prev: usize,
}

impl<'s> Source<'s> {
    pub(crate) fn new(
        links: &'s LinkColumns<'s>,
        prev: Option<&'s PersonsColumns<'s>>,
    ) -> CoreResult<Self> {
        let n_links = links.len();
        let n_prev = prev.map_or(0, |p| p.len());
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
        })
    }

    /// Total number of occurrences.
    pub(crate) fn n_occ(&self) -> usize {
        self.n_links * 2 + self.n_prev
    }

    /// First occurrence index of the previous-persons rows.
    pub(crate) fn prev_base(&self) -> usize {
        self.n_links * 2
    }

    /// Type and value written at `occ` (`None` when null).
    #[inline]
    pub(crate) fn occ(&self, occ: usize) -> (Option<&'s [u8]>, Option<&'s [u8]>) {
        if occ < self.n_links * 2 {
            self.links.side(occ >> 1, occ & 1)
        } else {
            match self.prev {
                Some(p) => p.ident(occ - self.n_links * 2),
                None => (None, None),
            }
        }
    }

    /// The value at `occ`, empty if null (only called on valid occurrences).
    #[inline]
    pub(crate) fn value(&self, occ: u32) -> &'s [u8] {
        self.occ(occ as usize).1.unwrap_or_default()
    }

    /// Prefetch the value at `occ`: `bytes == false` fetches its offset
    /// (do it some rows ahead), `true` its bytes (needs the offset cached).
    #[inline]
    pub(crate) fn prefetch_value(&self, occ: u32, bytes: bool) {
        let occ = occ as usize;
        if occ < self.n_links * 2 {
            self.links.prefetch_value(occ >> 1, occ & 1, bytes);
        } else if let Some(p) = self.prev {
            p.prefetch_value(occ - self.n_links * 2, bytes);
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
        let base = self.n_links * 2;
        match self.prev {
            Some(p) if occ >= base => p.person_id(occ - base),
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
            ("id_type (previous persons)", occ - self.n_links * 2)
        }
    }
}

/// Lossy text of identifier bytes for reports (inputs are UTF-8 by type).
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
