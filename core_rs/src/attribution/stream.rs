//! Building blocks of the streamed driver (`omniplug.attribute_stream`).
//!
//! The in-memory driver ([`attribute`](super::attribute)) walks persons in
//! [`N_CHUNKS`] fixed reduction chunks (a person's chunk is a function of its
//! id alone) and merges the chunk accumulators in chunk order. A streamed run
//! reproduces that exactly without holding the input:
//!
//! 1. each incoming batch gets its person ids ([`PersonKeys`], identical to
//!    the in-memory resolution), its group-by values are entered in global
//!    first-appearance dictionaries ([`GroupDicts`]), and its rows are split
//!    by reduction chunk ([`split_by_partition`]) and spilled to disk, one
//!    spill partition per chunk, rows kept in input order;
//! 2. each spill partition is attributed alone by the in-memory engine: all
//!    its persons fall in one chunk, so its output is that chunk's
//!    accumulator (the other 63 chunks are empty and add nothing);
//! 3. [`StreamMerger`] adds the partition outputs in partition order, which
//!    is the in-memory merge order, and numbers and sorts the output groups
//!    by the global dictionaries, as the in-memory output is.
//!
//! Every accumulator starts at `+0.0` and adds in the same order as in
//! memory, so the streamed sums are bit-identical to the in-memory ones.
//! Memory: the largest spill partition (about 1/64 of the input) while
//! attributing, plus the dictionaries (distinct identifiers and distinct
//! group-by values) and the output groups.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

use super::hashing::{fx_map, FxMap};
use super::partition::{chunk_of, N_CHUNKS};
use crate::error::{CoreError, CoreResult};

/// Number of spill partitions: one per reduction chunk of the engine.
pub const SPILL_PARTITIONS: usize = N_CHUNKS;

/// The spill partition of every row: returns the row numbers grouped by
/// partition (input order inside each partition) and the `SPILL_PARTITIONS + 1`
/// offsets delimiting each partition's rows.
pub fn split_by_partition(person: &[i64]) -> (Vec<u32>, Vec<usize>) {
    let part: Vec<u8> = person.iter().map(|&p| chunk_of(p) as u8).collect();
    let mut offsets = vec![0usize; SPILL_PARTITIONS + 1];
    for &p in &part {
        offsets[p as usize + 1] += 1;
    }
    for i in 0..SPILL_PARTITIONS {
        offsets[i + 1] += offsets[i];
    }
    let mut cursor = offsets.clone();
    let mut rows = vec![0u32; person.len()];
    for (i, &p) in part.iter().enumerate() {
        rows[cursor[p as usize]] = i as u32;
        cursor[p as usize] += 1;
    }
    (rows, offsets)
}

/// Person ids of `(id_type, id_value)` keys, assigned as the in-memory
/// resolution assigns them over the touchpoints followed by the orders.
///
/// Every non-null key gets a code by first appearance (the in-memory
/// driver's dictionary encoding). Without a persons lookup the code is the
/// person; with one, a key the lookup knows takes its person and any other
/// key stands alone as `floor - code`, below every real person id.
pub struct PersonKeys {
    codes: FxMap<Box<str>, i64>,
    lookup: Option<FxMap<Box<str>, i64>>,
    floor: i64,
}

impl PersonKeys {
    /// Keys are their own persons.
    pub fn pairs() -> Self {
        PersonKeys {
            codes: fx_map(1024),
            lookup: None,
            floor: 0,
        }
    }

    /// Keys resolve through `(key, person)` pairs (the persons table). Null
    /// keys or persons never match (as in a join); a repeated key keeps its
    /// first person.
    pub fn with_persons<'s>(
        pairs: impl IntoIterator<Item = (Option<&'s str>, Option<i64>)>,
    ) -> Self {
        let mut lookup: FxMap<Box<str>, i64> = fx_map(1024);
        let mut min: Option<i64> = None;
        for (k, p) in pairs {
            if let Some(p) = p {
                min = Some(min.map_or(p, |m: i64| m.min(p)));
                if let Some(k) = k {
                    lookup.entry(k.into()).or_insert(p);
                }
            }
        }
        // The in-memory floor: one below the smallest person id (-1 without any).
        let floor = min.unwrap_or(0).saturating_sub(1);
        PersonKeys {
            codes: fx_map(1024),
            lookup: Some(lookup),
            floor,
        }
    }

