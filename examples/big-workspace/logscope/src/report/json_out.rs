//! JSON output: the whole report, pretty-printed.

use super::{report_error, Report};
use crate::error::Result;

pub fn render(report: &Report) -> Result<String> {
    serde_json::to_string_pretty(report).map_err(report_error)
}
