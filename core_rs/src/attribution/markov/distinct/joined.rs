//! Reading a path string straight from an Arrow value buffer: one 8-byte
//! load per channel gives both where the name ends (the first byte of the
//! separator, found with a word trick) and the name's [`short_key`], so a
//! short channel costs a load, a few operations and one hash probe. Any
//! other case (a long or empty name, spaces to trim, a separator byte not
//! followed by the rest of the separator) reads the row again the general
//! way, [`DistinctPathsBuilder::push`], which gives the same codes and the
//! same errors.

use super::DistinctPathsBuilder;
use crate::error::CoreResult;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first byte of `word` equal to `byte` (little-endian), 8 if
/// none. The classic zero-byte test can flag a byte above a true match,
/// never below one, so the lowest flag is exact.
#[inline]
fn first_byte(word: u64, byte: u8) -> usize {
    let x = word ^ (ONES * byte as u64);
    let found = x.wrapping_sub(ONES) & !x & HIGHS;
    (found.trailing_zeros() / 8) as usize
}

/// Bit 7 of each byte of `word` set iff that byte is `byte` (exact: no
/// carry crosses a byte).
#[inline(always)]
fn equal_bytes(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * byte as u64);
    !(((x & !HIGHS).wrapping_add(!HIGHS)) | x) & HIGHS
}

/// The 8 bytes at `data[at..]`, little-endian.
#[inline(always)]
fn load(data: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"))
}

/// Whether a name starting or ending with byte `b` may need trimming (ASCII
/// space or control, or part of a multi-byte character).
#[inline]
fn maybe_space(b: u8) -> bool {
    b <= b' ' || b >= 0x80
}

impl DistinctPathsBuilder {
    /// [`push`](Self::push) of the row `text` split on `separator`, where
    /// `text` starts at byte `start` of `data` (for an Arrow string array:
    /// its whole value buffer, and the value's offset).
    #[allow(clippy::too_many_arguments)]
    pub fn push_joined(
        &mut self,
        row: usize,
        text: &str,
        data: &[u8],
        start: usize,
        separator: &str,
        conversions: f64,
        nulls: f64,
        value: Option<f64>,
        columns: [&str; 4],
    ) -> CoreResult<()> {
        debug_assert_eq!(&data[start..start + text.len()], text.as_bytes());
        let first = self.out.codes.len();
        let fast = match separator.as_bytes() {
            &[lead] => self.read_byte_separated(text, data, start, lead),
            sep => self.read_short_names(text, data, start, sep),
        };
        if fast {
            return self.end_row(row, first, conversions, nulls, value, columns);
        }
        self.out.codes.truncate(first);
        self.push(
            row,
            text.split(separator),
            conversions,
            nulls,
            value,
            columns,
        )
    }

    /// [`read_short_names`](Self::read_short_names) for a one-byte
    /// separator: the separators of 8 bytes at a time are found at once
    /// (exact byte equality in a word), so finding the next name does not
    /// wait for the previous one.
    #[inline]
    fn read_byte_separated(&mut self, text: &str, data: &[u8], start: usize, lead: u8) -> bool {
        let len = text.len();
        // Every name's 8-byte load must stay inside the buffer.
        if len == 0 || start + len + 7 > data.len() {
            return false;
        }
        let mut name = 0usize;
        let mut at = 0usize;
        while at < len {
            let mut found = equal_bytes(load(data, start + at), lead);
            if len - at < 8 {
                found &= (1u64 << (8 * (len - at))) - 1;
            }
            while found != 0 {
                let pos = at + (found.trailing_zeros() / 8) as usize;
                found &= found - 1;
                if !self.short_name(text, data, start, name, pos) {
                    return false;
                }
                name = pos + 1;
            }
            at += 8;
        }
        self.short_name(text, data, start, name, len)
    }