    /// Resolve the next keys (in input order); `None` for a null key.
    pub fn resolve<'s>(
        &mut self,
        keys: impl IntoIterator<Item = Option<&'s str>>,
    ) -> Vec<Option<i64>> {
        keys.into_iter()
            .map(|k| {
                let k = k?;
                let code = match self.codes.get(k) {
                    Some(&c) => c,
                    None => {
                        let c = self.codes.len() as i64;
                        self.codes.insert(k.into(), c);
                        c
                    }
                };
                Some(match &self.lookup {
                    None => code,
                    Some(l) => l.get(k).copied().unwrap_or(self.floor - code),
                })
            })
            .collect()
    }
}

/// Global first-appearance dictionaries of the group-by columns, the codes
/// the in-memory engine gives the same values over the whole touch table.
pub struct GroupDicts {
    maps: Vec<FxMap<Box<str>, u32>>,
    nulls: Vec<Option<u32>>,
    values: Vec<Vec<Option<Box<str>>>>,
}

impl GroupDicts {
    /// Empty dictionaries for `columns` group-by columns.
    pub fn new(columns: usize) -> Self {
        GroupDicts {
            maps: (0..columns).map(|_| fx_map(64)).collect(),
            nulls: vec![None; columns],
            values: vec![Vec::new(); columns],
        }
    }

    /// Enter the values of the next rows of column `col`, in input order.
    pub fn observe<'s>(&mut self, col: usize, items: impl IntoIterator<Item = Option<&'s str>>) {
        for v in items {
            if self.code(col, v).is_none() {
                let c = self.values[col].len() as u32;
                match v {
                    Some(s) => {
                        self.maps[col].insert(s.into(), c);
                    }
                    None => self.nulls[col] = Some(c),
                }
                self.values[col].push(v.map(Into::into));
            }
        }
    }

    /// The code of a value of column `col`, if seen.
    pub fn code(&self, col: usize, value: Option<&str>) -> Option<u32> {
        match value {
            Some(s) => self.maps[col].get(s).copied(),
            None => self.nulls[col],
        }
    }

    /// The distinct values of column `col`, by code.
    pub(crate) fn values_of(&self, col: usize) -> &[Option<Box<str>>] {
        &self.values[col]
    }

    fn value(&self, col: usize, code: u32) -> Option<&str> {
        self.values[col][code as usize].as_deref()
    }
}

/// Adds per-partition outputs of the engine in partition order and builds
/// the output table the in-memory engine would have built.
pub struct StreamMerger {
    names: Vec<String>,
    columns: usize,
    /// `[model, code of each group-by column]` → index into the sums.
    slots: FxMap<Box<[u32]>, usize>,
    conversions: Vec<f64>,
    revenue: Vec<f64>,
    unattributed_n: Vec<f64>,
    unattributed_rev: Vec<f64>,
}

fn strings<'a>(array: &'a dyn Array, what: &str) -> CoreResult<&'a StringArray> {
    array.as_string_opt::<i32>().ok_or_else(|| {
        CoreError::invalid(format!("{what} must be utf8, got {}", array.data_type()))
    })
}

fn floats<'a>(array: &'a dyn Array, what: &str) -> CoreResult<&'a [f64]> {
    array
        .as_primitive_opt::<Float64Type>()
        .map(|a| a.values().as_ref())
        .ok_or_else(|| {
            CoreError::invalid(format!("{what} must be float64, got {}", array.data_type()))
        })
}

impl StreamMerger {
    /// A merger for models `names` (in config order) and `columns` group-by columns.
    pub fn new(names: Vec<String>, columns: usize) -> Self {
        let m = names.len();
        StreamMerger {
            names,
            columns,
            slots: fx_map(1024),
            conversions: Vec::new(),
            revenue: Vec::new(),
            unattributed_n: vec![0.0; m],
            unattributed_rev: vec![0.0; m],
        }
    }

