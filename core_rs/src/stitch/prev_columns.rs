//! The previous `persons` table, borrowed like the links (see
//! [`super::columns`]): chunks of id_type, id_value and person_id.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, Int64Array, RecordBatch};
use arrow_buffer::Buffer;

use super::columns::Chunking;
use super::strings::StrCol;
use crate::error::{CoreError, CoreResult};

struct PersonChunk<'a> {
    id_type: StrCol<'a>,
    id_value: StrCol<'a>,
    person_id: &'a Int64Array,
}

/// A previous `persons` table (id_type, id_value, person_id int64), borrowed.
#[derive(Default)]
pub struct PersonsColumns<'a> {
    chunks: Vec<PersonChunk<'a>>,
    rows: Chunking,
}

impl<'a> PersonsColumns<'a> {
    /// An empty previous-persons table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append one chunk given as arrays; `person_id` must be int64.
    pub fn push_arrays(
        &mut self,
        id_type: &'a dyn Array,
        id_value: &'a dyn Array,
        person_id: &'a dyn Array,
    ) -> CoreResult<()> {
        let n = id_type.len();
        if id_value.len() != n || person_id.len() != n {
            return Err(CoreError::invalid(
                "previous persons: id_type, id_value and person_id have different lengths",
            ));
        }
        let person_id = person_id.as_primitive_opt::<Int64Type>().ok_or_else(|| {
            CoreError::invalid(format!(
                "column person_id: expected int64, found {}",
                person_id.data_type()
            ))
        })?;
        self.chunks.push(PersonChunk {
            id_type: StrCol::new(id_type, "id_type")?,
            id_value: StrCol::new(id_value, "id_value")?,
            person_id,
        });
        self.rows.push(n);
        Ok(())
    }

    /// Append one record batch with id_type, id_value and person_id.
    pub fn push_batch(&mut self, batch: &'a RecordBatch) -> CoreResult<()> {
        let col = |name: &str| -> CoreResult<&'a dyn Array> {
            batch
                .column_by_name(name)
                .map(|c| c.as_ref())
                .ok_or_else(|| {
                    CoreError::invalid(format!("previous persons: missing column {name}"))
                })
        };
        self.push_arrays(col("id_type")?, col("id_value")?, col("person_id")?)
    }

    /// All batches of a table, in order.
    pub fn from_batches(batches: &'a [RecordBatch]) -> CoreResult<Self> {
        let mut p = Self::new();
        for b in batches {
            p.push_batch(b)?;
        }
        Ok(p)
    }

    /// Number of rows over all chunks.
    pub fn len(&self) -> usize {
        self.rows.rows
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.rows == 0
    }

    /// The buffers holding all value bytes (for zero-copy output).
    pub(crate) fn value_buffers(&self, out: &mut Vec<Buffer>) {
        for ch in &self.chunks {
            ch.id_value.data_buffers(out);
        }
    }

    /// Value of global `row` (the type is not read).
    #[inline]
    pub(crate) fn value(&self, row: usize) -> Option<&'a [u8]> {
        let (c, i) = self.rows.locate(row);
        self.chunks[c].id_value.get(i)
    }

    /// Type, value and whether the person id is set, of global `row`.
    #[inline]
    pub(crate) fn row(&self, row: usize) -> (Option<&'a [u8]>, Option<&'a [u8]>, bool) {
        let (c, i) = self.rows.locate(row);
        let ch = &self.chunks[c];
        (
            ch.id_type.get(i),
            ch.id_value.get(i),
            !ch.person_id.is_null(i),
        )
    }

    /// Copy the types (`values == false`) or values of rows `r0..r1` (all
    /// non-null) like [`StrCol::copy_rows`], across chunks.
    pub(crate) fn copy_rows(
        &self,
        values: bool,
        r0: usize,
        r1: usize,
        out: &mut [u8],
        offsets: &mut [i32],
        base: usize,
    ) -> usize {
        let (mut row, mut at) = (r0, 0usize);
        while row < r1 {
            let (c, i0) = self.rows.locate(row);
            let stop = r1.min(self.rows.end(c));
            let ch = &self.chunks[c];
            let col = if values { &ch.id_value } else { &ch.id_type };
            let n = stop - row;
            at += col.copy_rows(
                i0,
                i0 + n,
                &mut out[at..],
                &mut offsets[row - r0..stop - r0],
                base + at,
            );
            row = stop;
        }
        at
    }

    /// Calls `f(row, type, value, has_person_id)` for rows `start..end`,
    /// walking the chunks in order.
    #[inline]
    pub(crate) fn scan(
        &self,
        start: usize,
        end: usize,
        mut f: impl FnMut(usize, Option<&'a [u8]>, Option<&'a [u8]>, bool),
    ) {
        let mut row = start;
        while row < end {
            let (c, i0) = self.rows.locate(row);
            let ch = &self.chunks[c];
            let stop = end.min(self.rows.end(c));
            for r in row..stop {
                let i = i0 + (r - row);
                f(
                    r,
                    ch.id_type.get(i),
                    ch.id_value.get(i),
                    !ch.person_id.is_null(i),
                );
            }
            row = stop;
        }
    }

    /// Prefetch (stage 1 slot or stage 2 bytes) of a value.
    #[inline]
    pub(crate) fn prefetch_value(&self, row: usize, bytes: bool) {
        let (c, i) = self.rows.locate(row);
        let col = &self.chunks[c].id_value;
        if bytes {
            col.prefetch_bytes(i)
        } else {
            col.prefetch_slot(i)
        }
    }

    /// Person id of global `row`, `None` when null.
    #[inline]
    pub(crate) fn person_id(&self, row: usize) -> Option<i64> {
        let (c, i) = self.rows.locate(row);
        let a = self.chunks[c].person_id;
        (!a.is_null(i)).then(|| a.value(i))
    }
}