    /// Push the code of the name `text[a..b]` (at `data[start + a..]`, with
    /// 8 bytes readable there) if it is short and needs no trim.
    #[inline(always)]
    fn short_name(&mut self, text: &str, data: &[u8], start: usize, a: usize, b: usize) -> bool {
        let n = b - a;
        if n == 0 || n > 8 {
            return false;
        }
        let word = load(data, start + a);
        let (head, tail) = (word as u8, (word >> (8 * (n - 1))) as u8);
        if maybe_space(head) || maybe_space(tail) {
            return false;
        }
        let key = (n, word & (u64::MAX >> (64 - 8 * n)));
        let code = match self.short.get(key) {
            Some(c) => c,
            None => match text.get(a..b) {
                Some(name) => self.code(name),
                None => return false,
            },
        };
        self.out.codes.push(code);
        true
    }

    /// Push the codes of `text` if every channel is a short name needing no
    /// trim; `false` (with some codes pushed) otherwise.
    #[inline]
    fn read_short_names(&mut self, text: &str, data: &[u8], start: usize, sep: &[u8]) -> bool {
        let Some(&lead) = sep.first() else {
            return false;
        };
        let end = start + text.len();
        let mut p = start;
        // Each pass reads one name and the separator after it.
        loop {
            if p + 8 > data.len() || p >= end {
                return false;
            }
            let word = load(data, p);
            let n = first_byte(word, lead).min(end - p);
            if n == 0 || n == 8 {
                return false;
            }
            let (head, tail) = (word as u8, (word >> (8 * (n - 1))) as u8);
            if maybe_space(head) || maybe_space(tail) {
                return false;
            }
            // The name must end the row or be followed by the whole
            // separator (checked before a new name is interned).
            let last = p + n == end;
            let rest = &sep[1..];
            if !last
                && (end - p - n < sep.len()
                    || rest.iter().zip(&data[p + n + 1..]).any(|(a, b)| a != b))
            {
                return false;
            }
            let key = (n, word & (u64::MAX >> (64 - 8 * n)));
            let code = match self.short.get(key) {
                Some(c) => c,
                None => match text.get(p - start..p - start + n) {
                    Some(name) => self.code(name),
                    None => return false,
                },
            };
            self.out.codes.push(code);
            if last {
                return true;
            }
            p += n;
            p += sep.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::markov::distinct::short_key;

    #[test]
    fn first_byte_matches_a_scan() {
        let words: [&[u8; 8]; 5] = [
            b"crm>kol>",
            b"abcdefgh",
            b">>>>>>>>",
            b"\x80>\x01>x>>>",
            b"a\x00>b\xff>c>",
        ];
        for w in words {
            for byte in [b'>', b'a', 0u8, 0xff, 0x01] {
                let want = w.iter().position(|&b| b == byte).unwrap_or(8);
                assert_eq!(
                    first_byte(u64::from_le_bytes(*w), byte),
                    want,
                    "{w:?} {byte}"
                );
            }
        }
    }

    #[test]
    fn equal_bytes_flags_exactly_the_equal_bytes() {
        let mut w = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            w = w.rotate_left(13).wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x3E3E_BEBE_003E_7F3E;
            for byte in [b'>', 0xBE, 0, 0x7F, 0xFF, w as u8] {
                let want = (0..8).fold(0u64, |m, i| {
                    m | (u64::from((w >> (8 * i)) as u8 == byte) << (8 * i + 7))
                });
                assert_eq!(equal_bytes(w, byte), want, "{w:#x} {byte}");
            }
        }
    }

    #[test]
    fn keys_from_the_word_equal_short_key() {
        let data = b"paid>kol>organic>x>abcdefg>end.....";
        let mut p = 0;
        for name in ["paid", "kol", "organic", "x", "abcdefg"] {
            let word = u64::from_le_bytes(data[p..p + 8].try_into().unwrap());
            let n = name.len();
            assert_eq!((n, word & (u64::MAX >> (64 - 8 * n))), short_key(name));
            p += n + 1;
        }
    }
}
