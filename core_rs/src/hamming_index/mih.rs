//! Multi-index hashing (Norouzi, Punjani, Fleet: "Fast Exact Search in
//! Hamming Space with Multi-Index Hashing", 2014).
//!
//! Each code is cut into `m` chunks that never straddle a 64-bit word; each
//! chunk position has a table from chunk value to the rows holding it
//! (counting-sort CSR: `offsets[value]..offsets[value + 1]` in `ids`).
//!
//! Pigeonhole, refined: write the radius as `r = m q + a` (`0 <= a < m`). If
//! `d(x, y) <= r`, then one of the first `a + 1` chunks differs in at most
//! `q` bits, or one of the others in at most `q - 1` bits (otherwise the
//! chunk distances would add up to at least `(a + 1)(q + 1) + (m - a - 1) q
//! = r + 1`). So chunk `i` is probed with every value within radius `q`
//! (`i <= a`) or `q - 1` (`i > a`, skipped when negative), every candidate
//! is verified on the full code, and a match is reported only from the first
//! chunk that can reach it, so each appears exactly once without a visited
//! set. When the probes would cost more than a scan (large radius, small
//! index) the query scans all codes instead; both paths are exact.

/// One chunk: `bits` bits of word `word` starting at bit `shift`.
#[derive(Debug, Clone, Copy)]
struct Chunk {
    word: usize,
    shift: u32,
    bits: u32,
}

impl Chunk {
    #[inline]
    fn value<const W: usize>(&self, code: &[u64; W]) -> usize {
        ((code[self.word] >> self.shift) & ((1u64 << self.bits) - 1)) as usize
    }
}

/// One chunk position's table.
#[derive(Debug, Clone)]
struct Table<const W: usize> {
    offsets: Vec<u32>,
    ids: Vec<u32>,
    /// The codes in bucket order, for one-word codes: verifying a bucket
    /// then reads contiguous memory instead of one random code per
    /// candidate. (Left empty for wider codes, where the copies per chunk
    /// would cost more memory than they save time.)
    codes: Vec<[u64; W]>,
}

/// A multi-index over `W`-word codes.
#[derive(Debug, Clone)]
pub(crate) struct Mih<const W: usize> {
    codes: Vec<[u64; W]>,
    chunks: Vec<Chunk>,
    tables: Vec<Table<W>>,
}

/// Hamming distance of two `W`-word codes.
#[inline]
pub(crate) fn distance<const W: usize>(a: &[u64; W], b: &[u64; W]) -> u32 {
    let mut d = 0;
    for i in 0..W {
        d += (a[i] ^ b[i]).count_ones();
    }
    d
}

/// Chunk width for `n` codes: about log2(n) bits, so a bucket holds about
/// one code on average, between 4 and 16 bits (2^16 offsets per table).
fn chunk_bits(n: usize) -> u32 {
    let log = usize::BITS - n.max(1).leading_zeros();
    log.clamp(4, 16)
}

/// Cut each 64-bit word into near-equal chunks of about `width` bits.
fn layout(words: usize, width: u32) -> Vec<Chunk> {
    let per_word = 64u32.div_ceil(width);
    let (base, extra) = (64 / per_word, 64 % per_word);
    let mut chunks = Vec::new();
    for word in 0..words {
        let mut shift = 0;
        for j in 0..per_word {
            let bits = base + (j < extra) as u32;
            chunks.push(Chunk { word, shift, bits });
            shift += bits;
        }
    }
    chunks
}

/// Every XOR mask of `bits` bits with at most `radius` ones.
fn masks(bits: u32, radius: u32) -> Vec<usize> {
    fn rec(bits: u32, start: u32, left: u32, mask: usize, out: &mut Vec<usize>) {
        out.push(mask);
        if left == 0 {
            return;
        }
        for b in start..bits {
            rec(bits, b + 1, left - 1, mask | (1 << b), out);
        }
    }
    let mut out = Vec::new();
    rec(bits, 0, radius.min(bits), 0, &mut out);
    out
}