    /// Add the engine's output for the next spill partition: columns
    /// `model`, the group-by columns, `conversions`, `revenue`, `attributed`
    /// (model-major, each model closed by its `attributed = false` row).
    pub fn add(&mut self, dicts: &GroupDicts, batch: &RecordBatch) -> CoreResult<()> {
        let k = self.columns;
        if batch.num_columns() != k + 4 {
            return Err(CoreError::invalid(format!(
                "partition output has {} columns, expected {}",
                batch.num_columns(),
                k + 4
            )));
        }
        let keys: Vec<&StringArray> = (1..=k)
            .map(|j| strings(batch.column(j).as_ref(), "group-by column"))
            .collect::<CoreResult<_>>()?;
        let conv = floats(batch.column(k + 1).as_ref(), "conversions")?;
        let rev = floats(batch.column(k + 2).as_ref(), "revenue")?;
        let attributed = batch
            .column(k + 3)
            .as_boolean_opt()
            .ok_or_else(|| CoreError::invalid("partition output: attributed must be boolean"))?;
        let mut model = 0usize;
        let mut key = vec![0u32; k + 1];
        for row in 0..batch.num_rows() {
            if model >= self.names.len() {
                return Err(CoreError::invalid(
                    "partition output has more models than the config",
                ));
            }
            if !attributed.value(row) {
                self.unattributed_n[model] += conv[row];
                self.unattributed_rev[model] += rev[row];
                model += 1;
                continue;
            }
            key[0] = model as u32;
            for (j, col) in keys.iter().enumerate() {
                let v = col.is_valid(row).then(|| col.value(row));
                key[j + 1] = dicts.code(j, v).ok_or_else(|| {
                    CoreError::Internal(format!("group value {v:?} was never observed"))
                })?;
            }
            let next = self.conversions.len();
            let slot = match self.slots.get(key.as_slice()) {
                Some(&s) => s,
                None => {
                    self.slots.insert(key.clone().into_boxed_slice(), next);
                    self.conversions.push(0.0);
                    self.revenue.push(0.0);
                    next
                }
            };
            self.conversions[slot] += conv[row];
            self.revenue[slot] += rev[row];
        }
        if model != self.names.len() {
            return Err(CoreError::invalid(format!(
                "partition output has {model} models, the config {}",
                self.names.len()
            )));
        }
        Ok(())
    }

