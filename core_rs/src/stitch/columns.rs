//! Borrowed, zero-copy access to the Arrow columns that feed stitching.
//!
//! Strings are read straight out of the Arrow buffers (`&[u8]` slices), never
//! copied into `String`s: at ten million links that would be tens of millions
//! of allocations. Inputs may arrive in several chunks (a pyarrow table read
//! from Parquet usually does), so both column sets are lists of chunks with
//! global row numbers; concatenating them first would copy every byte.

use arrow_array::{Array, RecordBatch};
use arrow_buffer::Buffer;

pub(crate) use super::strings::NEVER;
use super::strings::{StrCol, TimeCol};
use crate::error::{CoreError, CoreResult};

pub use super::prev_columns::PersonsColumns;

/// Row ranges of a chunked column set: global row -> (chunk, local row).
///
/// Random access (output, the guarded pass) locates rows millions of
/// times, so a table gives the chunk of every block of `1 << BUCKET_BITS`
/// rows and a short forward walk finishes the job (no binary search).
#[derive(Default)]
pub(super) struct Chunking {
    starts: Vec<usize>,
    pub(super) rows: usize,
    /// Chunk holding the first row of each bucket.
    bucket_chunk: Vec<u32>,
}

const BUCKET_BITS: u32 = 10;

impl Chunking {
    pub(super) fn push(&mut self, len: usize) {
        let c = self.starts.len() as u32;
        self.starts.push(self.rows);
        self.rows += len;
        // Buckets whose first row falls in the new chunk.
        while (self.bucket_chunk.len() << BUCKET_BITS) < self.rows {
            self.bucket_chunk.push(c);
        }
    }

    #[inline]
    pub(super) fn locate(&self, row: usize) -> (usize, usize) {
        if self.starts.len() == 1 {
            return (0, row);
        }
        let mut c = self.bucket_chunk[row >> BUCKET_BITS] as usize;
        while c + 1 < self.starts.len() && self.starts[c + 1] <= row {
            c += 1;
        }
        (c, row - self.starts[c])
    }

    /// One past the last global row of chunk `c`.
    #[inline]
    pub(super) fn end(&self, c: usize) -> usize {
        self.starts.get(c + 1).copied().unwrap_or(self.rows)
    }
}

fn check_len(column: &str, len: usize, expected: usize) -> CoreResult<()> {
    if len != expected {
        return Err(CoreError::invalid(format!(
            "column {column}: has {len} rows but left_type has {expected}"
        )));
    }
    Ok(())
}

struct LinkChunk<'a> {
    left_type: StrCol<'a>,
    left_value: StrCol<'a>,
    right_type: StrCol<'a>,
    right_value: StrCol<'a>,
    observed_at: Option<TimeCol<'a>>,
}

/// The `identity_links` columns stitching reads, borrowed from Arrow arrays.
///
/// Build it from record batches ([`LinkColumns::from_batches`]; columns are
/// found by name, `observed_at` is optional) or from arrays
/// ([`LinkColumns::push_arrays`]). Rows are numbered globally across chunks,
/// and error messages use those numbers.
#[derive(Default)]
pub struct LinkColumns<'a> {
    chunks: Vec<LinkChunk<'a>>,
    rows: Chunking,
}

impl<'a> LinkColumns<'a> {
    /// An empty set of links (no chunks).
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one chunk given as arrays. Value and type columns may be
    /// `utf8`, `large_utf8`, `utf8_view` or dictionaries of those;
    /// `observed_at` a timestamp of any unit or int64 milliseconds.
    pub fn push_arrays(
        &mut self,
        left_type: &'a dyn Array,
        left_value: &'a dyn Array,
        right_type: &'a dyn Array,
        right_value: &'a dyn Array,
        observed_at: Option<&'a dyn Array>,
    ) -> CoreResult<()> {
        let n = left_type.len();
        check_len("left_value", left_value.len(), n)?;
        check_len("right_type", right_type.len(), n)?;
        check_len("right_value", right_value.len(), n)?;
        let observed_at = match observed_at {
            Some(a) => {
                let t = TimeCol::new(a)?;
                check_len("observed_at", t.len(), n)?;
                Some(t)
            }
            None => None,
        };
        self.chunks.push(LinkChunk {
            left_type: StrCol::new(left_type, "left_type")?,
            left_value: StrCol::new(left_value, "left_value")?,
            right_type: StrCol::new(right_type, "right_type")?,
            right_value: StrCol::new(right_value, "right_value")?,
            observed_at,
        });
        self.rows.push(n);
        Ok(())
    }

