//! Entry points for the coverage-guided fuzzers (`scripts/fuzz.sh`, harnesses in `fuzz/rust/`).
//! Compiled only with the `fuzzing` feature, so the crate's parsers stay private in every app
//! build. Each function takes arbitrary bytes and panics only on a finding: a parser itself never
//! panics, whatever it is given.

use crate::http::{self, Url};
use crate::json::{self, Value};
use crate::table::JumpTable;
use std::io::{BufReader, Cursor};

/// The largest body a fuzzed response may announce (the runtime's own caps are larger; a small
/// one makes the limit checks reachable).
const MAX_BODY: usize = 64 * 1024;

/// Reads `data` as the server's answer the way `http::send` does (the first byte's low bit picks
/// a `HEAD` request, its next bit a one-byte read buffer, so reads split anywhere), then what the
/// client does with a body: parse it as JSON, read a patch list and its jump tables, and an error
/// body. Then the URL reader on the first line (the runtime parses `WHISKER_DEV_SERVER` and every
/// `libraryUrl`).
pub fn http_response(data: &[u8]) {
    let (flags, rest) = match data.split_first() {
        Some((flags, rest)) => (*flags, rest),
        None => return,
    };
    let head_only = flags & 1 == 1;
    let parsed = if flags & 2 == 2 {
        http::read_response(&mut BufReader::with_capacity(1, Cursor::new(rest)), head_only, MAX_BODY)
    } else {
        http::read_response(&mut Cursor::new(rest), head_only, MAX_BODY)
    };
    if let Ok(response) = parsed {
        assert!(response.body.len() <= MAX_BODY, "a {}-byte body passed the {MAX_BODY}-byte cap", response.body.len());
        assert!(!head_only || response.body.is_empty(), "a HEAD response got a body");
        let _ = response.header("Content-Type");
        json_document(&response.body_text());
    }
    if let Some(line) = std::str::from_utf8(rest).ok().and_then(|text| text.lines().next()) {
        url(line);
    }
}

/// The JSON reader on `data` (when it is UTF-8, as every body the runtime parses is after
/// `body_text`), then the readers built on it; and the writer: `quote` of any text parses back to
/// that text.
pub fn json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    json_document(&text);
    match json::parse(&json::quote(&text)) {
        Ok(Value::String(back)) => assert_eq!(back, text, "quote did not round-trip"),
        other => panic!("quote produced something that is not a string: {other:?}"),
    }
}

fn json_document(text: &str) {
    let value = match json::parse(text) {
        Ok(value) => value,
        Err(_) => return,
    };
    let _ = JumpTable::from_value(&value);
    // The long poll's answer: `{"patches":[{"id","sha256","libraryUrl","jumpTable"}…]}`.
    if let Some(items) = value.get("patches").and_then(Value::as_array) {
        for item in items {
            let _ = item.get("id").and_then(Value::as_u64);
            let _ = item.get("sha256").and_then(Value::as_str);
            if let Some(table) = item.get("jumpTable") {
                let _ = JumpTable::from_value(table);
            }
        }
    }
    // An error answer: `{"error":{"message","hint"}}`.
    if let Some(error) = value.get("error") {
        let _ = error.get("message").and_then(Value::as_str);
        let _ = error.get("hint").and_then(Value::as_str);
    }
    let _ = value.type_name();
    let _ = value.as_object().map(|members| members.len());
}

fn url(text: &str) {
    if let Ok(base) = Url::parse(text) {
        assert!(base.target.starts_with('/'), "a URL target must start with '/': {:?}", base.target);
        let joined = base.join("/api/devices");
        assert!(base.same_origin(&joined), "join changed the origin");
        let _ = base.to_string();
        for reference in ["/lib/1", "http://127.0.0.1:1/x", text] {
            if let Ok(resolved) = base.resolve(reference) {
                let _ = resolved.to_string();
            }
        }
    }
}