fn binomial(n: u32, k: u32) -> f64 {
    (0..k.min(n)).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// How one search probes the index for a given radius.
pub(crate) struct Plan {
    radius: u32,
    /// Per chunk: the masks to probe (empty: chunk skipped).
    masks: Vec<Vec<usize>>,
    /// Per chunk: its probe radius, `None` when skipped.
    radii: Vec<Option<u32>>,
    scan: bool,
}

impl<const W: usize> Mih<W> {
    /// Index `codes` (row `i` is `codes[i]`).
    pub(crate) fn build(codes: Vec<[u64; W]>) -> Self {
        use rayon::prelude::*;
        let chunks = layout(W, chunk_bits(codes.len()));
        let tables = chunks
            .par_iter()
            .map(|c| {
                let mut offsets = vec![0u32; (1usize << c.bits) + 1];
                for code in &codes {
                    offsets[c.value(code) + 1] += 1;
                }
                for i in 1..offsets.len() {
                    offsets[i] += offsets[i - 1];
                }
                let mut next = offsets.clone();
                let mut ids = vec![0u32; codes.len()];
                for (row, code) in codes.iter().enumerate() {
                    let v = c.value(code);
                    ids[next[v] as usize] = row as u32;
                    next[v] += 1;
                }
                let codes = if W == 1 {
                    ids.iter().map(|&r| codes[r as usize]).collect()
                } else {
                    Vec::new()
                };
                Table {
                    offsets,
                    ids,
                    codes,
                }
            })
            .collect();
        Mih {
            codes,
            chunks,
            tables,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.codes.len()
    }

    /// Decide how to search at `radius`: per-chunk probe masks, or a scan
    /// when the expected probing work exceeds a scan's.
    pub(crate) fn plan(&self, radius: u32) -> Plan {
        let m = self.chunks.len() as u32;
        let (q, a) = (radius / m, radius % m);
        let radii: Vec<Option<u32>> = (0..m)
            .map(|i| if i <= a { Some(q) } else { q.checked_sub(1) })
            .collect();
        let n = self.codes.len() as f64;
        let mut cost = 0.0;
        for (c, r) in self.chunks.iter().zip(&radii) {
            if let Some(r) = *r {
                let probes: f64 = (0..=r.min(c.bits)).map(|k| binomial(c.bits, k)).sum();
                // A probe is a random access; each candidate a popcount check.
                cost += probes * 4.0 + probes * n / (1u64 << c.bits) as f64 * 2.0;
            }
        }
        let scan = cost >= n || radius as usize >= 64 * W;
        let masks = if scan {
            Vec::new()
        } else {
            let mut cache: Vec<((u32, u32), Vec<usize>)> = Vec::new();
            self.chunks
                .iter()
                .zip(&radii)
                .map(|(c, r)| match r {
                    None => Vec::new(),
                    Some(r) => {
                        if let Some((_, v)) = cache.iter().find(|(k, _)| *k == (c.bits, *r)) {
                            return v.clone();
                        }
                        let v = masks(c.bits, *r);
                        cache.push(((c.bits, *r), v.clone()));
                        v
                    }
                })
                .collect()
        };
        Plan {
            radius,
            masks,
            radii,
            scan,
        }
    }

    /// Whether a search at `radius` scans instead of probing.
    #[cfg(test)]
    pub(crate) fn is_scan(&self, radius: u32) -> bool {
        self.plan(radius).scan
    }

    /// Rows within `plan.radius` of `query`, as `(row, distance)` sorted by
    /// distance, then row.
    pub(crate) fn query(&self, query: &[u64; W], plan: &Plan, out: &mut Vec<(u32, u32)>) {
        out.clear();
        if plan.scan {
            for (row, code) in self.codes.iter().enumerate() {
                let d = distance(query, code);
                if d <= plan.radius {
                    out.push((d, row as u32));
                }
            }
        } else {
            for (i, (chunk, table)) in self.chunks.iter().zip(&self.tables).enumerate() {
                let key = chunk.value(query);
                for &mask in &plan.masks[i] {
                    let v = key ^ mask;
                    let (lo, hi) = (table.offsets[v] as usize, table.offsets[v + 1] as usize);
                    for pos in lo..hi {
                        let row = table.ids[pos];
                        let code = if table.codes.is_empty() {
                            &self.codes[row as usize]
                        } else {
                            &table.codes[pos]
                        };
                        let d = distance(query, code);
                        if d <= plan.radius && self.first_reaching_chunk(query, code, plan) == i {
                            out.push((d, row));
                        }
                    }
                }
            }
        }
        out.sort_unstable();
        for pair in out.iter_mut() {
            *pair = (pair.1, pair.0);
        }
    }

    /// The first chunk whose probe radius covers the chunk distance between
    /// `query` and `code`.
    #[inline]
    fn first_reaching_chunk(&self, query: &[u64; W], code: &[u64; W], plan: &Plan) -> usize {
        for (i, (c, r)) in self.chunks.iter().zip(&plan.radii).enumerate() {
            if let Some(r) = *r {
                let d = ((c.value(query) ^ c.value(code)) as u64).count_ones();
                if d <= r {
                    return i;
                }
            }
        }
        usize::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_covers_every_bit_once() {
        for width in 4..=16 {
            for words in [1usize, 4] {
                let chunks = layout(words, width);
                let mut seen = vec![0u8; 64 * words];
                for c in &chunks {
                    for b in c.shift..c.shift + c.bits {
                        seen[c.word * 64 + b as usize] += 1;
                    }
                    assert!(c.bits <= width && c.bits >= 1);
                }
                assert!(seen.iter().all(|&s| s == 1), "width {width}");
            }
        }
    }

    #[test]
    fn masks_are_all_small_weight_patterns() {
        let m = masks(10, 2);
        assert_eq!(m.len(), 1 + 10 + 45);
        let mut sorted = m.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), m.len());
        assert!(m.iter().all(|x| x.count_ones() <= 2 && *x < 1024));
    }
}