    /// Append one record batch holding left_type, left_value, right_type,
    /// right_value and optionally observed_at (other columns are ignored).
    pub fn push_batch(&mut self, batch: &'a RecordBatch) -> CoreResult<()> {
        let col = |name: &str| -> CoreResult<&'a dyn Array> {
            batch
                .column_by_name(name)
                .map(|c| c.as_ref())
                .ok_or_else(|| CoreError::invalid(format!("links: missing column {name}")))
        };
        let observed = batch.column_by_name("observed_at").map(|c| c.as_ref());
        self.push_arrays(
            col("left_type")?,
            col("left_value")?,
            col("right_type")?,
            col("right_value")?,
            observed,
        )
    }

    /// All batches of a table, in order.
    pub fn from_batches(batches: &'a [RecordBatch]) -> CoreResult<Self> {
        let mut links = Self::new();
        for b in batches {
            links.push_batch(b)?;
        }
        Ok(links)
    }

    /// Number of link rows over all chunks.
    pub fn len(&self) -> usize {
        self.rows.rows
    }

    /// Whether there are no link rows.
    pub fn is_empty(&self) -> bool {
        self.rows.rows == 0
    }

    /// Value of one side of global `row` (the type is not read).
    #[inline]
    pub(crate) fn value(&self, row: usize, side: usize) -> Option<&'a [u8]> {
        let (c, i) = self.rows.locate(row);
        let ch = &self.chunks[c];
        if side == 0 {
            ch.left_value.get(i)
        } else {
            ch.right_value.get(i)
        }
    }

    /// Calls `f(occurrence, type, value)` for the link sides numbered
    /// `start..end` (side `s` of row `r` is occurrence `2r + s`), walking
    /// the chunks in order instead of locating every row.
    #[inline]
    pub(crate) fn scan(
        &self,
        start: usize,
        end: usize,
        mut f: impl FnMut(usize, Option<&'a [u8]>, Option<&'a [u8]>),
    ) {
        let mut occ = start;
        while occ < end {
            let (c, i0) = self.rows.locate(occ >> 1);
            let ch = &self.chunks[c];
            let stop = end.min(self.rows.end(c) * 2);
            let base = (occ >> 1) - i0;
            for o in occ..stop {
                let i = (o >> 1) - base;
                if o & 1 == 0 {
                    f(o, ch.left_type.get(i), ch.left_value.get(i));
                } else {
                    f(o, ch.right_type.get(i), ch.right_value.get(i));
                }
            }
            occ = stop;
        }
    }

    /// Prefetch (stage 1 slot or stage 2 bytes) of one side's value.
    #[inline]
    pub(crate) fn prefetch_value(&self, row: usize, side: usize, bytes: bool) {
        let (c, i) = self.rows.locate(row);
        let ch = &self.chunks[c];
        let col = if side == 0 {
            &ch.left_value
        } else {
            &ch.right_value
        };
        if bytes {
            col.prefetch_bytes(i)
        } else {
            col.prefetch_slot(i)
        }
    }

    /// The buffers holding all value bytes (for zero-copy output).
    pub(crate) fn value_buffers(&self, out: &mut Vec<Buffer>) {
        for ch in &self.chunks {
            ch.left_value.data_buffers(out);
            ch.right_value.data_buffers(out);
        }
    }

    /// `observed_at` of `row` in ms, [`NEVER`] when null or absent.
    pub(crate) fn observed_ms(&self, row: usize) -> i64 {
        let (c, i) = self.rows.locate(row);
        self.chunks[c].observed_at.map_or(NEVER, |t| t.get_ms(i))
    }
}
