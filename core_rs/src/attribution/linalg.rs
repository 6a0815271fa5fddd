//! Dense LU factorisation for the Markov model's absorption probabilities.

use rayon::prelude::*;

use crate::error::{CoreError, CoreResult};

/// `P·A = L·U` of a row-major `n × n` matrix, by Gaussian elimination with
/// partial pivoting. The Markov systems `(I - Q) x = r` are non-singular
/// M-matrices (every transient state of an observed chain reaches
/// absorption), so a zero pivot means a bug.
pub(crate) struct Lu {
    n: usize,
    /// L below the diagonal (unit diagonal implied), U on and above.
    lu: Vec<f64>,
    /// Row `k` of the factored matrix is row `perm[k]` of the input.
    perm: Vec<usize>,
}

impl Lu {
    pub(crate) fn factor(mut a: Vec<f64>, n: usize) -> CoreResult<Lu> {
        debug_assert_eq!(a.len(), n * n);
        let mut perm: Vec<usize> = (0..n).collect();
        for k in 0..n {
            let (mut p, mut best) = (k, a[k * n + k].abs());
            for i in k + 1..n {
                let v = a[i * n + k].abs();
                if v > best {
                    p = i;
                    best = v;
                }
            }
            if !(best > 0.0 && best.is_finite()) {
                return Err(CoreError::Internal(format!(
                    "singular Markov system at column {k} of {n}"
                )));
            }
            if p != k {
                for j in 0..n {
                    a.swap(k * n + j, p * n + j);
                }
                perm.swap(k, p);
            }
            let (upper, lower) = a.split_at_mut((k + 1) * n);
            let pivot_row = &upper[k * n..];
            let pivot = pivot_row[k];
            for row in lower.chunks_exact_mut(n) {
                let f = row[k] / pivot;
                row[k] = f;
                if f != 0.0 {
                    for j in k + 1..n {
                        row[j] -= f * pivot_row[j];
                    }
                }
            }
        }
        Ok(Lu { n, lu: a, perm })
    }

    /// Solve `A x = b`.
    pub(crate) fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.n;
        let mut x: Vec<f64> = self.perm.iter().map(|&p| b[p]).collect();
        for i in 0..n {
            let row = &self.lu[i * n..i * n + i];
            let s: f64 = row.iter().zip(&x[..i]).map(|(l, v)| l * v).sum();
            x[i] -= s;
        }
        for i in (0..n).rev() {
            let row = &self.lu[i * n..(i + 1) * n];
            let s: f64 = row[i + 1..]
                .iter()
                .zip(&x[i + 1..])
                .map(|(u, v)| u * v)
                .sum();
            x[i] = (x[i] - s) / row[i];
        }
        x
    }

    /// `A^{-1}`, column by column (columns in parallel; each column is
    /// computed the same way at any thread count). Returned column-major:
    /// entry `(i, j)` is at `j * n + i`.
    pub(crate) fn inverse_columns(&self) -> Vec<f64> {
        let n = self.n;
        (0..n)
            .into_par_iter()
            .flat_map_iter(|j| {
                let mut e = vec![0.0; n];
                e[j] = 1.0;
                self.solve(&e)
            })
            .collect()
    }
}

/// Solve a small dense system `a · x = b` (row-major `a`).
pub(crate) fn solve_dense(a: Vec<f64>, b: &[f64]) -> CoreResult<Vec<f64>> {
    Ok(Lu::factor(a, b.len())?.solve(b))
}
