//! Unit tests of the line splitter, the bounded queue and the batch body.

use super::lines::{LineSplitter, LogLine, LogQueue, Stream};
use super::sender::batch_json;
use crate::json::{self, Value};
use std::time::{Duration, Instant};

fn line(text: &str) -> LogLine {
    LogLine { stream: Stream::Stdout, time_ms: 1.5, text: text.to_string() }
}

#[test]
fn the_splitter_cuts_at_newlines_across_chunks_and_keeps_the_rest() {
    let mut splitter = LineSplitter::new(1024);
    assert_eq!(splitter.push(b"one\ntw"), ["one"]);
    assert!(splitter.has_partial());
    assert_eq!(splitter.push(b"o\r\n\nthree"), ["two", ""]);
    assert_eq!(splitter.flush().as_deref(), Some("three"));
    assert_eq!(splitter.flush(), None);
    assert!(!splitter.has_partial());
}

#[test]
fn the_splitter_cuts_endless_lines_and_replaces_invalid_utf8() {
    let mut splitter = LineSplitter::new(4);
    assert_eq!(splitter.push(b"abcdefghij\n"), ["abcd", "efgh", "ij"]);
    assert_eq!(splitter.push(b"\xffok\n"), ["\u{fffd}ok"]);
    // "ü" and "ï" are two bytes each: a cut never splits one.
    assert_eq!(splitter.push("aüïb\n".as_bytes()), ["aü", "ïb"]);
    assert_eq!(splitter.push("abcü\n".as_bytes()), ["abc", "ü"]);
}

#[test]
fn a_full_queue_drops_the_oldest_lines_and_counts_them() {
    let queue = LogQueue::new(3, 1 << 20);
    for n in 0..5 {
        queue.push(line(&format!("line {n}")));
    }
    assert_eq!(queue.len(), 3);
    let (batch, dropped) = queue.take_batch(10, 1 << 20);
    assert_eq!(batch.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["line 2", "line 3", "line 4"]);
    assert_eq!(dropped, 2);
    let (batch, dropped) = queue.take_batch(10, 1 << 20);
    assert!(batch.is_empty() && dropped == 0, "the count went with its batch");

    // The byte limit evicts too, but never the line just pushed.
    let queue = LogQueue::new(100, 10);
    queue.push(line("12345678"));
    queue.push(line("abcdefgh"));
    queue.push(line("a line longer than the whole limit"));
    let (batch, dropped) = queue.take_batch(10, 1 << 20);
    assert_eq!(batch.len(), 1);
    assert_eq!(dropped, 2);
}

#[test]
fn batches_respect_their_limits_and_failed_ones_are_counted() {
    let queue = LogQueue::new(100, 1 << 20);
    for n in 0..7 {
        queue.push(line(&format!("{n}")));
    }
    let (batch, _) = queue.take_batch(3, 1 << 20);
    assert_eq!(batch.len(), 3);
    let (batch, _) = queue.take_batch(100, 2);
    assert_eq!(batch.len(), 2, "the byte limit, past the first line");
    queue.add_dropped(5);
    assert!(queue.wait(Duration::ZERO));
    let (batch, dropped) = queue.take_batch(100, 1 << 20);
    assert_eq!((batch.len(), dropped), (2, 5));
}

#[test]
fn waiting_returns_when_a_line_arrives_or_the_time_is_up() {
    let queue = std::sync::Arc::new(LogQueue::new(10, 1024));
    let started = Instant::now();
    assert!(!queue.wait(Duration::from_millis(30)));
    assert!(started.elapsed() >= Duration::from_millis(30));
    let pusher = queue.clone();
    let thread = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        pusher.push(line("late"));
    });
    let started = Instant::now();
    assert!(queue.wait(Duration::from_secs(10)));
    assert!(started.elapsed() < Duration::from_secs(5));
    thread.join().unwrap();
}

#[test]
fn the_batch_body_is_json_with_stream_time_text_and_dropped() {
    let lines = [line("say \"hi\"\t\u{1}"), LogLine { stream: Stream::Stderr, time_ms: 1700000000123.25, text: String::new() }];
    let body = batch_json(&lines, 7);
    let value = json::parse(&body).expect("valid JSON");
    assert_eq!(value.get("dropped").and_then(Value::as_u64), Some(7));
    let items = value.get("lines").and_then(Value::as_array).expect("lines");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].get("stream").and_then(Value::as_str), Some("stdout"));
    assert_eq!(items[0].get("text").and_then(Value::as_str), Some("say \"hi\"\t\u{1}"));
    assert_eq!(items[1].get("stream").and_then(Value::as_str), Some("stderr"));
    assert!(body.contains("\"time\":1700000000123.250"), "{body}");
    assert_eq!(batch_json(&[], 0), r#"{"lines":[],"dropped":0}"#);
}
