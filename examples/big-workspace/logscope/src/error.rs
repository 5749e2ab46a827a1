//! Errors of every logscope stage.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("line {line}: cannot parse as {format}: {reason}")]
    Parse { line: usize, format: &'static str, reason: String },
    #[error("query error at column {column}: {message}")]
    Query { column: usize, message: String },
    #[error("configuration error: {0}")]
    Config(String),
    #[error("report error: {0}")]
    Report(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn parse(line: usize, format: &'static str, reason: impl Into<String>) -> Self {
        Error::Parse { line, format, reason: reason.into() }
    }

    pub fn query(column: usize, message: impl Into<String>) -> Self {
        Error::Query { column, message: message.into() }
    }
}
