//! Persons with `utf8_view` strings that point into the input buffers.
//!
//! At ten million links the utf8 persons table copies close to a gigabyte of
//! identifier text; a view is 16 bytes that say where the value already is
//! (values of at most 12 bytes are stored inline). The output then keeps
//! the input buffers alive (they are reference counted) instead of copying
//! them, and needs one pass instead of two.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringViewArray};
use arrow_buffer::{Buffer, ScalarBuffer};
use arrow_data::ByteView;
use arrow_schema::{DataType, Field, Schema};

use super::groups::Groups;
use super::output::{Plan, RowSink};
use super::source::Source;
use super::util::split_lengths;
use crate::error::{CoreError, CoreResult};

/// Schema of the persons table in view mode.
pub fn persons_view_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id_type", DataType::Utf8View, false),
        Field::new("id_value", DataType::Utf8View, false),
        Field::new("person_id", DataType::Int64, false),
    ]))
}

/// Longest buffer (hence largest offset) a view may name: Arrow C++
/// (pyarrow) reads view offsets as signed 32-bit integers, so a larger
/// offset would be read as negative there.
const VIEW_SPAN: usize = i32::MAX as usize;
/// Distance between the starts of overlapping windows over a longer buffer.
const WINDOW_STRIDE: usize = 1 << 30;

/// `buffers`, with each buffer longer than `span` replaced by overlapping
/// zero-copy windows of at most `span` bytes starting every `stride` bytes,
/// so any value of at most `span - stride` bytes lies wholly inside one
/// window at an offset below `span`.
fn view_windows(buffers: Vec<Buffer>, span: usize, stride: usize) -> Vec<Buffer> {
    let mut out = Vec::with_capacity(buffers.len());
    for b in buffers {
        if b.len() <= span {
            out.push(b);
            continue;
        }
        let mut start = 0;
        loop {
            let len = (b.len() - start).min(span);
            out.push(b.slice_with_length(start, len));
            if start + len >= b.len() {
                break;
            }
            start += stride;
        }
    }
    out
}

/// Finds which input buffer holds a borrowed value, by address.
struct Locator {
    /// (start address, end address, buffer index), sorted by start.
    ranges: Vec<(usize, usize, u32)>,
}

impl Locator {
    fn new(buffers: &[Buffer]) -> Locator {
        let mut ranges: Vec<(usize, usize, u32)> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| (b.as_ptr() as usize, b.as_ptr() as usize + b.len(), i as u32))
            .collect();
        ranges.sort_unstable();
        Locator { ranges }
    }

    /// (buffer index, offset) of `v` when it lies inside one buffer at an
    /// offset a view can express.
    #[inline]
    fn find(&self, v: &[u8]) -> Option<(u32, u32)> {
        let a = v.as_ptr() as usize;
        let i = self.ranges.partition_point(|r| r.0 <= a).checked_sub(1)?;
        let (start, end, idx) = self.ranges[i];
        (a + v.len() <= end).then_some(())?;
        u32::try_from(a - start).ok().map(|off| (idx, off))
    }
}

fn inline_view(v: &[u8]) -> u128 {
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&(v.len() as u32).to_le_bytes());
    bytes[4..4 + v.len()].copy_from_slice(v);
    u128::from_le_bytes(bytes)
}

fn long_view(v: &[u8], buffer_index: u32, offset: u32) -> u128 {
    let prefix = u32::from_le_bytes([v[0], v[1], v[2], v[3]]);
    ByteView {
        length: v.len() as u32,
        prefix,
        buffer_index,
        offset,
    }
    .as_u128()
}

/// View sink of one piece. Values the locator cannot place (should not
/// happen with Arrow inputs) are copied into the piece's own buffer.
struct ViewSink<'a> {
    views: &'a mut [u128],
    tviews: &'a mut [u128],
    type_views: &'a [u128],
    loc: &'a Locator,
    extra: Vec<u8>,
    extra_index: u32,
    overflow: bool,
}