    /// The merged table: per model, the credited groups by ascending global
    /// codes, then its `attributed = false` row.
    pub fn finish(self, dicts: &GroupDicts, group_by: &[String]) -> CoreResult<RecordBatch> {
        let mut entries: Vec<(Box<[u32]>, usize)> = self.slots.into_iter().collect();
        entries.sort_unstable();
        let mut model = Vec::new();
        let mut keys: Vec<Vec<Option<&str>>> = vec![Vec::new(); self.columns];
        let (mut conv, mut rev, mut attributed) = (Vec::new(), Vec::new(), Vec::new());
        let mut it = entries.iter().peekable();
        for (m, name) in self.names.iter().enumerate() {
            while let Some((key, slot)) = it.next_if(|(key, _)| key[0] as usize == m) {
                if self.conversions[*slot] != 0.0 {
                    model.push(name.as_str());
                    for (j, col) in keys.iter_mut().enumerate() {
                        col.push(dicts.value(j, key[j + 1]));
                    }
                    conv.push(self.conversions[*slot]);
                    rev.push(self.revenue[*slot]);
                    attributed.push(true);
                }
            }
            model.push(name.as_str());
            keys.iter_mut().for_each(|c| c.push(None));
            conv.push(self.unattributed_n[m]);
            rev.push(self.unattributed_rev[m]);
            attributed.push(false);
        }
        let mut fields = vec![Field::new("model", DataType::Utf8, false)];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(model))];
        for (name, col) in group_by.iter().zip(keys) {
            fields.push(Field::new(name, DataType::Utf8, true));
            columns.push(Arc::new(col.into_iter().collect::<StringArray>()));
        }
        fields.push(Field::new("conversions", DataType::Float64, false));
        columns.push(Arc::new(Float64Array::from(conv)));
        fields.push(Field::new("revenue", DataType::Float64, false));
        columns.push(Arc::new(Float64Array::from(rev)));
        fields.push(Field::new("attributed", DataType::Boolean, false));
        columns.push(Arc::new(BooleanArray::from(attributed)));
        Ok(RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_input_order_inside_partitions() {
        let person: Vec<i64> = (0..5000).map(|i| (i * 7919) % 613 - 300).collect();
        let (rows, offsets) = split_by_partition(&person);
        assert_eq!(offsets[SPILL_PARTITIONS], person.len());
        let mut seen = vec![false; person.len()];
        for p in 0..SPILL_PARTITIONS {
            let part = &rows[offsets[p]..offsets[p + 1]];
            assert!(part.windows(2).all(|w| w[0] < w[1]));
            for &r in part {
                assert_eq!(chunk_of(person[r as usize]), p);
                seen[r as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn person_keys_match_first_appearance_and_lookup() {
        let mut pairs = PersonKeys::pairs();
        let got = pairs.resolve([Some("a"), Some("b"), None, Some("a")]);
        assert_eq!(got, vec![Some(0), Some(1), None, Some(0)]);
        assert_eq!(
            pairs.resolve([Some("c"), Some("b")]),
            vec![Some(2), Some(1)]
        );

        let mut looked = PersonKeys::with_persons([
            (Some("b"), Some(10)),
            (Some("z"), Some(4)),
            (Some("b"), Some(11)),
        ]);
        // floor = 4 - 1; "a" has code 0, "c" code 2 ("b" took code 1).
        assert_eq!(
            looked.resolve([Some("a"), Some("b"), Some("c")]),
            vec![Some(3), Some(10), Some(1)]
        );
    }

    #[test]
    fn merger_adds_in_order_and_sorts_by_global_codes() {
        let mut dicts = GroupDicts::new(1);
        dicts.observe(0, [Some("y"), None, Some("x")]);
        let batch = |keys: Vec<Option<&str>>, conv: Vec<f64>, attr: Vec<bool>| {
            let schema = Arc::new(Schema::new(vec![
                Field::new("model", DataType::Utf8, false),
                Field::new("g", DataType::Utf8, true),
                Field::new("conversions", DataType::Float64, false),
                Field::new("revenue", DataType::Float64, false),
                Field::new("attributed", DataType::Boolean, false),
            ]));
            let n = keys.len();
            RecordBatch::try_new(
                schema,
                vec![
                    Arc::new(StringArray::from_iter_values(std::iter::repeat_n("m", n)))
                        as ArrayRef,
                    Arc::new(keys.into_iter().collect::<StringArray>()),
                    Arc::new(Float64Array::from(conv.clone())),
                    Arc::new(Float64Array::from(conv)),
                    Arc::new(BooleanArray::from(attr)),
                ],
            )
            .unwrap()
        };
        let mut m = StreamMerger::new(vec!["m".into()], 1);
        m.add(
            &dicts,
            &batch(
                vec![Some("x"), None, None],
                vec![0.1, 0.2, 1.0],
                vec![true, true, false],
            ),
        )
        .unwrap();
        m.add(
            &dicts,
            &batch(
                vec![Some("x"), Some("y"), None],
                vec![0.2, 0.5, 2.0],
                vec![true, true, false],
            ),
        )
        .unwrap();
        let out = m.finish(&dicts, &["g".to_string()]).unwrap();
        let g = out.column(1).as_string::<i32>();
        let got: Vec<Option<&str>> = (0..out.num_rows())
            .map(|i| g.is_valid(i).then(|| g.value(i)))
            .collect();
        assert_eq!(got, vec![Some("y"), None, Some("x"), None]);
        let conv = out
            .column(2)
            .as_primitive::<Float64Type>()
            .values()
            .to_vec();
        assert_eq!(conv, vec![0.5, 0.2, 0.1 + 0.2, 3.0]);
        assert!(m_err_on_model_mismatch(&dicts));
    }

    fn m_err_on_model_mismatch(dicts: &GroupDicts) -> bool {
        let mut m = StreamMerger::new(vec!["a".into(), "b".into()], 0);
        let schema = Arc::new(Schema::new(vec![
            Field::new("model", DataType::Utf8, false),
            Field::new("conversions", DataType::Float64, false),
            Field::new("revenue", DataType::Float64, false),
            Field::new("attributed", DataType::Boolean, false),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from_iter_values(["a"])) as ArrayRef,
                Arc::new(Float64Array::from(vec![1.0])),
                Arc::new(Float64Array::from(vec![1.0])),
                Arc::new(BooleanArray::from(vec![false])),
            ],
        )
        .unwrap();
        m.add(dicts, &b).is_err()
    }
}
