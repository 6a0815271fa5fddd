//! Rust core of omniplug.
//!
//! The algorithm modules are plain Rust over `arrow-array` types: no Python
//! types appear in them, so `cargo test` exercises them without an
//! interpreter. The only place that knows about Python is [`bindings`], built
//! when the `python` feature is on (maturin turns it on).

pub mod attribution;
pub mod error;
pub mod fingerprint;
pub mod hamming_index;
pub mod parallel;
pub mod stitch;

#[cfg(feature = "python")]
mod bindings;

pub use error::{CoreError, CoreResult};
