//! Errors of the Rust core. Each variant maps onto one class of the Python
//! hierarchy in `omniplug.errors` (see `bindings::to_py_err`), so a user
//! catches `omniplug.errors.InvalidInputError` whether the check ran in
//! Python or in Rust.

use thiserror::Error;

/// Every failure the core can report.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// The caller's data is wrong: a missing column, a wrong type, a bad
    /// parameter. The message names the column/row/parameter and the rule.
    #[error("{0}")]
    InvalidInput(String),
    /// A resource limit protecting the process was hit (e.g. an image larger
    /// than the pixel budget).
    #[error("{0}")]
    LimitExceeded(String),
    /// A bug in the core: an invariant that should always hold did not.
    #[error("internal error in omniplug core: {0}")]
    Internal(String),
}

/// Result alias used throughout the core.
pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    /// Shorthand for an [`CoreError::InvalidInput`] with a formatted message.
    pub fn invalid(msg: impl Into<String>) -> Self {
        CoreError::InvalidInput(msg.into())
    }
}

impl From<arrow_schema::ArrowError> for CoreError {
    fn from(e: arrow_schema::ArrowError) -> Self {
        CoreError::InvalidInput(format!("arrow: {e}"))
    }
}
