//! The one error type of the crate.

use std::fmt;

/// What kind of thing went wrong; see [`Error::kind`].
///
/// New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not valid JSON.
    Json,
    /// The JSON is valid but is not a jump table (missing or malformed field, bad address).
    InvalidTable,
    /// The table was computed for another process (its `aslrReference` is not ours).
    AslrMismatch,
    /// The patch library could not be found or loaded, or its load base could not be read.
    Library,
    /// This platform cannot do what the table asks.
    Unsupported,
    /// A file or socket operation failed.
    Io,
    /// The dev server answered something unexpected.
    Http,
    /// A downloaded library does not have the announced sha256.
    Checksum,
}

/// An error of `whisker-hot`: a kind plus a message that says what failed and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into() }
    }

    /// The category of the failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable explanation (the same text `Display` prints).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