impl RowSink for ViewSink<'_> {
    #[inline]
    fn row(&mut self, j: usize, _rep: u32, ty: u16, v: &[u8]) {
        self.tviews[j] = self.type_views[ty as usize];
        self.views[j] = if v.len() <= 12 {
            inline_view(v)
        } else if let Some((b, off)) = self.loc.find(v).filter(|_| v.len() <= u32::MAX as usize) {
            long_view(v, b, off)
        } else {
            let off = self.extra.len();
            if off + v.len() > VIEW_SPAN {
                self.overflow = true;
                return;
            }
            self.extra.extend_from_slice(v);
            long_view(v, self.extra_index, off as u32)
        };
    }
}

/// The persons batch with `utf8_view` strings, same rows and order as the
/// utf8 version.
pub(crate) fn persons_view(
    source: &Source<'_>,
    names: &[String],
    groups: &Groups,
    person: &[i64],
) -> CoreResult<RecordBatch> {
    let plan = Plan::new(groups, person);
    let mut buffers = view_windows(source.value_buffers(), VIEW_SPAN, WINDOW_STRIDE);
    let loc = Locator::new(&buffers);
    let mut name_bytes = Vec::new();
    let type_views: Vec<u128> = names
        .iter()
        .map(|n| {
            let n = n.as_bytes();
            if n.len() <= 12 {
                inline_view(n)
            } else {
                let off = name_bytes.len() as u32;
                name_bytes.extend_from_slice(n);
                long_view(n, 0, off)
            }
        })
        .collect();
    let (total, rows) = (plan.total, &plan.piece_rows);
    let mut views = vec![0u128; total];
    let mut tviews = vec![0u128; total];
    let first_extra = buffers.len() as u32;
    let sinks: Vec<ViewSink> = split_lengths(&mut views, rows.iter().copied())
        .into_iter()
        .zip(split_lengths(&mut tviews, rows.iter().copied()))
        .enumerate()
        .map(|(i, (views, tviews))| ViewSink {
            views,
            tviews,
            type_views: &type_views,
            loc: &loc,
            extra: Vec::new(),
            extra_index: first_extra + i as u32,
            overflow: false,
        })
        .collect();
    let (pids, sinks) = plan.run(source, groups, person, sinks);
    if sinks.iter().any(|s| s.overflow) {
        return Err(CoreError::LimitExceeded(
            "stitch: identifier text too large for a view buffer".into(),
        ));
    }
    buffers.extend(sinks.into_iter().map(|s| Buffer::from_vec(s.extra)));
    // SAFETY: every view is either inline (length <= 12, the value's bytes)
    // or names a buffer of the list, an offset and a length that locate
    // exactly the value's bytes there (found by address in that buffer, or
    // copied there); the values are whole Arrow utf8 values (valid UTF-8 by
    // the Arrow contract) or type names (Rust strings).
    let (values, types) = unsafe {
        (
            StringViewArray::new_unchecked(ScalarBuffer::from(views), buffers, None),
            StringViewArray::new_unchecked(
                ScalarBuffer::from(tviews),
                vec![Buffer::from_vec(name_bytes)],
                None,
            ),
        )
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(types),
        Arc::new(values),
        Arc::new(Int64Array::from(pids)),
    ];
    Ok(RecordBatch::try_new(persons_view_schema(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stitch_view_windows_place_every_short_value_below_the_span() {
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 7 % 251) as u8).collect();
        let whole = Buffer::from_vec(bytes.clone());
        let (span, stride) = (40, 16);
        let windows = view_windows(vec![whole.clone()], span, stride);
        assert!(windows.len() > 1 && windows.iter().all(|w| w.len() <= span));
        let loc = Locator::new(&windows);
        for start in 0..bytes.len() {
            for len in 1..=(span - stride).min(bytes.len() - start) {
                let v = &whole.as_slice()[start..start + len];
                let (b, off) = loc.find(v).expect("every short value is placed");
                let w = &windows[b as usize];
                assert!(off as usize + len <= span);
                assert_eq!(&w.as_slice()[off as usize..off as usize + len], v);
            }
        }
        let small = Buffer::from_vec(vec![1u8; 10]);
        assert_eq!(view_windows(vec![small], span, stride).len(), 1);
    }
}
